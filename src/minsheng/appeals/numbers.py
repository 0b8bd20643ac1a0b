"""Tracking numbers (YT-20261122-000123) and the citizen's secret query code."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import date
from typing import Any

from django.conf import settings
from django.db import connection

# No 0/O, 1/I/L: the code is read out over the phone and typed by elderly citizens.
QUERY_CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
QUERY_CODE_LENGTH = 8


# Created by migration 0005 on PostgreSQL.
SEQUENCE = "appeals_number_seq"

# On PostgreSQL: draw a value, record it as the day's base unless a base is there already
# (the day's first number is then 1), and read the base back. ON CONFLICT DO NOTHING takes
# no lock on the existing row, so concurrent intakes never wait for each other here.
_SEQUENCE_SQL = f"""
WITH drawn AS (SELECT nextval('{SEQUENCE}') AS value),
     inserted AS (
       INSERT INTO appeals_dailycounter (day, value, sequence_base)
       SELECT %(day)s, 0, value - 1 FROM drawn
       ON CONFLICT (day) DO NOTHING
       RETURNING sequence_base)
SELECT drawn.value, COALESCE(
  (SELECT sequence_base FROM inserted),
  (SELECT sequence_base FROM appeals_dailycounter WHERE day = %(day)s))
FROM drawn
"""  # noqa: S608 (no user input: the sequence name is a constant)


def next_daily_number(day: date) -> int:
    """The next number of the day. Numbers are unique; a rolled-back intake may leave a
    gap on PostgreSQL, never a duplicate."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            return _from_sequence(cursor, day)
        cursor.execute(
            "INSERT INTO appeals_dailycounter (day, value) VALUES (%s, 1) "
            "ON CONFLICT (day) DO UPDATE SET value = appeals_dailycounter.value + 1 "
            "RETURNING value",
            [day],
        )
        row = cursor.fetchone()
    return int(row[0])


def _from_sequence(cursor: Any, day: date) -> int:
    while True:
        cursor.execute(_SEQUENCE_SQL, {"day": day})
        value, base = cursor.fetchone()
        if base is None:
            # The day's row was committed by another intake after this statement's
            # snapshot was taken (the first moments of a day): it is visible now.
            cursor.execute("SELECT sequence_base FROM appeals_dailycounter WHERE day = %s", [day])
            base = cursor.fetchone()[0]
        if value > base:
            return int(value - base)
        # Drawn before the intake that set the day's base drew its own: draw again (the
        # next value is past the base, so this loops at most once).


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
