"""Password policy and the canonical form of usernames and names."""

from __future__ import annotations

import pytest

from engine.names import NameRefused, canonical_username, clean_name, clean_username
from engine.passwords import common_passwords, password_problem


@pytest.mark.parametrize(
    "password",
    ["Zp-review-7", "shui.li.2026", "评审Abc123", "QUIET-river-9", "Tz8#kq2m"],
)
def test_strong_passwords_pass(password):
    assert password_problem(password, "zhangsan") is None


@pytest.mark.parametrize(
    ("password", "why"),
    [
        ("", "必填"),
        ("Ab1-xyz", "至少 8 位"),  # 7 characters
        ("abcdefgh", "至少三类"),  # one class
        ("abcdefg1", "至少三类"),  # two classes
        ("ABCDEFG-", "至少三类"),
        ("12345678", "至少三类"),
        ("x" * 120 + "Ab1-" * 3, "不能超过"),
        ("Zhangsan-2026", "用户名"),  # contains the username, in another case
        ("Passw0rd!", "常见"),
        ("Aa123456", "常见"),
        ("qwer1234", "至少三类"),
        ("Qwer1234", "常见"),
        ("P@ssw0rd", "常见"),
        ("Admin@123", "常见"),
        ("Woaini1314", "常见"),
        ("Ab1-\x00xyz9", "控制字符"),
    ],
)
def test_weak_passwords_are_refused_in_chinese(password, why):
    problem = password_problem(password, "zhangsan")
    assert problem is not None and why in problem


def test_common_list_is_shipped_and_a_few_hundred_long():
    words = common_passwords()
    assert len(words) >= 300
    assert {"password1", "passw0rd!", "aa123456", "qwer1234"} <= words


def test_usernames_fold_to_one_canonical_form():
    assert clean_username("  ＺｈａｎｇＳａｎ_01 ") == "zhangsan_01"
    assert canonical_username("ZHANGSAN\u3000") == "zhangsan"


@pytest.mark.parametrize(
    "raw",
    [
        "zhang\u200bsan",  # zero-width space
        "zhang\u200dsan",  # zero-width joiner
        "\ufeffzhangsan",  # byte-order mark
        "zhangsan\u200e",  # left-to-right mark
        "zhang\u202esan",  # right-to-left override
        "zhang\u2066san",  # isolate
        "zhang\u00adsan",  # soft hyphen (Cf)
    ],
)
def test_invisible_characters_in_usernames_are_refused(raw):
    with pytest.raises(NameRefused, match="不可见"):
        clean_username(raw)


@pytest.mark.parametrize("raw", ["张三", "ab", "zhang san", "zhang@san", "x" * 65])
def test_usernames_outside_the_character_rule_are_refused(raw):
    with pytest.raises(NameRefused):
        clean_username(raw)


def test_names_are_trimmed_normalised_and_refused_when_invisible():
    assert clean_name("  宁波　甬江  设计院（一）\t") == "宁波 甬江 设计院(一)"
    for bad in ("宁波\u200b设计院", "宁波\u202e院计设", "张\u2069三", "李\x07四"):
        with pytest.raises(NameRefused, match="不可见"):
            clean_name(bad)
    with pytest.raises(NameRefused, match="必填"):
        clean_name(" \u3000 ")
