"""Tracking numbers (YT-20261122-000123) and the citizen's secret query code."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import date

from django.conf import settings
from django.db import connection

# No 0/O, 1/I/L: the code is read out over the phone and typed by elderly citizens.
QUERY_CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
QUERY_CODE_LENGTH = 8


def next_daily_number(day: date) -> int:
    """The next number of the day, atomically, on SQLite and PostgreSQL alike."""
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO appeals_dailycounter (day, value) VALUES (%s, 1) "
            "ON CONFLICT (day) DO UPDATE SET value = appeals_dailycounter.value + 1 "
            "RETURNING value",
            [day],
        )
        row = cursor.fetchone()
    return int(row[0])


def format_number(prefix: str, day: date, value: int) -> str:
    return f"{prefix}-{day:%Y%m%d}-{value:06d}"


def new_query_code() -> str:
    return "".join(secrets.choice(QUERY_CODE_ALPHABET) for _ in range(QUERY_CODE_LENGTH))


def hash_query_code(code: str) -> str:
    # A keyed hash, not a password hash: the code is random (40 bits) and lookups are
    # rate-limited, and intake must stay fast under load.
    normalised = code.strip().upper()
    return hmac.new(settings.SECRET_KEY.encode(), normalised.encode(), hashlib.sha256).hexdigest()


def check_query_code(code: str, code_hash: str) -> bool:
    return hmac.compare_digest(hash_query_code(code), code_hash)
