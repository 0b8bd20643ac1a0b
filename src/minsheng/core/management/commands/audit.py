"""``minsheng audit verify`` checks the audit chain, ``seal`` chains the newest events now
(the worker does it by itself), ``tail`` shows the end."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from minsheng.core import audit
from minsheng.core.models.audit import AuditEvent, AuditHead

# Events are sealed within seconds while a worker runs; older ones mean none does.
STALE_PENDING = dt.timedelta(minutes=5)


class Command(BaseCommand):
    help = "校验审计链（verify）或查看最近的审计事件（tail）"
    # Checking the trail during an incident must not wait on unrelated configuration checks.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="subcommand", required=True, metavar="{verify,seal,tail}")
        check = sub.add_parser(
            "verify", help="重新计算整条哈希链，报告第一处断裂；断裂时退出码为 1"
        )
        check.add_argument(
            "--every",
            type=int,
            default=10_000,
            help="每校验多少条事件显示一次进度（默认 10000；-v 0 不显示）",
        )
        sub.add_parser("seal", help="把尚未封存的事件立即链入审计链（通常由 worker 自动完成）")
        tail = sub.add_parser("tail", help="按时间顺序列出最近的审计事件")
        tail.add_argument("-n", type=int, default=20, dest="count", help="条数（默认 20）")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["subcommand"] == "verify":
            self.verify(every=options["every"], verbosity=options["verbosity"])
        elif options["subcommand"] == "seal":
            self.seal()
        else:
            self.tail(options["count"], verbosity=options["verbosity"])

    def verify(self, *, every: int, verbosity: int) -> None:
        if every < 1:
            raise CommandError("--every 必须是正整数")
        head = AuditHead.objects.filter(pk=1).first()
        total = head.last_seq if head is not None else 0
        # On a terminal the counter rewrites one line; in a log file each report is a line.
        on_tty = self.stderr.isatty()
        shown = False

        def progress(checked: int) -> None:
            nonlocal shown
            if verbosity < 1 or checked % every:
                return
            text = f"已校验 {checked:,} / {total:,} 条"
            if on_tty:
                self.stderr.write(f"\r{text}", style_func=str, ending="")
                self.stderr.flush()
                shown = True
            else:
                self.stderr.write(text, style_func=str)

        result = audit.verify(progress=progress)
        if shown:
            self.stderr.write("")
        if not result.ok:
            raise CommandError(
                f"审计链断裂：{result.reason}。之前的 {result.checked:,} 条事件完好。"
            )
        self.stdout.write(
            self.style.SUCCESS(
                f"审计链完整：共 {result.checked:,} 条事件，末条哈希 {result.last_hash}"
            )
        )
        if result.pending:
            assert result.oldest_pending is not None
            waited = timezone.now() - result.oldest_pending
            minutes = int(waited.total_seconds() // 60)
            line = f"另有 {result.pending:,} 条新事件待封存（最早一条已等待 {minutes} 分钟）"
            if waited > STALE_PENDING:
                self.stdout.write(
                    self.style.WARNING(
                        f"{line}：封存任务可能没有运行，请检查 minsheng worker，"
                        "或运行 minsheng audit seal"
                    )
                )
            else:
                self.stdout.write(line)

    def seal(self) -> None:
        sealed = audit.seal_pending()
        self.stdout.write(self.style.SUCCESS(f"已封存 {sealed:,} 条事件"))

    def tail(self, count: int, *, verbosity: int) -> None:
        if count < 1:
            raise CommandError("-n 必须是正整数")
        events = list(AuditEvent.objects.all()[:count])  # newest first, unsealed included
        if not events:
            self.stdout.write("还没有审计事件")
            return
        for event in reversed(events):
            self.stdout.write(self.describe(event))
            if verbosity >= 2:
                for label, data in (("变更前", event.before), ("变更后", event.after)):
                    if data is not None:
                        self.stdout.write(
                            f"    {label}: {json.dumps(data, ensure_ascii=False, sort_keys=True)}"
                        )

    @staticmethod
    def describe(event: AuditEvent) -> str:
        when = timezone.localtime(event.created_at).strftime("%Y-%m-%d %H:%M:%S")
        parts = [
            f"#{event.seq}" if event.seq is not None else "#(待封存)",
            when,
            f"{event.actor_label}({event.role})" if event.actor_label else "系统",
            event.action,
            f"{event.object_type}:{event.object_id}" if event.object_type else "",
            event.object_repr,
            f"请求 {event.request_id}" if event.request_id else "",
        ]
        return " ".join(part for part in parts if part)
