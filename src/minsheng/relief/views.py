"""Pages of the relief station: the public disclosure (aggregates only) and the staff page
(balance, reconciliation, donations, applications through their steps, the ledger)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from minsheng.appeals import attachments, exports
from minsheng.core import audit, policy
from minsheng.core.models import Division, User
from minsheng.relief import actions, ledger
from minsheng.relief.models import Application, Document, LedgerEntry, Station


def public_index(request: HttpRequest) -> HttpResponse:
    stations = [
        {"station": s, "years": ledger.public_figures(s)} for s in Station.objects.order_by("code")
    ]
    return render(request, "relief/public.html", {"stations": stations})


def _user(request: HttpRequest, action: str) -> User:
    user = request.user
    assert isinstance(user, User)
    if not policy.can(user, action):
        raise PermissionDenied(action)
    return user


@login_required
def staff_index(request: HttpRequest) -> HttpResponse:
    user = _user(request, "relief.view")
    stations = policy.visible(user, Station.objects.order_by("code"), "relief.view")
    rows: list[dict[str, Any]] = []
    for station in stations:
        rows.append(
            {
                "station": station,
                "problems": ledger.reconcile(station),
                "applications": station.applications.select_related("village").prefetch_related(
                    "documents"
                )[:50],
                "entries": station.ledger.order_by("-pk")[:20],
                "years": ledger.public_figures(station),
            }
        )
    return render(
        request,
        "relief/staff.html",
        {
            "rows": rows,
            "villages": Division.objects.filter(level=Division.Level.VILLAGE).order_by("code"),
            "kinds": Application.Kind.choices,
            "document_kinds": Document.Kind.choices,
            "open_states": sorted(actions.OPEN_STATES),
            "today": timezone.localdate(),
            "can": {
                action: policy.can(user, f"relief.{action}")
                for action in (
                    "donation",
                    "apply",
                    "verify_village",
                    "verify_town",
                    "decide",
                    "disburse",
                )
            },
        },
    )


def _station_id(request: HttpRequest) -> int:
    try:
        return int(request.POST.get("station", ""))
    except ValueError:
        return 0


@login_required
@require_POST
def act(request: HttpRequest, step: str) -> HttpResponse:
    """One form per step; the action checks the right, the state and the money."""
    user = _user(request, "relief.view")
    data = request.POST
    try:
        if step == "donation":
            received = dt.date.fromisoformat(data.get("received_on") or str(timezone.localdate()))
            actions.donate(
                _station_id(request),
                donor=data.get("donor", ""),
                amount=data.get("amount", ""),
                received_on=received,
                anonymous=data.get("anonymous") == "on",
                by=user,
            )
            done = _("捐赠已入账")
        elif step == "apply":
            actions.apply(
                _station_id(request),
                kind=data.get("kind", ""),
                applicant=data.get("applicant", ""),
                id_number=data.get("id_number", ""),
                village_id=int(data.get("village") or 0),
                situation=data.get("situation", ""),
                requested=data.get("requested", ""),
                by=user,
                documents=_uploads(request),
            )
            done = _("申请已登记，等待村（社区）核实")
        elif step == "attach":
            uploads = _uploads(request)
            if not uploads:
                raise actions.ReliefError(_("请选择要上传的文件"), field="documents")
            with transaction.atomic():  # several files: all or none
                for kind, file in uploads:
                    actions.attach_document(
                        int(data.get("application") or 0), kind=kind, file=file, by=user
                    )
            done = _("已上传 %(n)d 份材料") % {"n": len(uploads)}
        else:
            done = _application_step(step, data, user)
    except actions.ReliefError as exc:
        messages.error(request, exc.message)
    except attachments.AttachmentRejected as exc:  # a ValueError too: caught first
        messages.error(request, str(exc))
    except ValueError:
        messages.error(request, _("日期或选项格式不对"))
    else:
        messages.success(request, done)
    return redirect("relief:staff")


def _uploads(request: HttpRequest) -> list[tuple[str, attachments.CleanFile]]:
    """The files of the form, each checked (type from the content, images stripped)."""
    files = request.FILES.getlist("documents")
    if len(files) > actions.MAX_DOCUMENTS:
        raise actions.ReliefError(
            _("每份申请最多 %(n)d 份材料") % {"n": actions.MAX_DOCUMENTS}, field="documents"
        )
    kind = request.POST.get("document_kind", "")
    return [(kind, attachments.clean(f)) for f in files]


@login_required
def document(request: HttpRequest, pk: int) -> FileResponse:
    """Proofs only through here (never a /media/ URL): the same department scope as the
    staff page, and each opening audited."""
    user = _user(request, "relief.view")
    stations = policy.visible(user, Station.objects.all(), "relief.view")
    item = get_object_or_404(
        Document.objects.select_related("application"), pk=pk, application__station__in=stations
    )
    try:
        handle = item.file.open("rb")
    except FileNotFoundError:
        raise Http404(_("文件不存在")) from None
    audit.record(user, "relief.document_opened", item.application, after={"document": item.pk})
    response = FileResponse(
        handle,
        content_type=item.content_type,
        # Images open in the browser; anything else is saved, never rendered by it.
        as_attachment=not item.content_type.startswith("image/"),
        filename=item.original_name,
    )
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


def _application_step(step: str, data: Any, user: User) -> str:
    try:
        application_id = int(data.get("application", ""))
        version = int(data.get("version", ""))
    except ValueError:
        raise actions.ReliefError(_("请刷新页面后重试"), "conflict") from None
    if step == "verify_village":
        actions.verify_village(application_id, by=user, expected_version=version)
        return _("已记录村（社区）核实")
    if step == "verify_town":
        actions.verify_town(application_id, by=user, expected_version=version)
        return _("已记录乡镇（街道）审核")
    if step == "decide":
        approve = data.get("approve") == "1"
        actions.decide(
            application_id,
            approve=approve,
            amount=data.get("amount", ""),
            note=data.get("note", ""),
            by=user,
            expected_version=version,
        )
        return _("评审通过") if approve else _("已记录不予通过")
    if step == "disburse":
        actions.disburse(application_id, by=user)
        return _("已发放并记入基金台账")
    raise PermissionDenied(step)


@login_required
def export(request: HttpRequest, code: str) -> HttpResponse:
    """The station's whole fund ledger as Excel (audited): each movement with its balance;
    anonymous donors stay anonymous, applicants appear by masked ID number only."""
    user = _user(request, "relief.view")
    station = policy.get_object(user, Station.objects.all(), "relief.view", code=code)

    def reference(entry: LedgerEntry) -> str:
        if entry.donation is not None:
            return _("匿名") if entry.donation.anonymous else entry.donation.donor
        return entry.application.id_masked if entry.application is not None else ""

    table = exports.Table(
        name=f"{station.name}" + _("基金台账"),
        columns=[
            exports.Column(_("序号"), 8, lambda e: e.pk),
            exports.Column(_("时间"), 18, lambda e: timezone.localtime(e.at).replace(tzinfo=None)),
            exports.Column(_("类别"), 12, lambda e: e.get_kind_display()),
            exports.Column(_("捐赠人或受助人"), 24, reference),
            exports.Column(_("金额（元）"), 14, lambda e: e.amount),
            exports.Column(_("余额（元）"), 14, lambda e: e.balance_after),
        ],
        rows=station.ledger.select_related("donation", "application").order_by("pk").iterator(),
        personal=False,
    )
    content = exports.to_xlsx(table)
    audit.record(user, "relief.ledger_exported", station, after={"rows": table.count})
    response = HttpResponse(content, content_type=exports.XLSX_TYPE)
    filename = f"{table.name}-{timezone.localdate():%Y%m%d}.xlsx"
    response["Content-Disposition"] = content_disposition_header(True, filename) or "attachment"
    return response
