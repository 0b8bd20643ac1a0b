"""Resident identity card numbers (GB 11643-1999): checking, and the keyed hash they are
stored as.

The number itself is never stored. Records keep ``id_key`` (HMAC-SHA256 keyed with the
SECRET_KEY, so that a copy of the database alone cannot be searched for a known number)
and the masked form for display. Rotating SECRET_KEY therefore means re-registering: the
old keys no longer match (docs/operations.md).
"""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _

from minsheng.core.masking import mask_id_number

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK_CHARS = "10X98765432"


def check_char(first17: str) -> str:
    """The GB 11643 check character of the first 17 digits."""
    return CHECK_CHARS[sum(int(d) * w for d, w in zip(first17, WEIGHTS, strict=True)) % 11]


def normalise(value: str) -> str:
    return value.strip().replace(" ", "").upper()


def validate(value: str) -> str:
    """The number in canonical form (upper-case X), or ValidationError with the reason."""
    number = normalise(value)
    if (
        len(number) != 18
        or not number[:17].isdigit()
        or not (number[17].isdigit() or number[17] == "X")
    ):
        raise ValidationError(_("身份证号码应为18位：17位数字加1位数字或X"), code="id_format")
    try:
        born = dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise ValidationError(_("身份证号码中的出生日期不存在"), code="id_birth_date") from None
    if born.year < 1900 or born > dt.date.today():
        raise ValidationError(_("身份证号码中的出生日期不存在"), code="id_birth_date")
    if check_char(number[:17]) != number[17]:
        raise ValidationError(_("身份证号码校验位不对，请核对后重新输入"), code="id_check_digit")
    return number


def key(number: str) -> str:
    """The keyed hash a valid, canonical number is stored and looked up by."""
    return salted_hmac("minsheng.core.idnumber", number, algorithm="sha256").hexdigest()


def masked(number: str) -> str:
    return mask_id_number(number)
