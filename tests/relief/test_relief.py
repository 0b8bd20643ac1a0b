"""The relief station: money in and out through the actions, the ledger that reconciles,
the review steps, the public figures without a person, and the staff page."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal
from functools import partial

import pytest
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.urls import reverse
from openpyxl import load_workbook

from minsheng.appeals.attachments import CleanFile, clean
from minsheng.core import idnumber
from minsheng.core.models import AuditEvent, Division, Role
from minsheng.relief import actions, ledger
from minsheng.relief.models import Application, Document, Donation, LedgerEntry, Station
from tests.concurrency import at_once
from tests.factories import PASSWORD, DepartmentFactory, DivisionFactory, UserFactory

DAY = dt.date(2026, 11, 20)


def id_number(serial: int = 1) -> str:
    first17 = f"990102{dt.date(1988, 3, 8):%Y%m%d}{serial:03d}"
    return first17 + idnumber.check_char(first17)


def make_station(department=None) -> Station:
    return Station.objects.create(
        code="gyz-01", name="妇女儿童公益站", department=department or DepartmentFactory()
    )


def village() -> Division:
    return DivisionFactory(name="城北村", level=Division.Level.VILLAGE)


def png() -> bytes:
    from PIL import Image

    data = io.BytesIO()
    Image.new("RGB", (40, 30), "white").save(data, format="PNG")
    return data.getvalue()


def proof() -> CleanFile:
    return clean(SimpleUploadedFile("低保证.png", png()))


def approved(station: Station, amount: str = "1000", serial: int = 1, **fields) -> Application:
    application = actions.apply(
        station.pk,
        kind=fields.pop("kind", Application.Kind.CHILD),
        applicant=fields.pop("applicant", "王小花"),
        id_number=id_number(serial),
        village_id=fields.pop("village_id", None) or village().pk,
        situation="父母外出务工，孩子随祖母生活，祖母患病住院。",
        requested=amount,
        by=None,
        documents=[(Document.Kind.HARDSHIP, proof())],
    )
    actions.verify_village(application.pk, by=None)
    actions.verify_town(application.pk, by=None)
    return actions.decide(application.pk, approve=True, amount=amount, by=None)


@pytest.mark.django_db
@pytest.mark.parametrize("amount", ["", "abc", "0", "-5", "10.005", "NaN", "1e20"])
def test_bad_amounts_are_refused_and_write_nothing(amount):
    station = make_station()
    with pytest.raises(actions.ReliefError):
        actions.donate(station.pk, donor="县妇联", amount=amount, received_on=DAY, by=None)
    assert not Donation.objects.exists() and not LedgerEntry.objects.exists()
    assert Station.objects.get().balance == 0


@pytest.mark.django_db
def test_the_whole_path_keeps_the_ledger_balanced():
    station = make_station()
    actions.donate(station.pk, donor="县妇联", amount="5000", received_on=DAY, by=None)
    actions.donate(
        station.pk, donor="王先生", amount="0.50", received_on=DAY, anonymous=True, by=None
    )
    application = approved(station, "1000.25")
    entry = actions.disburse(application.pk, by=None)

    assert entry.amount == Decimal("-1000.25") and entry.balance_after == Decimal("4000.25")
    assert Station.objects.get().balance == Decimal("4000.25")
    assert Application.objects.get().state == Application.State.PAID
    assert ledger.reconcile(station) == []
    # Insertion order: in a test that never commits the sealer gives no seq.
    assert [e.action for e in AuditEvent.objects.order_by("pk")] == [
        "relief.donated",
        "relief.donated",
        "relief.applied",
        "relief.document_attached",
        "relief.village_verified",
        "relief.town_verified",
        "relief.approved",
        "relief.paid",
    ]


@pytest.mark.django_db
def test_a_disbursement_beyond_the_balance_changes_nothing():
    station = make_station()
    actions.donate(station.pk, donor="县妇联", amount="999.99", received_on=DAY, by=None)
    application = approved(station, "1000")
    with pytest.raises(actions.ReliefError, match="不足以发放") as error:
        actions.disburse(application.pk, by=None)
    assert error.value.code == "insufficient"
    assert Station.objects.get().balance == Decimal("999.99")
    assert Application.objects.get().state == Application.State.APPROVED
    assert LedgerEntry.objects.count() == 1 and ledger.reconcile(station) == []


@pytest.mark.django_db
def test_review_steps_go_in_order_once_with_reasons():
    station = make_station()
    application = actions.apply(
        station.pk, kind="woman", applicant="李红", id_number=id_number(), village_id=village().pk,
        situation="丈夫因病去世，独自抚养两个孩子。", requested="2000", by=None,
        documents=[(Document.Kind.IDENTITY, proof())],
    )  # fmt: skip
    with pytest.raises(actions.ReliefError, match="不能执行此操作"):
        actions.verify_town(application.pk, by=None)  # the village first
    actions.verify_village(application.pk, by=None, expected_version=0)
    with pytest.raises(actions.ReliefError):
        actions.verify_village(application.pk, by=None, expected_version=0)  # stale page
    actions.verify_town(application.pk, by=None)
    with pytest.raises(actions.ReliefError, match="不能超过申请金额"):
        actions.decide(application.pk, approve=True, amount="2000.01", by=None)
    with pytest.raises(actions.ReliefError, match="理由"):
        actions.decide(application.pk, approve=False, note=" ", by=None)
    rejected = actions.decide(application.pk, approve=False, note="收入高于标准", by=None)
    assert rejected.state == Application.State.REJECTED
    with pytest.raises(actions.ReliefError, match="评审通过且未发放"):
        actions.disburse(application.pk, by=None)


@pytest.mark.django_db
def test_each_step_needs_its_role():
    department = DepartmentFactory()
    station = make_station(department)
    window = UserFactory(role=Role.WINDOW_STAFF, department=department)
    stranger = UserFactory(role=Role.WINDOW_STAFF, department=DepartmentFactory())
    application = actions.apply(
        station.pk, kind="child", applicant="王小花", id_number=id_number(),
        village_id=village().pk, situation="父母外出务工，孩子无人照看。", requested="1000",
        by=window, documents=[(Document.Kind.HARDSHIP, proof())],
    )  # fmt: skip
    with pytest.raises(PermissionDenied):
        actions.verify_village(application.pk, by=stranger)
    actions.verify_village(application.pk, by=window)
    with pytest.raises(PermissionDenied):
        actions.verify_town(application.pk, by=window)
    with pytest.raises(PermissionDenied):
        actions.donate(station.pk, donor="x", amount="1", received_on=DAY, by=stranger)


@pytest.mark.django_db
def test_reconciliation_finds_an_edited_entry():
    station = make_station()
    actions.donate(station.pk, donor="县妇联", amount="100", received_on=DAY, by=None)
    actions.donate(station.pk, donor="县妇联", amount="50", received_on=DAY, by=None)
    LedgerEntry.objects.filter(pk=LedgerEntry.objects.first().pk).update(amount=Decimal("90"))
    problems = ledger.reconcile(station)
    assert any("记录余额" in p for p in problems) and any("捐赠合计" in p for p in problems)


@pytest.mark.django_db
def test_the_public_page_shows_sums_and_counts_never_a_person():
    station = make_station()
    actions.donate(station.pk, donor="张三丰", amount="3000", received_on=DAY, by=None)
    application = approved(station, "1200", applicant="王小花")
    actions.disburse(application.pk, by=None)
    html = Client().get(reverse("relief:public")).content.decode()
    assert "3000.00" in html and "1200.00" in html and "1800.00" in html
    assert "张三丰" not in html and "王小花" not in html and application.id_masked not in html


def login(role: str, department=None) -> Client:
    client = Client()
    user = UserFactory(role=role, department=department)
    assert client.login(username=user.username, password=PASSWORD)
    return client


@pytest.mark.django_db
def test_the_staff_page_takes_a_donation_and_reports_errors_in_chinese():
    department = DepartmentFactory()
    station = make_station(department)
    client = login(Role.DEPT_HEAD, department)
    url = reverse("relief:act", args=["donation"])
    response = client.post(
        url, {"station": station.pk, "donor": "县妇联", "amount": "-3"}, follow=True
    )
    assert "金额应大于零" in response.content.decode()
    response = client.post(
        url,
        {"station": station.pk, "donor": "县妇联", "amount": "800", "received_on": "2026-11-20"},
        follow=True,
    )
    html = response.content.decode()
    assert "捐赠已入账" in html and "800.00" in html and "台账已核对" in html
    other = login(Role.DEPT_HEAD, DepartmentFactory()).get(reverse("relief:staff"))
    assert "妇女儿童公益站" not in other.content.decode().split("<h1>")[-1].split("</h1>", 1)[1]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite has no concurrent writers")
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_concurrent_disbursements_never_overdraw_the_fund():
    station = make_station()
    actions.donate(station.pk, donor="县妇联", amount="1500", received_on=DAY, by=None)
    applications = [approved(station, "1000", serial=n) for n in range(1, 4)]
    results = at_once(
        [partial(actions.disburse, a.pk, by=None) for a in applications],
        expected=(actions.ReliefError,),
    )
    outcomes = [r.code if isinstance(r, actions.ReliefError) else "paid" for r in results]
    assert sorted(outcomes) == ["insufficient", "insufficient", "paid"]
    assert Station.objects.get().balance == Decimal("500.00")
    assert ledger.reconcile(station) == []


@pytest.mark.django_db
def test_the_ledger_exports_to_excel_with_balances_and_no_anonymous_donor():
    department = DepartmentFactory()
    station = make_station(department)
    actions.donate(station.pk, donor="县妇联", amount="800", received_on=DAY, by=None)
    actions.donate(
        station.pk, donor="张三丰", amount="200", received_on=DAY, anonymous=True, by=None
    )
    application = approved(station, "300")
    actions.disburse(application.pk, by=None)

    response = login(Role.DEPT_HEAD, department).get(reverse("relief:export", args=[station.code]))
    rows = list(load_workbook(io.BytesIO(response.content)).active.iter_rows(values_only=True))
    assert [(r[3], r[4], r[5]) for r in rows[1:]] == [
        ("县妇联", 800, 800),
        ("匿名", 200, 1000),
        (application.id_masked, -300, 700),
    ]
    assert AuditEvent.objects.filter(action="relief.ledger_exported").exists()
    other = login(Role.DEPT_HEAD, DepartmentFactory())
    assert other.get(reverse("relief:export", args=[station.code])).status_code == 404


@pytest.mark.django_db
def test_the_town_cannot_review_an_application_without_proofs():
    station = make_station()
    application = actions.apply(
        station.pk, kind="woman", applicant="李红", id_number=id_number(), village_id=village().pk,
        situation="丈夫因病去世，独自抚养两个孩子。", requested="2000", by=None,
    )  # fmt: skip
    actions.verify_village(application.pk, by=None)
    with pytest.raises(actions.ReliefError, match="请先上传证明材料") as error:
        actions.verify_town(application.pk, by=None)
    assert error.value.code == "no_documents"
    assert Application.objects.get().state == Application.State.VILLAGE_VERIFIED
    actions.attach_document(application.pk, kind="medical", file=proof(), by=None)
    assert actions.verify_town(application.pk, by=None).state == Application.State.TOWN_VERIFIED


@pytest.mark.django_db
def test_documents_are_checked_and_closed_applications_take_no_more():
    station = make_station()
    application = approved(station)
    with pytest.raises(actions.ReliefError, match="不能再补充材料"):
        actions.attach_document(application.pk, kind="other", file=proof(), by=None)
    fresh = actions.apply(
        station.pk, kind="child", applicant="王小花", id_number=id_number(2),
        village_id=village().pk, situation="父母外出务工，孩子随祖母生活。", requested="500",
        by=None,
    )  # fmt: skip
    with pytest.raises(actions.ReliefError, match="材料类型"):
        actions.attach_document(fresh.pk, kind="selfie", file=proof(), by=None)
    for _n in range(actions.MAX_DOCUMENTS):
        actions.attach_document(fresh.pk, kind="other", file=proof(), by=None)
    with pytest.raises(actions.ReliefError, match="最多"):
        actions.attach_document(fresh.pk, kind="other", file=proof(), by=None)
    assert fresh.documents.count() == actions.MAX_DOCUMENTS


@pytest.mark.django_db
def test_proofs_upload_on_the_staff_page_and_open_only_for_the_station_department():
    department = DepartmentFactory()
    station = make_station(department)
    application = actions.apply(
        station.pk, kind="child", applicant="王小花", id_number=id_number(),
        village_id=village().pk, situation="父母外出务工，孩子随祖母生活。", requested="500",
        by=None,
    )  # fmt: skip
    client = login(Role.WINDOW_STAFF, department)
    url = reverse("relief:act", args=["attach"])
    fake = SimpleUploadedFile("低保证.pdf", b"MZ\x90\x00 not a pdf at all")
    response = client.post(
        url,
        {"application": application.pk, "document_kind": "hardship", "documents": [fake]},
        follow=True,
    )
    assert "只能上传" in response.content.decode() and not Document.objects.exists()
    response = client.post(
        url,
        {
            "application": application.pk,
            "document_kind": "hardship",
            "documents": [SimpleUploadedFile("王小花低保证.png", png())],
        },
        follow=True,
    )
    assert "已上传 1 份材料" in response.content.decode()
    document = Document.objects.get()
    assert "王小花" not in document.file.name  # the name on disk is the content's hash
    opened = client.get(reverse("relief:document", args=[document.pk]))
    assert opened.status_code == 200 and opened["Content-Type"] == "image/png"
    assert opened["Cache-Control"] == "private, no-store"
    assert AuditEvent.objects.filter(action="relief.document_opened").count() == 1
    stranger = login(Role.WINDOW_STAFF, DepartmentFactory())
    assert stranger.get(reverse("relief:document", args=[document.pk])).status_code == 404
    assert AuditEvent.objects.filter(action="relief.document_opened").count() == 1
