from __future__ import annotations

import os

import pytest

from tests.factories import UserFactory


@pytest.fixture(autouse=True)
def _fresh_calendar():
    """The working-day calendar caches years per process; a test's holidays must not leak
    into the next one (rolled-back or flushed rows send no signals)."""
    from minsheng.core import calendar

    calendar.clear_cache()
    yield
    calendar.clear_cache()


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """Argon2 takes about half a second per hash here; tests only need hashes to match."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _small_demo(settings):
    """`minsheng demo` simulates a year of appeals; tests that load the demo need only a few."""
    settings.DEMO_APPEALS = 60
    settings.DEMO_SERVICE_EVENTS = 300
    settings.DEMO_PROJECTS = False
    settings.DEMO_COMMUNITY = False


@pytest.fixture(autouse=True)
def _private_media(settings, tmp_path_factory):
    """Uploads and demo documents go to a temporary directory, never into var/media."""
    settings.MEDIA_ROOT = tmp_path_factory.mktemp("media")


@pytest.fixture
def make_user(db):
    """``make_user(role=..., department=...)`` creates a user who can log in with PASSWORD."""
    return UserFactory


@pytest.fixture
def logged_in(client, make_user):
    """A test client logged in as a fresh user of the given role."""

    def login(role: str = "handler", **kwargs):
        user = make_user(role=role, **kwargs)
        client.force_login(user)
        return client, user

    return login


@pytest.fixture(scope="session")
def redis_url() -> str:
    """The Redis server for ``@pytest.mark.redis`` tests: TEST_REDIS_URL, else the local one
    (database 15). Unreachable, the tests skip, except in CI (CI=true), where they fail."""
    import redis

    url = os.environ.get("TEST_REDIS_URL") or "redis://127.0.0.1:6379/15"
    try:
        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
    except redis.exceptions.ConnectionError as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"Redis at {url} is unreachable in CI: {exc}")
        pytest.skip(f"Redis at {url} is unreachable: {exc}")
    return url


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test with real commits gets serialized rollback.

    Such a test ends with a flush, which empties the rows the data migrations wrote (time
    limits, refusal rules, synonyms, ...) for the tests after it in the same process, and a
    later serialized-rollback test would then restore its rows on top of the content types
    the flush re-created and fail. Restoring after every transactional test avoids both.
    """
    for item in items:
        names = getattr(item, "fixturenames", None)
        if names is None:
            continue
        marker = item.get_closest_marker("django_db")
        transactional = (marker is not None and marker.kwargs.get("transaction")) or (
            "transactional_db" in names or "live_server" in names
        )
        if transactional and "django_db_serialized_rollback" not in names:
            names.append("django_db_serialized_rollback")
