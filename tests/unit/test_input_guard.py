"""The pieces of the input guard: ids, strict JSON, the depth bound."""

from __future__ import annotations

import pytest

from engine import MAX_ID, parse_id
from web.input_guard import MAX_DEPTH, InputRefused, strict_loads


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("1", 1),
        ("007", 7),
        (42, 42),
        (str(MAX_ID), MAX_ID),
        (str(MAX_ID + 1), None),
        ("²", None),
        ("٣", None),
        ("1_0", None),
        (" 1", None),
        ("+1", None),
        ("0", None),
        ("", None),
        ("9" * 5000, None),
        (True, None),
        (None, None),
        (1.0, None),
    ],
)
def test_parse_id_takes_ascii_digits_within_range_only(value, expected):
    assert parse_id(value) == expected


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


def test_json_nested_up_to_the_bound_is_accepted():
    assert strict_loads(nested(MAX_DEPTH)) is not None


@pytest.mark.parametrize(
    "text",
    [
        nested(MAX_DEPTH + 1),
        nested(100_000),
        '{"a": NaN}',
        "[Infinity]",
        "[-Infinity]",
        "[1e400]",
        '{"a": "\\u0000"}',
        '{"\\ud800": 1}',
        "[9007199254740992]",
        "[" + "9" * 5000 + "]",
        b'["\\xff"]'.decode("unicode_escape").encode("latin-1"),
        "{",
    ],
)
def test_strict_loads_refuses_with_a_chinese_reason(text):
    with pytest.raises(InputRefused) as caught:
        strict_loads(text)
    assert any("\u4e00" <= ch <= "\u9fff" for ch in str(caught.value))


def test_page_retry_data_goes_through_the_same_parser():
    from engine import InvalidDataError
    from web.blueprints.pages_ops import _json_data

    with pytest.raises(InvalidDataError) as caught:
        _json_data('{"x": NaN}')
    assert "NaN" in caught.value.fields["data"]
    assert _json_data('{"x": 1}') == {"x": 1}


@pytest.mark.parametrize("raw", ["nan", "NaN", "inf", "-Infinity", "1e999"])
def test_page_form_numbers_never_become_nan_or_infinity(raw):
    from werkzeug.datastructures import MultiDict

    from web.formrender import parse_form

    schema = {"type": "object", "properties": {"hours": {"type": "number"}}}
    assert parse_form(schema, MultiDict({"hours": raw})) == {"hours": raw}
    assert parse_form(schema, MultiDict({"hours": "1.5"})) == {"hours": 1.5}
