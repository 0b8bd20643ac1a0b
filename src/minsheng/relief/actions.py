"""Every change to the relief station's money and applications goes through here: each is
atomic, locks what two people may change at once, and writes the audit event.

Money moves only in ``donate`` and ``disburse``: both lock the station row, change its
balance and append a ledger entry carrying the balance after it, in one transaction. A
disbursement beyond the balance is refused and changes nothing (and the database's CHECK
constraint would refuse a negative balance anyway). Application steps are conditional
UPDATEs on (state, version), so two reviewers clicking at once cannot both move it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal, InvalidOperation

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F
from django.utils.translation import gettext as _

from minsheng.appeals.attachments import CleanFile
from minsheng.core import audit, idnumber, policy
from minsheng.core.errors import ActionRefused
from minsheng.core.models import Division, User
from minsheng.core.models.org import Role
from minsheng.relief.models import CENT, Application, Document, Donation, LedgerEntry, Station

R = Role
S = Application.State
policy.register(
    {
        "relief.donation": {R.WINDOW_STAFF, R.HANDLER, R.DEPT_HEAD, R.ADMIN},
        "relief.apply": {R.WINDOW_STAFF, R.HANDLER, R.DEPT_HEAD, R.ADMIN},
        # The village (community) check is recorded by the station's staff; the town's
        # review by the department head; the committee's decision by county leaders.
        "relief.verify_village": {R.WINDOW_STAFF, R.HANDLER, R.ADMIN},
        "relief.verify_town": {R.DEPT_HEAD, R.ADMIN},
        "relief.decide": {R.LEADER, R.ADMIN},
        "relief.disburse": {R.DEPT_HEAD, R.ADMIN},
        "relief.view": {R.WINDOW_STAFF, R.HANDLER, R.DEPT_HEAD, R.SUPERVISOR, R.LEADER, R.ADMIN},
    }
)


class ReliefError(ActionRefused):
    """A refusal of this app's actions (see core.errors)."""


def _check(user: User | None, action: str, station: Station) -> None:
    if user is not None and not policy.can(user, action, station):
        raise PermissionDenied(action)


def money(value: object, field: str = "amount") -> Decimal:
    """A positive amount in yuan with at most two decimals, or ReliefError."""
    try:
        amount = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise ReliefError(_("请输入金额，如 1000 或 1000.50"), field=field) from None
    if not amount.is_finite() or amount <= 0:
        raise ReliefError(_("金额应大于零"), field=field)
    if amount != amount.quantize(CENT):
        raise ReliefError(_("金额最多两位小数"), field=field)
    if amount >= Decimal("10000000000"):
        raise ReliefError(_("金额过大"), field=field)
    return amount.quantize(CENT)


def _locked_station(station_id: int) -> Station:
    station = Station.objects.select_for_update().filter(pk=station_id).first()
    if station is None:
        raise ReliefError(_("公益站不存在"), "not_found")
    return station


@transaction.atomic
def donate(
    station_id: int,
    *,
    donor: str,
    amount: object,
    received_on: dt.date,
    anonymous: bool = False,
    by: User | None,
) -> Donation:
    value = money(amount)
    if not donor.strip():
        raise ReliefError(_("请填写捐赠人（匿名捐赠也要登记，公开时不显示）"), field="donor")
    station = _locked_station(station_id)
    _check(by, "relief.donation", station)
    donation = Donation.objects.create(
        station=station,
        donor=donor.strip(),
        anonymous=anonymous,
        amount=value,
        received_on=received_on,
    )
    station.balance += value
    station.save(update_fields=["balance"])
    LedgerEntry.objects.create(
        station=station,
        kind=LedgerEntry.Kind.DONATION,
        amount=value,
        balance_after=station.balance,
        donation=donation,
    )
    audit.record(
        by,
        "relief.donated",
        donation,
        after={"amount": str(value), "balance": str(station.balance)},
    )
    return donation


@transaction.atomic
def apply(
    station_id: int,
    *,
    kind: str,
    applicant: str,
    id_number: str,
    village_id: int,
    situation: str,
    requested: object,
    by: User | None,
    documents: Sequence[tuple[str, CleanFile]] = (),
) -> Application:
    station = Station.objects.filter(pk=station_id).first()
    if station is None:
        raise ReliefError(_("公益站不存在"), "not_found")
    _check(by, "relief.apply", station)
    if kind not in Application.Kind.values:
        raise ReliefError(_("请选择救助对象"), field="kind")
    if not applicant.strip():
        raise ReliefError(_("请填写申请人"), field="applicant")
    try:
        number = idnumber.validate(id_number)
    except ValidationError as exc:
        raise ReliefError(exc.messages[0], field="id_number") from None
    village = Division.objects.filter(pk=village_id, level=Division.Level.VILLAGE).first()
    if village is None:
        raise ReliefError(_("请选择所在村（社区）"), field="village")
    if len(situation.strip()) < 10:
        raise ReliefError(_("请写明困难情况（至少10个字）"), field="situation")
    application = Application.objects.create(
        station=station,
        kind=kind,
        applicant=applicant.strip(),
        id_key=idnumber.key(number),
        id_masked=idnumber.masked(number),
        village=village,
        situation=situation.strip(),
        requested=money(requested, "requested"),
    )
    audit.record(by, "relief.applied", application, after={"requested": str(application.requested)})
    for kind_of_document, file in documents:
        _store_document(application, kind_of_document, file, by)
    return application


# Enough for identity, hardship, medical and a few more pages; a scan of a whole file is one PDF.
MAX_DOCUMENTS = 10
OPEN_STATES = {S.SUBMITTED, S.VILLAGE_VERIFIED, S.TOWN_VERIFIED}


def _store_document(
    application: Application, kind: str, file: CleanFile, by: User | None
) -> Document:
    if kind not in Document.Kind.values:
        raise ReliefError(_("请选择材料类型"), field="document_kind")
    if application.documents.count() >= MAX_DOCUMENTS:
        raise ReliefError(_("每份申请最多 %(n)d 份材料") % {"n": MAX_DOCUMENTS}, field="documents")
    document = Document(
        application=application,
        kind=kind,
        original_name=file.original_name,
        content_type=file.content_type,
        extension=file.extension,
        size=file.size,
        sha256=file.sha256,
        uploaded_by=by,
    )
    document.file.save(f"{file.sha256[:32]}{file.extension}", file.content, save=False)
    document.save()
    audit.record(
        by,
        "relief.document_attached",
        application,
        after={"document": document.pk, "kind": kind, "sha256": file.sha256},
    )
    return document


@transaction.atomic
def attach_document(
    application_id: int, *, kind: str, file: CleanFile, by: User | None
) -> Document:
    """Add a proof while the application is still being checked (not after the committee)."""
    application = (
        Application.objects.select_for_update()
        .select_related("station")
        .filter(pk=application_id)
        .first()
    )
    if application is None:
        raise ReliefError(_("救助申请不存在"), "not_found")
    _check(by, "relief.apply", application.station)
    if application.state not in OPEN_STATES:
        raise ReliefError(
            _("申请已“%(state)s”，不能再补充材料") % {"state": application.get_state_display()},
            "conflict",
        )
    return _store_document(application, kind, file, by)


def _move(
    application_id: int,
    *,
    source: str,
    target: str,
    action: str,
    by: User | None,
    expected_version: int | None,
    needs_documents: bool = False,
    **changes: object,
) -> Application:
    application = Application.objects.select_related("station").filter(pk=application_id).first()
    if application is None:
        raise ReliefError(_("救助申请不存在"), "not_found")
    _check(by, action, application.station)
    if needs_documents and not application.documents.exists():
        # The town reviews the papers, so there must be some to review.
        raise ReliefError(_("请先上传证明材料，再提交乡镇（街道）审核"), "no_documents")
    matching = Application.objects.filter(pk=application_id, state=source)
    if expected_version is not None:
        matching = matching.filter(version=expected_version)
    moved = matching.update(state=target, version=F("version") + 1, **changes)
    if not moved:
        raise ReliefError(
            _("申请当前状态为“%(state)s”，不能执行此操作，请刷新页面")
            % {"state": Application.State(application.state).label},
            "conflict",
        )
    audit.record(
        by,
        f"relief.{target}",
        application,
        before={"state": source},
        after={"state": target, **{k: str(v) for k, v in changes.items()}},
    )
    application.refresh_from_db()
    return application


@transaction.atomic
def verify_village(
    application_id: int, *, by: User | None, expected_version: int | None = None
) -> Application:
    return _move(
        application_id,
        source=S.SUBMITTED,
        target=S.VILLAGE_VERIFIED,
        action="relief.verify_village",
        by=by,
        expected_version=expected_version,
    )


@transaction.atomic
def verify_town(
    application_id: int, *, by: User | None, expected_version: int | None = None
) -> Application:
    return _move(
        application_id,
        source=S.VILLAGE_VERIFIED,
        target=S.TOWN_VERIFIED,
        action="relief.verify_town",
        by=by,
        needs_documents=True,
        expected_version=expected_version,
    )


@transaction.atomic
def decide(
    application_id: int,
    *,
    approve: bool,
    amount: object = None,
    note: str = "",
    by: User | None,
    expected_version: int | None = None,
) -> Application:
    """The committee's decision: an approved amount (at most what was asked), or a reason."""
    if approve:
        value = money(amount)
        asked = Application.objects.filter(pk=application_id).values_list("requested", flat=True)
        if asked and value > asked[0]:
            raise ReliefError(_("核定金额不能超过申请金额"), field="amount")
        return _move(
            application_id,
            source=S.TOWN_VERIFIED,
            target=S.APPROVED,
            action="relief.decide",
            by=by,
            expected_version=expected_version,
            approved=value,
            decision_note=note.strip()[:200],
        )
    if not note.strip():
        raise ReliefError(_("不予通过时请写明理由"), field="note")
    return _move(
        application_id,
        source=S.TOWN_VERIFIED,
        target=S.REJECTED,
        action="relief.decide",
        by=by,
        expected_version=expected_version,
        decision_note=note.strip()[:200],
    )


@transaction.atomic
def disburse(application_id: int, *, by: User | None) -> LedgerEntry:
    """Pay an approved application from the fund, if the balance covers it."""
    application = Application.objects.filter(pk=application_id).first()
    if application is None:
        raise ReliefError(_("救助申请不存在"), "not_found")
    station = _locked_station(application.station_id)  # before the application: one order
    _check(by, "relief.disburse", station)
    application = Application.objects.select_for_update().get(pk=application_id)
    if application.state != S.APPROVED or application.approved is None:
        raise ReliefError(_("只有评审通过且未发放的申请才能发放"), "conflict")
    amount = application.approved
    if station.balance < amount:
        raise ReliefError(
            _("基金余额 %(balance)s 元，不足以发放 %(amount)s 元")
            % {"balance": station.balance, "amount": amount},
            "insufficient",
        )
    station.balance -= amount
    station.save(update_fields=["balance"])
    application.state = S.PAID
    application.version += 1
    application.save(update_fields=["state", "version"])
    entry = LedgerEntry.objects.create(
        station=station,
        kind=LedgerEntry.Kind.DISBURSEMENT,
        amount=-amount,
        balance_after=station.balance,
        application=application,
    )
    audit.record(
        by,
        "relief.paid",
        application,
        before={"state": S.APPROVED},
        after={"amount": str(amount), "balance": str(station.balance)},
    )
    return entry
