"""The outbox in the admin: what was sent, what waits, what failed — and retrying failures.

Messages carry mobile numbers and addresses, so only system administrators see them.
Nothing is edited or deleted here: a failed message stays until it is retried.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.text import Truncator
from django.utils.translation import gettext_lazy as _

from minsheng.core import outbox, policy
from minsheng.core.admin.jobs import ReadOnlyAdmin
from minsheng.core.models import Notification, OutboxMessage, User


@admin.register(OutboxMessage)
class OutboxMessageAdmin(ReadOnlyAdmin[OutboxMessage]):
    view_action = "outbox.view"
    list_display = (
        "id",
        "channel",
        "recipient",
        "kind",
        "short_subject",
        "status",
        "attempts",
        "next_attempt_at",
        "created_at",
        "sent_at",
        "short_error",
    )
    list_filter = ("status", "channel", "kind", ("created_at", admin.DateFieldListFilter))
    search_fields = ("=recipient", "kind", "subject")
    search_help_text = _("按接收方（完整号码或地址）、消息类型或标题查找")
    list_select_related = ("user",)
    ordering = ("-created_at",)
    list_per_page = 50
    show_full_result_count = False
    fields = (
        "channel",
        "recipient",
        "user",
        "kind",
        "subject",
        "body",
        "url",
        "status",
        "attempts",
        "next_attempt_at",
        "locked_until",
        "last_error",
        "created_at",
        "sent_at",
    )
    readonly_fields = fields
    actions = ("retry",)

    @admin.display(description=_("标题"))
    def short_subject(self, obj: OutboxMessage) -> str:
        return Truncator(obj.subject or obj.body).chars(30)

    @admin.display(description=_("最近错误"))
    def short_error(self, obj: OutboxMessage) -> str:
        return Truncator(obj.last_error).chars(60)

    def has_retry_permission(self, request: HttpRequest) -> bool:
        return request.user.is_superuser or policy.can(request.user, "outbox.retry")

    @admin.action(description=_("重新发送所选的失败消息"), permissions=["retry"])
    def retry(self, request: HttpRequest, queryset: QuerySet[OutboxMessage]) -> None:
        assert isinstance(request.user, User)
        ids = list(queryset.values_list("pk", flat=True))
        count = outbox.retry(ids, by=request.user)
        skipped = len(ids) - count
        self.message_user(
            request, _("已重新排队 %(count)d 条消息。") % {"count": count}, messages.SUCCESS
        )
        if skipped:
            self.message_user(
                request,
                _("%(skipped)d 条不是发送失败的消息，未处理。") % {"skipped": skipped},
                messages.WARNING,
            )


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin[Notification]):
    view_action = "outbox.view"
    list_display = ("title", "user", "created_at", "read_at")
    list_filter = (("created_at", admin.DateFieldListFilter),)
    search_fields = ("title",)
    list_select_related = ("user",)
    fields = ("user", "title", "body", "url", "created_at", "read_at")
    readonly_fields = fields
    actions = None
