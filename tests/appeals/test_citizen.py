"""The citizens' pages: submit, track with number + code, rate from the SMS link, my appeals."""

from __future__ import annotations

import datetime as dt
import io
import re

import pytest
import time_machine
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import ExifTags, Image

from minsheng.appeals import actions
from minsheng.appeals.attachments import MAX_FILES
from minsheng.appeals.lookup import RateLimit
from minsheng.appeals.models import (
    Appeal,
    AppealEvent,
    AppealType,
    Attachment,
    Category,
    IdempotencyKey,
    Rating,
)
from minsheng.appeals.numbers import check_query_code
from minsheng.appeals.states import State
from minsheng.appeals.views import citizen
from minsheng.core.models import Division, OutboxMessage, Role
from tests.factories import DepartmentFactory, DivisionFactory, UserFactory

pytestmark = pytest.mark.django_db

SUBMIT = reverse("appeals:submit")
TRACK = reverse("appeals:track")


@pytest.fixture(autouse=True)
def _isolated(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def place(db):
    town = DivisionFactory(name="城关镇", level=Division.Level.TOWN)
    village = DivisionFactory(name="杏花村", level=Division.Level.VILLAGE, parent=town)
    other_town = DivisionFactory(name="河口镇", level=Division.Level.TOWN)
    other_village = DivisionFactory(name="柳树村", level=Division.Level.VILLAGE, parent=other_town)
    return town, village, other_town, other_village


def png_with_gps() -> bytes:
    exif = Image.Exif()
    exif[ExifTags.IFD.GPSInfo] = {
        ExifTags.GPS.GPSLatitudeRef: "N",
        ExifTags.GPS.GPSLatitude: (37.0, 32.0, 10.0),
        ExifTags.GPS.GPSLongitudeRef: "E",
        ExifTags.GPS.GPSLongitude: (121.0, 23.0, 5.0),
    }
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 30, 30)).save(buffer, format="PNG", exif=exif)
    data = buffer.getvalue()
    # The test means something only if the GPS block really is in the upload.
    assert Image.open(io.BytesIO(data)).getexif().get_ifd(ExifTags.IFD.GPSInfo)
    return data


def form_key(client) -> str:
    response = client.get(SUBMIT)
    assert response.status_code == 200
    return response.context["form"].initial["form_key"]


def valid_data(client, place, **overrides) -> dict:
    town, village, _other_town, _other_village = place
    data = {
        "title": "村口路灯不亮",
        "body": "村口的路灯坏了一个多月，晚上出行很不方便。",
        "appeal_type": AppealType.HELP,
        "urgency": "normal",
        "category": "",
        "town": town.pk,
        "village": village.pk,
        "address": "幸福路8号",
        "citizen_name": "王小明",
        "citizen_mobile": "139 1234 5678",
        "consent_publish": "on",
        "form_key": form_key(client),
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def errors_of(response) -> dict:
    return response.context["form"].errors


# ---------------------------------------------------------------- submit


def test_submit_with_photo(client, place):
    _town, village, *_ = place
    photo = SimpleUploadedFile("现场.png", png_with_gps(), content_type="image/png")
    response = client.post(SUBMIT, valid_data(client, place, uploads=[photo]))
    assert response.status_code == 302
    assert response["Location"] == reverse("appeals:submitted")

    appeal = Appeal.objects.get()
    assert appeal.title == "村口路灯不亮"
    assert appeal.citizen_mobile == "13912345678"  # typed with spaces
    assert appeal.citizen_name == "王小明"
    assert appeal.division == village and appeal.town == village.parent
    assert appeal.consent_publish and appeal.channel == "web" and appeal.citizen is None

    attachment = Attachment.objects.get(appeal=appeal)
    assert attachment.content_type == "image/png" and attachment.original_name == "现场.png"
    with attachment.file.open("rb") as stored, Image.open(stored) as image:
        assert not image.getexif()
        assert "exif" not in image.info

    done = client.get(response["Location"])
    page = done.content.decode()
    assert appeal.number in page and "请截图保存" in page
    code = done.context["code"]
    assert check_query_code(code, appeal.query_code_hash)
    assert code in page
    # The acknowledgement SMS carries the same number and code.
    sms = OutboxMessage.objects.get(channel="sms", recipient="13912345678")
    assert appeal.number in sms.body and code in sms.body
    # The citizen can follow the appeal at once, without typing the code.
    assert client.get(reverse("appeals:status", args=[appeal.number])).status_code == 200


def test_submit_anonymous_without_mobile(client, place):
    response = client.post(
        SUBMIT,
        valid_data(client, place, anonymous="on", citizen_mobile="", citizen_name="王小明"),
    )
    assert response.status_code == 302
    appeal = Appeal.objects.get()
    assert appeal.anonymous and appeal.citizen_name == "" and appeal.citizen_mobile == ""


def test_logged_in_citizen_is_linked_and_prefilled(client, place):
    user = UserFactory(role=Role.CITIZEN, name="李四", mobile="13700001111")
    client.force_login(user)
    initial = client.get(SUBMIT).context["form"].initial
    assert initial["citizen_name"] == "李四" and initial["citizen_mobile"] == "13700001111"
    client.post(SUBMIT, valid_data(client, place))
    assert Appeal.objects.get().citizen == user


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"citizen_mobile": "1234567"}, "citizen_mobile", "请输入11位手机号码"),
        ({"citizen_mobile": ""}, "citizen_mobile", "请填写手机号码，或勾选“匿名反映”"),
        ({"body": ""}, "body", "请描述您反映的问题"),
        ({"body": "路灯"}, "body", "请把问题描述清楚（至少5个字）"),
        ({"title": ""}, "title", "请填写标题"),
        ({"appeal_type": "nonsense"}, "appeal_type", "nonsense"),
        ({"form_key": "stale"}, "form_key", "页面已过期，请重新提交"),
    ],
)
def test_invalid_inputs_write_nothing(client, place, overrides, field, message):
    response = client.post(SUBMIT, valid_data(client, place, **overrides))
    assert response.status_code == 200
    assert field in errors_of(response)
    assert message in " ".join(errors_of(response)[field])
    assert message in response.content.decode() or field == "appeal_type"
    assert Appeal.objects.count() == 0 and Attachment.objects.count() == 0


def test_stale_form_key_gets_a_fresh_one(client, place):
    response = client.post(SUBMIT, valid_data(client, place, form_key="stale"))
    fresh = response.context["form"]["form_key"].value()
    assert re.fullmatch(r"[0-9a-f]{32}", fresh)
    data = valid_data(client, place)
    assert client.post(SUBMIT, {**data, "form_key": fresh}).status_code == 302


def test_village_must_belong_to_town(client, place):
    _town, _village, _other_town, other_village = place
    response = client.post(SUBMIT, valid_data(client, place, village=other_village.pk))
    assert response.status_code == 200
    assert errors_of(response)["village"] == ["“柳树村”不属于“城关镇”，请重新选择"]
    assert Appeal.objects.count() == 0


def test_village_without_town_takes_its_town(client, place):
    """Without JavaScript every village is listed; picking one without a town is enough."""
    _town, _village, other_town, other_village = place
    page = client.get(SUBMIT).content.decode()
    assert "柳树村" in page and "杏花村" in page
    response = client.post(SUBMIT, valid_data(client, place, town="", village=other_village.pk))
    assert response.status_code == 302
    appeal = Appeal.objects.get()
    assert appeal.division == other_village and appeal.town == other_town


def test_villages_fragment_lists_the_towns_villages(client, place):
    town, *_ = place
    response = client.get(reverse("appeals:villages"), {"town": town.pk})
    page = response.content.decode()
    assert 'id="village-field"' in page
    assert "杏花村" in page and "柳树村" not in page


def test_renamed_executable_is_refused(client, place):
    exe = SimpleUploadedFile(
        "photo.jpg", b"MZ\x90\x00\x03" + b"\x00" * 200, content_type="image/jpeg"
    )
    response = client.post(SUBMIT, valid_data(client, place, uploads=[exe]))
    assert response.status_code == 200
    assert errors_of(response)["uploads"] == ["photo.jpg：只能上传 JPG、PNG、WebP 图片或 PDF 文件"]
    assert Appeal.objects.count() == 0 and Attachment.objects.count() == 0


def test_each_bad_file_gets_its_own_message_and_count_is_limited(client, place):
    good = SimpleUploadedFile("a.png", png_with_gps(), content_type="image/png")
    empty = SimpleUploadedFile("b.pdf", b"", content_type="application/pdf")
    text = SimpleUploadedFile("c.jpg", b"hello, not a picture", content_type="image/jpeg")
    response = client.post(SUBMIT, valid_data(client, place, uploads=[good, empty, text]))
    messages = errors_of(response)["uploads"]
    assert len(messages) == 2
    assert messages[0].startswith("b.pdf：") and messages[1].startswith("c.jpg：")

    many = [
        SimpleUploadedFile(f"{n}.png", png_with_gps(), content_type="image/png")
        for n in range(MAX_FILES + 1)
    ]
    response = client.post(SUBMIT, valid_data(client, place, uploads=many))
    assert errors_of(response)["uploads"] == [
        f"最多只能上传{MAX_FILES}个附件，您选择了{MAX_FILES + 1}个"
    ]
    assert Appeal.objects.count() == 0


def test_other_errors_ask_to_choose_files_again(client, place):
    photo = SimpleUploadedFile("a.png", png_with_gps(), content_type="image/png")
    response = client.post(SUBMIT, valid_data(client, place, title="", uploads=[photo]))
    assert response.context["files_lost"]
    assert "您选择的附件需要重新选择一次" in response.content.decode()


def test_category_choices_are_grouped_and_inactive_ones_left_out(client, place):
    roads = Category.objects.create(code="R", name="道路交通")
    lights = Category.objects.create(code="R1", name="路灯", parent=roads)
    Category.objects.create(code="R2", name="停用的", parent=roads, active=False)
    water = Category.objects.create(code="W", name="供水")
    choices = client.get(SUBMIT).context["form"].fields["category"].choices
    assert ("道路交通", [(roads.pk, "道路交通（其他）"), (lights.pk, "路灯")]) in choices
    assert (water.pk, "供水") in choices
    assert "停用的" not in str(choices)
    client.post(SUBMIT, valid_data(client, place, category=lights.pk))
    assert Appeal.objects.get().category == lights


def test_double_submit_creates_one_appeal(client, place):
    data = valid_data(client, place)
    first = client.post(SUBMIT, data)
    second = client.post(SUBMIT, data)
    assert first.status_code == second.status_code == 302
    assert Appeal.objects.count() == 1 and IdempotencyKey.objects.count() == 1
    # The page after the second click still shows the first submission's query code.
    done = client.get(reverse("appeals:submitted"))
    appeal = Appeal.objects.get()
    assert check_query_code(done.context["code"], appeal.query_code_hash)


def test_changed_resubmission_asks_before_a_second_appeal(client, place):
    data = valid_data(client, place)
    client.post(SUBMIT, data)
    changed = {**data, "title": "路灯还是不亮"}
    response = client.post(SUBMIT, changed)
    assert response.status_code == 200
    assert "这张表已经提交过一次" in response.content.decode()
    new_key = response.context["form"].data["form_key"]
    assert new_key != data["form_key"]
    assert client.post(SUBMIT, {**changed, "form_key": new_key}).status_code == 302
    assert Appeal.objects.count() == 2


def test_form_key_from_another_browser_does_not_replay(client, place, django_user_model):
    from django.test import Client

    data = valid_data(client, place)
    client.post(SUBMIT, data)
    other = Client()
    form_key(other)
    assert other.post(SUBMIT, data).status_code == 302
    assert Appeal.objects.count() == 2


def test_submissions_are_throttled_per_address(client, place, monkeypatch):
    monkeypatch.setattr(citizen, "SUBMIT_PER_IP", RateLimit("test-submit", 2, 3600))
    for _ in range(2):
        assert client.post(SUBMIT, valid_data(client, place)).status_code == 302
    refused = client.post(SUBMIT, valid_data(client, place))
    assert refused.status_code == 429
    assert "提交过于频繁" in refused.content.decode()
    assert Appeal.objects.count() == 2
    # Another address is not affected; the first one is free again after the hour.
    other = client.post(SUBMIT, valid_data(client, place), REMOTE_ADDR="10.1.1.1")
    assert other.status_code == 302
    with time_machine.travel(dt.timedelta(hours=1, minutes=1)):
        assert client.post(SUBMIT, valid_data(client, place)).status_code == 302
    assert Appeal.objects.count() == 4


# ---------------------------------------------------------------- track


def submitted(**fields) -> tuple[Appeal, str]:
    data = {"title": "路灯不亮", "body": "村口路灯坏了一个月了", "citizen_mobile": "13912345678"}
    data.update(fields)
    result = actions.submit(actions.AppealInput(**data))
    assert result.query_code
    return result.appeal, result.query_code


def replied(**fields) -> Appeal:
    """An appeal through 派单 → 签收 → 答复, waiting for the citizen's rating."""
    department = DepartmentFactory(name="住建局")
    dispatcher = UserFactory(role=Role.DISPATCHER)
    handler = UserFactory(role=Role.HANDLER, department=department)
    appeal, _code = submitted(**fields)
    actions.dispatch(appeal.pk, department_id=department.pk, by=dispatcher)
    actions.sign(appeal.pk, by=handler)
    actions.reply(appeal.pk, text="已安排电工更换路灯，现已恢复照明。", by=handler)
    return Appeal.objects.get(pk=appeal.pk)


def test_track_with_number_and_code(client):
    appeal, code = submitted()
    AppealEvent.objects.create(
        appeal=appeal, kind="note", text="内部备注：联系过村委", public=False
    )
    response = client.post(TRACK, {"number": appeal.number.lower(), "code": code.lower()})
    status_url = reverse("appeals:status", args=[appeal.number])
    assert response.status_code == 302 and response["Location"] == status_url
    page = client.get(status_url).content.decode()
    assert "诉求已受理" in page and "内部备注" not in page
    assert "139****5678" in page and "13912345678" not in page
    # Reloading works from the session; another browser is sent to the form.
    assert client.get(status_url).status_code == 200
    from django.test import Client

    assert Client().get(status_url)["Location"] == TRACK


def test_wrong_number_and_wrong_code_look_the_same(client):
    appeal, code = submitted()
    wrong_code = client.post(TRACK, {"number": appeal.number, "code": "AAAAAAAA"})
    wrong_number = client.post(TRACK, {"number": "YT-20000101-000001", "code": code})
    for response in (wrong_code, wrong_number):
        assert response.status_code == 200
        assert response.context["form"].non_field_errors() == [
            "受理编号或查询码不正确，请核对后重新输入"
        ]
    assert client.get(reverse("appeals:status", args=[appeal.number])).status_code == 302


def test_tracking_is_throttled_per_number_and_per_address(client):
    appeal, code = submitted()
    for n in range(5):
        client.post(TRACK, {"number": appeal.number, "code": "WRONG"}, REMOTE_ADDR=f"10.0.0.{n}")
    # Five wrong codes from five addresses lock the number, even for the right code.
    locked = client.post(TRACK, {"number": appeal.number, "code": code}, REMOTE_ADDR="10.0.1.1")
    assert locked.status_code == 429
    assert "查询失败次数过多" in locked.content.decode()
    with time_machine.travel(dt.timedelta(minutes=16)):
        assert client.post(TRACK, {"number": appeal.number, "code": code}).status_code == 302

    for n in range(20):
        client.post(TRACK, {"number": f"YT-20000101-{n:06d}", "code": "WRONG"})
    other, other_code = submitted()
    refused = client.post(TRACK, {"number": other.number, "code": other_code})
    assert refused.status_code == 429


def test_status_offers_rating_when_replied(client):
    appeal = replied()
    session = client.session
    session[citizen.SESSION_TRACKED] = [appeal.pk]
    session.save()
    response = client.get(reverse("appeals:status", args=[appeal.number]))
    page = response.content.decode()
    assert "已安排电工更换路灯" in page and "评价办理结果" in page
    assert response.context["rating_url"].startswith("/appeals/rate/")


# ---------------------------------------------------------------- rate


def test_satisfied_rating_closes(client):
    appeal = replied()
    url = actions.rating_url(appeal)
    page = client.get(url)
    assert page.status_code == 200 and "已安排电工更换路灯" in page.content.decode()
    response = client.post(url, {"resolved": "yes", "level": Rating.Level.SATISFIED})
    assert response.status_code == 302
    appeal.refresh_from_db()
    assert appeal.state == State.CLOSED and appeal.resolved is True
    again = client.get(url)
    assert "您已经评价过了" in again.content.decode()
    assert client.post(url, {"resolved": "no", "level": "unsatisfied"}).status_code == 200
    assert Rating.objects.filter(appeal=appeal).count() == 1


def test_unsatisfied_rating_stays_replied(client):
    appeal = replied()
    url = actions.rating_url(appeal)
    client.post(url, {"resolved": "no", "level": Rating.Level.UNSATISFIED, "comment": "还是不亮"})
    appeal.refresh_from_db()
    assert appeal.state == State.REPLIED and appeal.satisfaction == Rating.Level.UNSATISFIED
    assert Rating.objects.get(appeal=appeal).comment == "还是不亮"
    assert "督促承办单位重新办理" in client.get(url).content.decode()


def test_rating_form_needs_both_answers(client):
    appeal = replied()
    response = client.post(actions.rating_url(appeal), {"resolved": "yes"})
    assert response.status_code == 200
    assert response.context["form"].errors["level"] == ["请选择满意程度"]
    appeal.refresh_from_db()
    assert appeal.state == State.REPLIED


def test_expired_and_invalid_links_are_friendly(client):
    appeal = replied()
    url = actions.rating_url(appeal)
    with time_machine.travel(dt.timedelta(days=8)):
        expired = client.get(url)
    assert expired.status_code == 200 and "评价链接已过期" in expired.content.decode()
    invalid = client.get(reverse("appeals:rate", args=["not-a-token"]))
    assert invalid.status_code == 200 and "评价链接无效" in invalid.content.decode()
    appeal.refresh_from_db()
    assert appeal.state == State.REPLIED


def test_rating_link_before_reply_says_not_yet(client):
    appeal, _code = submitted()
    page = client.get(actions.rating_url(appeal)).content.decode()
    assert "现在还不能评价" in page


# ---------------------------------------------------------------- mine and tiles


def test_my_appeals(client, place):
    user = UserFactory(role=Role.CITIZEN, mobile="13700001111")
    mine, _code = submitted(title="我的诉求标题")
    mine.citizen = user
    mine.save(update_fields=["citizen"])
    submitted(title="别人的诉求")
    assert client.get(reverse("appeals:mine")).status_code == 302  # login first
    client.force_login(user)
    page = client.get(reverse("appeals:mine")).content.decode()
    assert "我的诉求标题" in page and "别人的诉求" not in page
    assert client.get(reverse("appeals:status", args=[mine.number])).status_code == 200


def test_home_tiles(client):
    page = client.get(reverse("core:home")).content.decode()
    for label, name in [("我要反映", "submit"), ("查询进度", "track"), ("公开答复", "public")]:
        assert label in page and reverse(f"appeals:{name}") in page


def test_pages_carry_no_inline_script_or_style(client, place):
    for url in (SUBMIT, TRACK, reverse("appeals:lookup"), reverse("appeals:public")):
        page = client.get(url).content.decode()
        assert "<script>" not in page and "style=" not in page
        assert not re.search(r"<style", page)
