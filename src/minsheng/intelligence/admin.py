"""Classifier versions with their evaluation reports, and the dispatchers' corrections.

Both are read-only: a version is made by ``minsheng classifier train`` and made current
(forward or rollback) by the admin action, which goes through ``actions.activate``.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from minsheng.appeals.admin import ConfigAdmin
from minsheng.core.admin.jobs import ReadOnlyAdmin
from minsheng.intelligence import actions
from minsheng.intelligence.models import ClassifierVersion, IntelligenceSettings, RoutingCorrection


def _3(value: float) -> str:
    """Three decimals (format_html escapes its arguments to text before formatting)."""
    return f"{value:.3f}"


@admin.register(ClassifierVersion)
class ClassifierVersionAdmin(ReadOnlyAdmin[ClassifierVersion]):
    view_action = "classifier.manage"
    list_display = ("__str__", "created_at", "row_count", "accuracy", "macro_f1", "active")
    fields = ("number", "created_at", "created_by", "source", "row_count", "active", "report")
    readonly_fields = fields
    actions = ["make_current"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[ClassifierVersion]:
        return super().get_queryset(request).defer("model_blob")

    @admin.display(description=gettext_lazy("准确率"))
    def accuracy(self, obj: ClassifierVersion) -> str:
        return _3(obj.metrics.get("accuracy", 0))

    @admin.display(description=gettext_lazy("宏平均F1"))
    def macro_f1(self, obj: ClassifierVersion) -> str:
        return _3(obj.metrics.get("macro_f1", 0))

    @admin.display(description=gettext_lazy("评估报告"))
    def report(self, obj: ClassifierVersion) -> SafeString:
        metrics = obj.metrics
        if not metrics:
            return format_html("{}", _("无"))
        per_class = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (label, _3(f["precision"]), _3(f["recall"]), _3(f["f1"]), f["support"])
                for label, f in metrics["per_class"].items()
            ),
        )
        order = metrics["confusion"]["labels"]
        header = format_html_join("", "<th>{}</th>", ((label,) for label in order))
        matrix = format_html_join(
            "",
            "<tr><th>{}</th>{}</tr>",
            (
                (label, format_html_join("", "<td>{}</td>", ((c,) for c in counts)))
                for label, counts in zip(order, metrics["confusion"]["matrix"], strict=True)
            ),
        )
        return format_html(
            "<p>{}：{}（{} {}）</p><p>{} {}　{} {}</p>"
            "<table><tr><th>{}</th><th>{}</th><th>{}</th><th>F1</th><th>{}</th></tr>{}</table>"
            "<p>{}</p><table><tr><th></th>{}</tr>{}</table>",
            _("评估方式"),
            metrics["evaluated_on"],
            metrics["rows"],
            _("条"),
            _("准确率"),
            _3(metrics["accuracy"]),
            _("宏平均F1"),
            _3(metrics["macro_f1"]),
            _("类别"),
            _("精确率"),
            _("召回率"),
            _("条数"),
            per_class,
            _("混淆矩阵（行为真实类别，列为预测类别）"),
            header,
            matrix,
        )

    @admin.action(description=gettext_lazy("设为当前版本（回滚）"))
    def make_current(self, request: HttpRequest, queryset: QuerySet[ClassifierVersion]) -> None:
        chosen = list(queryset[:2])
        if len(chosen) != 1:
            self.message_user(request, _("请只选择一个版本"), messages.ERROR)
            return
        version = actions.activate(chosen[0].pk, by=request.user)  # type: ignore[arg-type]
        self.message_user(request, _("已启用 %(version)s") % {"version": version})


@admin.register(RoutingCorrection)
class RoutingCorrectionAdmin(ReadOnlyAdmin[RoutingCorrection]):
    view_action = "classifier.manage"
    list_display = (
        "appeal",
        "suggested_label",
        "confidence",
        "chosen_category",
        "chosen_department",
        "by",
        "at",
    )
    list_select_related = ("appeal", "chosen_category", "chosen_department", "by")
    fields = (*list_display, "version")
    readonly_fields = fields
    actions = None


@admin.register(IntelligenceSettings)
class IntelligenceSettingsAdmin(ConfigAdmin[IntelligenceSettings]):
    """One row: whether new appeals are routed automatically, and above which confidence
    (edited and audited like the appeal rules)."""

    list_display = ["__str__", "auto_route", "auto_route_confidence"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return self._allowed(request) and not IntelligenceSettings.objects.exists()

    def has_delete_permission(
        self, request: HttpRequest, obj: IntelligenceSettings | None = None
    ) -> bool:
        return False
