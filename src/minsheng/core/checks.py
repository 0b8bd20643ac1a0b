"""System checks for a deployment (run by ``minsheng check --deploy``)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register


@register(Tags.security, deploy=True)
def production_settings(app_configs: Any, **kwargs: Any) -> list[Error | Warning]:
    problems: list[Error | Warning] = []
    if not settings.PRODUCTION:
        problems.append(
            Warning(
                "MINSHENG_ENV is not 'production'",
                hint="Set MINSHENG_ENV=production",
                id="minsheng.W001",
            )
        )
    if not settings.ALLOWED_HOSTS:
        problems.append(
            Error("ALLOWED_HOSTS is empty", hint="Set ALLOWED_HOSTS", id="minsheng.E001")
        )
    if settings.DATABASES["default"]["ENGINE"].endswith("sqlite3"):
        problems.append(
            Warning(
                "Using the embedded SQLite database",
                hint="Set DATABASE_URL to PostgreSQL for a county-wide deployment",
                id="minsheng.W002",
            )
        )
    return problems
