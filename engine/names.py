"""Account and organisation names: one canonical form, no invisible characters.

A name is trimmed and NFKC-normalised (full-width letters and digits, ideographic spaces and
compatibility characters fold to their plain forms) before it is checked, compared or stored,
so a padded or full-width look-alike cannot pose as a second account. Characters a reader
cannot see — zero-width spaces and joiners, bidi marks, embeddings, overrides and isolates,
the byte-order mark, any other format (Cf) character, control characters, surrogates,
private-use and unassigned code points — are refused rather than silently dropped.
"""

from __future__ import annotations

import re
import unicodedata

USERNAME = re.compile(r"[a-z0-9_.\-]{3,64}")
USERNAME_RULE = "用户名为 3-64 位字母、数字或 _ . -"
INVISIBLE_MESSAGE = "不能包含不可见字符或文字方向控制字符"
# Category C: Cc control, Cf format (zero-width, bidi, BOM), Cs surrogate, Co private, Cn unassigned.
_REFUSED_CATEGORIES = ("Cc", "Cf", "Cs", "Co", "Cn")


class NameRefused(ValueError):
    """A name that cannot be accepted; ``message`` is for the user (Chinese)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def invisible_characters(value: str) -> list[str]:
    """The code points of value that nobody can see (as U+XXXX), in order."""
    return [f"U+{ord(ch):04X}" for ch in value if unicodedata.category(ch) in _REFUSED_CATEGORIES]


def clean_name(value: str, *, max_len: int = 200) -> str:
    """The canonical form of a display name (person, unit, org); NameRefused if refused.

    Runs of white space inside the name become one space, so "宁波  设计院" and
    "宁波　设计院" are the same name.
    """
    normal = unicodedata.normalize("NFKC", value)
    # White space (including tabs and newlines) only separates words; anything else invisible
    # is refused.
    normal = " ".join(normal.split())
    if invisible_characters(normal):
        raise NameRefused(INVISIBLE_MESSAGE)
    if not normal:
        raise NameRefused("必填")
    if len(normal) > max_len:
        raise NameRefused(f"不能超过 {max_len} 个字符")
    return normal


def canonical_username(value: str) -> str:
    """The form a username is stored, compared and looked up in (NFKC, trimmed, lower case).

    Does not check the character rule: login uses this on whatever was typed.
    """
    return unicodedata.normalize("NFKC", value).strip().lower()


def clean_username(value: str) -> str:
    """A new account's username in canonical form; NameRefused if refused."""
    if invisible_characters(unicodedata.normalize("NFKC", value)):
        raise NameRefused(f"用户名{INVISIBLE_MESSAGE}")
    name = canonical_username(value)
    if not name:
        raise NameRefused("必填")
    if not USERNAME.fullmatch(name):
        raise NameRefused(USERNAME_RULE)
    return name
