"""Numeric ids as they arrive from outside: ASCII digits, within the database's integer range."""

from __future__ import annotations

import re

# PostgreSQL INTEGER columns hold ids; anything larger can never name a row.
MAX_ID = 2**31 - 1
# str.isdigit() also admits '²' and '٣', and int() accepts ' 7', '+7' and '7_0'.
_DIGITS = re.compile(r"[0-9]{1,10}")


def parse_id(value: object) -> int | None:
    """The id in value (an int or a string of ASCII digits), or None when it cannot be one."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        number = value
    elif isinstance(value, str) and _DIGITS.fullmatch(value):
        number = int(value)
    else:
        return None
    return number if 1 <= number <= MAX_ID else None
