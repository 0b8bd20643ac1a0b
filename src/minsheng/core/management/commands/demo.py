"""``minsheng demo``: load the demo county and print its logins."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from minsheng.core import demo


class Command(BaseCommand):
    help = "载入演示数据（示范县的组织机构、服务大厅、人员和各角色演示账号），并打印演示账号。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="只在数据库还没有任何部门时载入（make run 使用）",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["if_empty"] and not demo.is_empty():
            self.stdout.write("数据库已有数据，不再载入演示数据。")
        else:
            self.stdout.write(f"正在载入演示数据：{settings.COUNTY_NAME}")
            demo.load(self.stdout.write)
            self.stdout.write(self.style.SUCCESS("演示数据已载入。"))
        self.print_logins()

    def print_logins(self) -> None:
        logins = demo.logins()
        if not logins:
            return
        self.stdout.write("")
        self.stdout.write(f"演示账号（密码均为 {demo.DEMO_PASSWORD}，已修改的以新密码为准）：")
        for login in logins:
            self.stdout.write(f"  {login.username:<11} {login.role}  {login.name}")
        if settings.FORCE_PASSWORD_CHANGE:
            self.stdout.write("首次登录后须修改密码。")
