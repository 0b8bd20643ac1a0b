"""Excel exports of the centre lists, built from the same querysets as the pages (so never
more than the user may see), persons masked, and every export audited."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _

from minsheng.appeals import exports
from minsheng.centres import views
from minsheng.centres.models import Dispute, Matter, Opinion
from minsheng.core import audit, masking


def _response(table: exports.Table) -> HttpResponse:
    response = HttpResponse(exports.to_xlsx(table), content_type=exports.XLSX_TYPE)
    filename = f"{table.name}-{timezone.localdate():%Y%m%d}.xlsx"
    response["Content-Disposition"] = content_disposition_header(True, filename) or "attachment"
    return response


def _user_label(user: Any) -> str:
    return user.display_name if user is not None else ""


@login_required
def centre_list(request: HttpRequest) -> HttpResponse:
    """The overview's list with its filters: status, functions and counts per centre."""
    user = views.staff_user(request, "centre.view")
    _form, centres = views.filtered_centres(request, user)
    rows = views.list_rows(centres)
    table = exports.Table(
        name=_("邻里中心"),
        columns=[
            exports.Column(_("乡镇（街道）"), 14, lambda r: r[0].village.parent.name),
            exports.Column(_("村（社区）"), 14, lambda r: r[0].village.name),
            exports.Column(_("邻里中心"), 22, lambda r: r[0].name),
            exports.Column(_("批次"), 10, lambda r: r[0].batch.name if r[0].batch else ""),
            exports.Column(_("建设状态"), 10, lambda r: r[0].get_status_display()),
            exports.Column(_("状态日期"), 12, lambda r: r[0].status_on),
            exports.Column(_("基本功能在用"), 12, lambda r: r[2].basic),
            exports.Column(_("拓展功能在用"), 12, lambda r: r[2].extensions),
            exports.Column(_("收集意见建议"), 12, lambda r: r[1].opinions),
            exports.Column(_("办理事项"), 10, lambda r: r[1].matters),
            exports.Column(_("其中办结"), 10, lambda r: r[1].matters_done),
            exports.Column(_("调解纠纷"), 10, lambda r: r[1].disputes),
            exports.Column(_("其中调解成功"), 12, lambda r: r[1].disputes_resolved),
            exports.Column(_("已回访"), 8, lambda r: r[1].follow_ups_done),
            exports.Column(_("回访逾期"), 10, lambda r: r[1].follow_ups_overdue),
        ],
        rows=rows,
        personal=False,
    )
    response = _response(table)
    audit.record(
        user,
        "centre.list_exported",
        object_type="centres",
        object_repr=_("邻里中心"),
        after={"rows": table.count, "filters": request.GET.dict()},
    )
    return response


@login_required
def matters(request: HttpRequest, code: str) -> HttpResponse:
    user = views.staff_user(request, "centre.view")
    place = views.centre_or_404(user, code)
    table = exports.Table(
        name=f"{place.name}" + _("办理事项"),
        columns=[
            exports.Column(_("办理日期"), 12, lambda m: m.handled_on),
            exports.Column(_("事项类型"), 10, lambda m: m.get_type_display()),
            exports.Column(_("办事群众"), 10, lambda m: masking.mask_name(m.person_name)),
            exports.Column(_("手机号"), 14, lambda m: masking.mask_mobile(m.mobile)),
            exports.Column(_("办理事项"), 40, lambda m: m.description),
            exports.Column(_("办理结果"), 10, lambda m: m.get_outcome_display()),
            exports.Column(_("经办人"), 10, lambda m: _user_label(m.handled_by)),
        ],
        rows=Matter.objects.filter(centre=place).select_related("handled_by").iterator(),
        personal=False,
    )
    response = _response(table)
    audit.record(user, "centre.matters_exported", place, after={"rows": table.count})
    return response


@login_required
def opinions(request: HttpRequest, code: str) -> HttpResponse:
    user = views.staff_user(request, "centre.view")
    place = views.centre_or_404(user, code)

    def citizen(o: Opinion) -> str:
        if o.appeal.anonymous:
            return _("匿名")
        appeal = o.appeal
        return (
            f"{masking.mask_name(appeal.citizen_name)} {masking.mask_mobile(appeal.citizen_mobile)}"
        )

    table = exports.Table(
        name=f"{place.name}" + _("意见建议"),
        columns=[
            exports.Column(_("登记时间"), 18, lambda o: _local(o.created_at)),
            exports.Column(_("诉求编号"), 22, lambda o: o.appeal.number),
            exports.Column(_("类别"), 8, lambda o: o.get_kind_display()),
            exports.Column(_("标题"), 30, lambda o: o.appeal.title),
            exports.Column(_("群众"), 20, citizen),
            exports.Column(_("办理状态"), 10, lambda o: o.appeal.get_state_display()),
            exports.Column(_("登记人"), 10, lambda o: _user_label(o.recorded_by)),
        ],
        rows=Opinion.objects.filter(centre=place)
        .select_related("appeal", "recorded_by")
        .iterator(),
        personal=False,
    )
    response = _response(table)
    audit.record(user, "centre.opinions_exported", place, after={"rows": table.count})
    return response


def _local(moment: dt.datetime) -> dt.datetime:
    return timezone.localtime(moment).replace(tzinfo=None)


def _parties(dispute: Dispute) -> str:
    return "、".join(masking.mask_name(name) for name in dispute.parties)


@login_required
def disputes(request: HttpRequest, code: str) -> HttpResponse:
    user = views.staff_user(request, "centre.view")
    place = views.centre_or_404(user, code)
    now = timezone.now()

    def visit(d: Dispute) -> str:
        if d.follow_up_done_on is not None:
            return _("已回访")
        return _("已逾期") if d.follow_up_due_at < now else _("待回访")

    table = exports.Table(
        name=f"{place.name}" + _("矛盾纠纷调解"),
        columns=[
            exports.Column(_("调解日期"), 12, lambda d: d.mediated_on),
            exports.Column(_("纠纷类型"), 12, lambda d: d.get_type_display()),
            exports.Column(_("当事人"), 18, _parties),
            exports.Column(_("纠纷情况"), 40, lambda d: d.description),
            exports.Column(_("调解人"), 10, lambda d: _user_label(d.mediator)),
            exports.Column(_("调解结果"), 12, lambda d: d.get_outcome_display()),
            exports.Column(_("调解协议书"), 10, lambda d: _("有") if d.agreement else _("无")),
            exports.Column(_("回访期限"), 12, lambda d: d.follow_up_due_on),
            exports.Column(_("回访"), 8, visit),
            exports.Column(_("回访日期"), 12, lambda d: d.follow_up_done_on),
            exports.Column(_("回访情况"), 30, lambda d: d.follow_up_note),
        ],
        rows=Dispute.objects.filter(centre=place).select_related("mediator").iterator(),
        personal=False,
    )
    response = _response(table)
    audit.record(user, "centre.disputes_exported", place, after={"rows": table.count})
    return response
