"""``minsheng token create|list|revoke``: API tokens for other systems.

The key is printed once, at creation; only its SHA-256 is stored, so a lost key cannot
be shown again: revoke it and create another.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from minsheng.core import tokens
from minsheng.core.models import ApiToken, User


class Command(BaseCommand):
    help = "管理接口令牌：create 创建（只显示一次），list 列出，revoke 吊销"

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(
            dest="subcommand", required=True, metavar="{create,list,revoke}"
        )
        create = sub.add_parser("create", help="为某个用户创建令牌，密钥只显示这一次")
        create.add_argument("--user", required=True, help="令牌代表的用户的登录名")
        create.add_argument("--name", required=True, help="调用方系统的名称，如“12345热线”")
        listing = sub.add_parser("list", help="列出令牌（不含密钥）")
        listing.add_argument("--all", action="store_true", help="也列出已吊销的")
        revoke = sub.add_parser("revoke", help="按前缀吊销一个令牌")
        revoke.add_argument("prefix", help=f"令牌的前 {tokens.PREFIX_LENGTH} 位（见 list）")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["subcommand"] == "create":
            self.create(options["user"], options["name"])
        elif options["subcommand"] == "list":
            self.list(include_revoked=options["all"])
        else:
            self.revoke(options["prefix"])

    def create(self, username: str, name: str) -> None:
        user = User.objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"没有登录名为 {username!r} 的用户")
        try:
            token, key = tokens.create_token(user, name)
        except ValidationError as error:
            raise CommandError("；".join(error.messages)) from None
        self.stdout.write(key)
        self.stderr.write(
            f"已为 {user.username} 创建令牌“{token.name}”（前缀 {token.prefix}）。"
            "密钥只显示这一次，请立即交给调用方妥善保存；"
            "调用时使用请求头 Authorization: Bearer <密钥>。",
            style_func=str,
        )

    def list(self, *, include_revoked: bool) -> None:
        queryset = ApiToken.objects.select_related("user").order_by("created_at")
        if not include_revoked:
            queryset = queryset.filter(revoked_at__isnull=True)
        rows = list(queryset)
        if not rows:
            self.stdout.write("没有令牌" if include_revoked else "没有有效的令牌")
            return
        for token in rows:
            used = _when(token.last_used_at) if token.last_used_at else "从未使用"
            state = f"已吊销 {_when(token.revoked_at)}" if token.revoked_at else "有效"
            self.stdout.write(
                f"{token.prefix}  {token.name}  用户 {token.user.username}  "
                f"创建 {_when(token.created_at)}  最近使用 {used}  {state}"
            )

    def revoke(self, prefix: str) -> None:
        matches = list(ApiToken.objects.filter(prefix=prefix.strip(), revoked_at__isnull=True))
        if not matches:
            raise CommandError(f"没有前缀为 {prefix!r} 的有效令牌（用 list 查看）")
        if len(matches) > 1:
            # Two live tokens sharing 8 random characters is all but impossible; never guess.
            names = "、".join(f"“{t.name}”" for t in matches)
            raise CommandError(f"前缀 {prefix!r} 对应多个有效令牌（{names}），未吊销任何令牌")
        token = tokens.revoke_token(matches[0].pk)
        self.stdout.write(f"已吊销令牌“{token.name}”（前缀 {token.prefix}）")


def _when(value: dt.datetime) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")
