"""Headless Debian Chromium for the end-to-end tests, driven by Playwright.

Playwright never downloads a browser here: it drives the system's /usr/bin/chromium
(``make e2e-deps`` installs it in CI). Without it the tests skip and say why, except in CI
(``CI=true``), where they must run.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connections

CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
TIMEOUT_MS = 15_000


def _unavailable(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(
            f"{reason}; in CI the end-to-end tests must run (make e2e-deps installs Chromium)"
        )
    pytest.skip(f"{reason}: end-to-end tests skipped (apt-get install chromium fonts-noto-cjk)")


@pytest.fixture(scope="session", autouse=True)
def _static_root() -> None:
    """WhiteNoise warns about a missing STATIC_ROOT when the live server starts."""
    Path(settings.STATIC_ROOT).mkdir(parents=True, exist_ok=True)


@pytest.fixture
def page(transactional_db, live_server, monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    """A fresh browser page whose relative URLs go to the live server.

    ``transactional_db`` comes first so that the session-wide live server starts after the
    test database exists and stops before it is dropped.
    """
    if not CHROMIUM.exists():
        _unavailable(f"{CHROMIUM} not found")
    try:
        from playwright.sync_api import Error, sync_playwright
    except ImportError:
        _unavailable("playwright is not installed")
    # Playwright's sync API keeps an event loop in this thread, and Django refuses ORM calls
    # from a thread with a running loop; the test's own setup queries are synchronous.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        try:
            browser = playwright.chromium.launch(
                executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
            )
        except Error as exc:
            _unavailable(f"Chromium did not start: {exc.message.splitlines()[0]}")
        context = browser.new_context(
            base_url=live_server.url, locale="zh-CN", timezone_id="Asia/Shanghai"
        )
        context.set_default_timeout(TIMEOUT_MS)
        try:
            yield context.new_page()
        finally:
            context.close()
            browser.close()
            # Queries made while Playwright ran used connections of their own context;
            # close them, or PostgreSQL refuses to drop the test database at the end.
            connections.close_all()
