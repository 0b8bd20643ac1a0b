"""Finding one's appeals by mobile number and an SMS code."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import time_machine
from django.core.cache import cache
from django.urls import reverse

from minsheng.appeals import actions, lookup
from minsheng.appeals.models import LookupCode
from minsheng.core.models import OutboxMessage

pytestmark = pytest.mark.django_db

START = reverse("appeals:lookup")
VERIFY = reverse("appeals:lookup_verify")
MOBILE = "13912345678"


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def appeals(db):
    made = []
    for title in ("路灯不亮", "垃圾未清运"):
        made.append(
            actions.submit(
                actions.AppealInput(title=title, body="请尽快处理这个问题", citizen_mobile=MOBILE)
            ).appeal
        )
    actions.submit(
        actions.AppealInput(
            title="别人的诉求", body="请尽快处理这个问题", citizen_mobile="13800001111"
        )
    )
    return made


def sent_code(mobile: str = MOBILE) -> str:
    message = OutboxMessage.objects.filter(kind="appeal.lookup_code", recipient=mobile).latest("pk")
    match = re.search(r"验证码为(\d{6})", message.body)
    assert match, message.body
    return match.group(1)


def test_lookup_flow(client, appeals):
    response = client.post(START, {"mobile": "139-1234-5678"})
    assert response.status_code == 302 and response["Location"] == VERIFY
    code = sent_code()
    stored = LookupCode.objects.get(mobile=MOBILE)
    assert code not in stored.code_hash  # only a keyed hash is kept
    assert stored.expires_at - stored.created_at == dt.timedelta(minutes=10)

    page = client.get(VERIFY).content.decode()
    assert "139****5678" in page and MOBILE not in page
    assert client.post(VERIFY, {"code": code})["Location"] == START
    listing = client.get(START)
    titles = [a.title for a in listing.context["appeals"]]
    assert sorted(titles) == ["垃圾未清运", "路灯不亮"]
    assert "别人的诉求" not in listing.content.decode()
    # Each one opens from the list.
    status = reverse("appeals:status", args=[appeals[0].number])
    assert client.get(status).status_code == 200
    # The code works once only.
    stored.refresh_from_db()
    assert stored.used_at is not None

    # The session keeps the number open for 30 minutes, then the form comes back.
    with time_machine.travel(dt.timedelta(minutes=31)):
        assert "appeals" not in client.get(START).context
        assert client.get(status).status_code == 302

    client.post(reverse("appeals:lookup_end"))
    assert "appeals" not in client.get(START).context


def test_same_answer_for_a_mobile_without_appeals(client, appeals):
    with_appeals = client.post(START, {"mobile": MOBILE})
    without = client.post(START, {"mobile": "13600000000"}, REMOTE_ADDR="10.0.0.9")
    assert with_appeals.status_code == without.status_code == 302
    assert with_appeals["Location"] == without["Location"] == VERIFY
    # A code row exists for both (so throttling is the same), but no SMS goes to a stranger.
    assert LookupCode.objects.filter(mobile="13600000000").count() == 1
    assert not OutboxMessage.objects.filter(recipient="13600000000").exists()


def test_invalid_mobile(client):
    response = client.post(START, {"mobile": "12345"})
    assert response.status_code == 200
    assert response.context["form"].errors["mobile"] == ["请输入11位手机号码"]
    assert LookupCode.objects.count() == 0


def test_wrong_codes_lock_the_code(client, appeals):
    client.post(START, {"mobile": MOBILE})
    code = sent_code()
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(lookup.MAX_ATTEMPTS - 1):
        response = client.post(VERIFY, {"code": wrong})
        assert response.context["form"].errors["code"] == ["验证码不正确，请核对短信后重新输入"]
    last = client.post(VERIFY, {"code": wrong})
    assert last.context["form"].errors["code"] == ["验证码错误次数过多，请重新获取验证码"]
    # Now even the right code is refused; nothing was opened.
    refused = client.post(VERIFY, {"code": code})
    assert refused.status_code == 200
    assert LookupCode.objects.get().attempts == lookup.MAX_ATTEMPTS
    assert "appeals" not in client.get(START).context


def test_code_format_is_checked(client, appeals):
    client.post(START, {"mobile": MOBILE})
    response = client.post(VERIFY, {"code": "12ab"})
    assert response.context["form"].errors["code"] == ["验证码是6位数字"]
    assert LookupCode.objects.get().attempts == 0


def test_code_expires(client, appeals):
    client.post(START, {"mobile": MOBILE})
    code = sent_code()
    with time_machine.travel(dt.timedelta(minutes=11)):
        response = client.post(VERIFY, {"code": code})
    assert response.context["form"].errors["code"] == ["验证码已过期或尚未获取，请重新获取验证码"]


def test_resend_is_throttled(client, appeals):
    client.post(START, {"mobile": MOBILE})
    again = client.post(START, {"mobile": MOBILE})
    # The citizen is back on the code page with the reason.
    assert again["Location"] == VERIFY
    page = client.get(VERIFY).content.decode()
    assert "验证码已发送，请1分钟后再重新获取" in page
    assert LookupCode.objects.count() == 1
    with time_machine.travel(dt.timedelta(seconds=61)):
        client.post(START, {"mobile": MOBILE})
        assert LookupCode.objects.count() == 2
        # Only the newest code counts.
        assert client.post(VERIFY, {"code": sent_code()})["Location"] == START


def test_daily_limit_per_number():
    for minute in range(lookup.MAX_PER_DAY):
        with time_machine.travel(dt.timedelta(minutes=2 * minute)):
            lookup.request_code(MOBILE, ip=f"10.0.0.{minute}")
    with (
        time_machine.travel(dt.timedelta(minutes=2 * lookup.MAX_PER_DAY)),
        pytest.raises(lookup.LookupRefused, match="今天获取验证码的次数已用完"),
    ):
        lookup.request_code(MOBILE, ip="10.0.1.1")
    with time_machine.travel(dt.timedelta(days=1, minutes=1)):
        lookup.request_code(MOBILE, ip="10.0.1.1")


def test_requests_are_throttled_per_address(db):
    for n in range(lookup.REQUEST_PER_IP.limit):
        lookup.request_code(f"1360000{n:04d}", ip="10.9.9.9")
    with pytest.raises(lookup.LookupRefused, match="获取验证码过于频繁"):
        lookup.request_code("13611112222", ip="10.9.9.9")
    lookup.request_code("13611112222", ip="10.9.9.10")


def test_a_code_opens_only_its_own_number(appeals):
    lookup.request_code(MOBILE, ip=None)
    code = sent_code()
    lookup.request_code("13800001111", ip=None)
    with pytest.raises(lookup.LookupRefused):
        lookup.verify_code("13800001111", code, ip=None)
    lookup.verify_code(MOBILE, code, ip=None)


def test_rate_limit_window():
    limit = lookup.RateLimit("test", 2, 60)
    limit.hit("a")
    limit.hit("a")
    assert limit.exceeded("a") and not limit.exceeded("b") and not limit.exceeded(None)
    with time_machine.travel(dt.timedelta(seconds=61)):
        assert not limit.exceeded("a")
    limit.reset("a")
    assert not limit.exceeded("a")


def test_resend_from_the_code_page(client, appeals):
    client.post(START, {"mobile": MOBILE})
    too_soon = client.post(VERIFY, {"resend": "1"}, follow=True)
    assert "验证码已发送，请1分钟后再重新获取" in too_soon.content.decode()
    with time_machine.travel(dt.timedelta(seconds=61)):
        resent = client.post(VERIFY, {"resend": "1"}, follow=True)
        assert "验证码已重新发送" in resent.content.decode()
    assert LookupCode.objects.filter(mobile=MOBILE).count() == 2
