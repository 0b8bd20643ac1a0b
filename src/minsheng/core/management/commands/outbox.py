"""``minsheng outbox status|retry|deliver``: look at the outbox, retry failures, send now."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db.models import Count, Min
from django.utils import timezone

from minsheng.core import outbox
from minsheng.core.models import OutboxMessage
from minsheng.core.outbox import delivery

Status = OutboxMessage.Status


class Command(BaseCommand):
    help = "查看待发消息（status）、重发失败的消息（retry）或立即发送到期的消息（deliver）"

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(
            dest="subcommand", required=True, metavar="{status,retry,deliver}"
        )
        status = sub.add_parser("status", help="按状态和渠道统计，列出最近的失败消息")
        status.add_argument(
            "-n", type=int, default=10, dest="count", help="列出多少条失败消息（默认 10）"
        )
        retry = sub.add_parser("retry", help="把发送失败的消息重新排队（默认全部）")
        retry.add_argument(
            "--id", type=int, action="append", dest="ids", metavar="ID", help="只重发这条；可重复"
        )
        sub.add_parser("deliver", help="立即发送所有到期的消息（worker 也会定期发送）")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["subcommand"] == "status":
            self.status(options["count"])
        elif options["subcommand"] == "retry":
            self.retry(options["ids"])
        else:
            report = delivery.deliver_due()
            self.stdout.write(str(report))

    def status(self, count: int) -> None:
        if count < 0:
            raise CommandError("-n 不能是负数")
        rows = (
            OutboxMessage.objects.values("status", "channel")
            .annotate(n=Count("pk"), oldest=Min("created_at"))
            .order_by("status", "channel")
        )
        if not rows:
            self.stdout.write("待发消息表是空的")
            return
        labels = dict(Status.choices)
        channels = dict(OutboxMessage.Channel.choices)
        now = timezone.now()
        for row in rows:
            line = f"{labels[row['status']]:<6} {channels[row['channel']]:<6} {row['n']:>8,} 条"
            if row["status"] in {Status.PENDING, Status.SENDING}:
                line += f"  最早的已等待 {_age(now - row['oldest'])}"
            self.stdout.write(line)
        failed = OutboxMessage.objects.filter(status=Status.FAILED).order_by("-created_at")[:count]
        if count and failed:
            self.stdout.write("\n最近的失败消息（用 minsheng outbox retry --id 编号 重发）：")
            for message in failed:
                error = message.last_error.splitlines()[-1] if message.last_error else ""
                self.stdout.write(
                    f"  #{message.pk} {message.channel} → {message.recipient}：{error}"
                )

    def retry(self, ids: list[int] | None) -> None:
        if ids is not None:
            missing = set(ids) - set(
                OutboxMessage.objects.filter(pk__in=ids).values_list("pk", flat=True)
            )
            if missing:
                raise CommandError(f"没有这些消息：{', '.join(map(str, sorted(missing)))}")
        count = outbox.retry(ids, by=None)
        if ids is not None and count < len(set(ids)):
            self.stderr.write("部分消息不是“发送失败”状态，未重发")
        self.stdout.write(self.style.SUCCESS(f"已重新排队 {count} 条消息，worker 会尽快发送"))


def _age(delta: dt.timedelta) -> str:
    seconds = int(delta.total_seconds())
    if seconds < 60:
        return f"{seconds} 秒"
    if seconds < 3600:
        return f"{seconds // 60} 分钟"
    return f"{seconds // 3600} 小时 {seconds % 3600 // 60} 分钟"
