from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from minsheng.core import tokens
from minsheng.core.models import ApiToken
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def run(*args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("token", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_create_prints_the_key_once_and_it_works(client):
    user = UserFactory(username="hotline")

    out, err = run("create", "--user", "hotline", "--name", "12345热线")

    key = out.strip()
    assert len(key) == tokens.KEY_LENGTH
    assert "只显示这一次" in err
    token = ApiToken.objects.get()
    assert (token.name, token.user, token.prefix) == ("12345热线", user, key[:8])
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {key}"}).status_code == 200
    listed, _err = run("list")
    assert key[:8] in listed
    assert key not in listed


def test_revoke_by_prefix(client):
    UserFactory(username="hotline")
    key = run("create", "--user", "hotline", "--name", "热线")[0].strip()

    out, _err = run("revoke", key[:8])

    assert "已吊销" in out
    assert ApiToken.objects.get().revoked_at is not None
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {key}"}).status_code == 401
    assert run("list")[0].strip() == "没有有效的令牌"
    assert "已吊销" in run("list", "--all")[0]


@pytest.mark.parametrize(
    "args",
    [
        ("create", "--user", "nobody", "--name", "热线"),
        ("create", "--user", "hotline", "--name", "  "),
        ("revoke", "ABCDEFGH"),
    ],
)
def test_mistakes_are_refused_clearly(args):
    UserFactory(username="hotline")

    with pytest.raises(CommandError) as error:
        run(*args)

    assert str(error.value)
    assert ApiToken.objects.count() == 0


def test_revoke_refuses_an_ambiguous_prefix():
    user = UserFactory()
    for name in ("甲", "乙"):
        token, _key = tokens.create_token(user, name)
        ApiToken.objects.filter(pk=token.pk).update(prefix="SAMEPREF")

    with pytest.raises(CommandError, match="多个"):
        run("revoke", "SAMEPREF")

    assert ApiToken.objects.filter(revoked_at__isnull=True).count() == 2
