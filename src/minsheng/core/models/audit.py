from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class AuditEventImmutable(Exception):
    """Raised on any attempt to change or delete an audit event through the ORM."""


class AuditEventQuerySet(models.QuerySet["AuditEvent"]):
    def delete(self) -> tuple[int, dict[str, int]]:
        raise AuditEventImmutable("审计事件不可删除")


class AuditEvent(models.Model):
    """One append-only audit event; ``hash`` chains it to the event before it (by ``seq``).

    Events are written without ``seq`` and hashes, in the transaction of the change they
    record, and sealed into the chain right after it commits (``core.audit.seal_pending``).
    """

    # NULL until sealed; then gap-free in the order the events were sealed.
    seq = models.BigIntegerField(_("序号"), unique=True, null=True, blank=True)
    created_at = models.DateTimeField(_("时间"), db_index=True)
    # No database constraint: events outlive the accounts they mention and are never rewritten.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.DO_NOTHING,
        db_constraint=False,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("操作人"),
    )
    actor_label = models.CharField(_("操作人名称"), max_length=64, blank=True)
    role = models.CharField(_("角色"), max_length=16, blank=True)
    action = models.CharField(_("动作"), max_length=64, db_index=True)
    object_type = models.CharField(_("对象类型"), max_length=64, blank=True)
    object_id = models.CharField(_("对象编号"), max_length=64, blank=True)
    object_repr = models.CharField(_("对象"), max_length=200, blank=True)
    before = models.JSONField(_("变更前"), null=True, blank=True)
    after = models.JSONField(_("变更后"), null=True, blank=True)
    request_id = models.CharField(_("请求编号"), max_length=36, blank=True)
    ip = models.GenericIPAddressField(_("来源地址"), null=True, blank=True)
    prev_hash = models.CharField(_("前一哈希"), max_length=64, blank=True)
    hash = models.CharField(_("哈希"), max_length=64, blank=True)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        # Newest first; events not sealed yet are the newest of all.
        ordering = [models.F("seq").desc(nulls_first=True), "-id"]
        indexes = [
            models.Index(fields=["object_type", "object_id"], name="audit_object_idx"),
            # The sealer's queue: only the few events not sealed yet.
            models.Index(
                fields=["id"], condition=models.Q(seq__isnull=True), name="audit_unsealed_idx"
            ),
        ]
        verbose_name = _("审计事件")
        verbose_name_plural = _("审计事件")

    def __str__(self) -> str:
        return f"#{self.seq or '-'} {self.action} {self.object_repr}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        # Always an INSERT: an event already in the table (or an instance carrying an
        # existing id) fails here or on the primary key instead of being rewritten.
        if not self._state.adding:
            raise AuditEventImmutable("审计事件写入后不可修改")
        kwargs["force_insert"] = True
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise AuditEventImmutable("审计事件不可删除")


class AuditHead(models.Model):
    """The single row holding the end of the chain; locking it serialises sealing."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    last_seq = models.BigIntegerField(default=0)
    last_hash = models.CharField(max_length=64, default="0" * 64)

    class Meta:
        verbose_name = _("审计链头")
        verbose_name_plural = _("审计链头")

    def __str__(self) -> str:
        return f"#{self.last_seq} {self.last_hash}"
