"""``minsheng serve``: the development server, or gunicorn for production-like runs."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser


class Command(BaseCommand):
    help = "启动网站：默认为开发服务器（127.0.0.1:8000）；--gunicorn 以多进程方式运行。"

    # runserver checks itself; gunicorn workers import the project on start.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "addrport", nargs="?", default="127.0.0.1:8000", help="监听地址，默认 127.0.0.1:8000"
        )
        parser.add_argument("--gunicorn", action="store_true", help="用 gunicorn 运行（生产方式）")
        parser.add_argument(
            "--workers",
            type=int,
            default=int(os.environ.get("WEB_CONCURRENCY", "0")) or (os.cpu_count() or 1) * 2 + 1,
            help="gunicorn 工作进程数，默认 CPU 数 × 2 + 1（或 WEB_CONCURRENCY）",
        )
        parser.add_argument("--noreload", action="store_true", help="开发服务器不自动重载")

    def handle(self, *args: Any, **options: Any) -> None:
        addrport: str = options["addrport"]
        # WhiteNoise warns about a missing STATIC_ROOT; collectstatic fills it for production.
        Path(settings.STATIC_ROOT).mkdir(parents=True, exist_ok=True)
        if not options["gunicorn"]:
            call_command(
                "runserver", addrport, use_reloader=not options["noreload"], skip_checks=False
            )
            return
        if options["workers"] < 1:
            raise CommandError("--workers 至少为 1")
        argv = [
            sys.executable,
            "-m",
            "gunicorn",
            "minsheng.wsgi:application",
            "--bind",
            addrport,
            "--workers",
            str(options["workers"]),
            "--access-logfile",
            "-",
            # Requests carry uploads of a few MB; a slow kiosk network should not kill them.
            "--timeout",
            "60",
            "--forwarded-allow-ips",
            os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1"),
        ]
        self.stdout.write(f"gunicorn: {addrport}, {options['workers']} 个工作进程")
        self.stdout.flush()
        # Replace this process so that systemd's signals reach gunicorn's master directly.
        os.execv(sys.executable, argv)  # noqa: S606 (fixed argv, no shell)
