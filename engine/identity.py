"""Checks for Chinese identifiers: credit codes, resident ID numbers, phone numbers."""

from __future__ import annotations

import re
from datetime import date

CREDIT_CODE_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_CREDIT_CODE_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK_CHARS = "10X98765432"
# [0-9] rather than \d: \d also matches full-width and other Unicode digits.
_ID_SHAPE = re.compile(r"[0-9]{17}[0-9X]")

_MOBILE = re.compile(r"1[3-9][0-9]{9}")
# Area code 0 + 2-3 digits (010, 0574); local numbers never start with 0 or 1.
_LANDLINE = re.compile(r"0[1-9][0-9]{1,2}-?[2-9][0-9]{6,7}")


def credit_code_check_char(first17: str) -> str:
    """Return the GB 32100-2015 check character for the first 17 characters."""
    total = sum(
        CREDIT_CODE_CHARS.index(ch) * w for ch, w in zip(first17, _CREDIT_CODE_WEIGHTS, strict=True)
    )
    return CREDIT_CODE_CHARS[(31 - total % 31) % 31]


def credit_code_problem(code: str) -> str | None:
    """Return why code is not a valid unified social credit code, or None if it is."""
    if len(code) != 18:
        return "统一社会信用代码应为18位"
    if code != code.upper():
        return "统一社会信用代码中的字母应为大写"
    if any(ch not in CREDIT_CODE_CHARS for ch in code):
        return "统一社会信用代码含有无效字符（不使用 I、O、Z、S、V）"
    if credit_code_check_char(code[:17]) != code[17]:
        return "统一社会信用代码校验位错误"
    return None


def id_check_char(first17: str) -> str:
    """Return the GB 11643-1999 check character for the first 17 digits."""
    total = sum(int(ch) * w for ch, w in zip(first17, _ID_WEIGHTS, strict=True))
    return _ID_CHECK_CHARS[total % 11]


def id_number_problem(id_number: str, *, today: date | None = None) -> str | None:
    """Return why id_number is not a valid resident ID number, or None if it is."""
    if len(id_number) != 18:
        return "身份证号码应为18位"
    number = id_number.upper()
    if not _ID_SHAPE.fullmatch(number):
        return "身份证号码前17位应为数字，最后一位为数字或X"
    try:
        born = id_number_birth_date(number)
    except ValueError:
        return "身份证号码中的出生日期无效"
    if born.year < 1900 or born > (today or date.today()):
        return "身份证号码中的出生日期无效"
    if id_check_char(number[:17]) != number[17]:
        return "身份证号码校验位错误"
    return None


def id_number_birth_date(id_number: str) -> date:
    """Return the birth date encoded in digits 7-14; ValueError if it is not a real date."""
    digits = id_number[6:14]
    if not re.fullmatch(r"[0-9]{8}", digits):
        raise ValueError(f"no birth date in ID number {id_number!r}")
    return date(int(digits[:4]), int(digits[4:6]), int(digits[6:]))


def id_number_gender(id_number: str) -> str:
    """Return "男" or "女" from the 17th digit (odd means male)."""
    digit = id_number[16:17]
    if not digit.isascii() or not digit.isdigit():
        raise ValueError(f"no gender digit in ID number {id_number!r}")
    return "男" if int(digit) % 2 else "女"


def phone_problem(phone: str) -> str | None:
    """Return why phone is not a mainland mobile or landline number, or None if it is."""
    if _MOBILE.fullmatch(phone) or _LANDLINE.fullmatch(phone):
        return None
    return "电话号码应为11位手机号码或带区号的固定电话（如 0574-87654321）"
