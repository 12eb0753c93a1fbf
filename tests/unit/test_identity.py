from datetime import date

import pytest

from engine.identity import (
    credit_code_problem,
    id_number_birth_date,
    id_number_gender,
    id_number_problem,
    phone_problem,
)

# Check characters computed here from the standards' formulas, independently of engine code.
CREDIT_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
CREDIT_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def make_credit_code(first17: str) -> str:
    total = sum(CREDIT_CHARS.index(c) * w for c, w in zip(first17, CREDIT_WEIGHTS, strict=True))
    return first17 + CREDIT_CHARS[(31 - total % 31) % 31]


def make_id_number(first17: str) -> str:
    total = sum(int(c) * w for c, w in zip(first17, ID_WEIGHTS, strict=True))
    return first17 + "10X98765432"[total % 11]


def wrong_last_char(value: str, alphabet: str) -> str:
    return value[:-1] + next(c for c in alphabet if c != value[-1])


def test_credit_code_public_sample_is_valid():
    assert credit_code_problem("91350100M000100Y43") is None


def test_credit_code_generated_values_are_valid():
    for first17 in ("91330203MA2AAAAAA", "12330000470000000", "Y1110108MB1234567"):
        assert credit_code_problem(make_credit_code(first17)) is None


def test_credit_code_wrong_check_char():
    code = wrong_last_char("91350100M000100Y43", CREDIT_CHARS)
    assert credit_code_problem(code) == "统一社会信用代码校验位错误"


def test_credit_code_wrong_length():
    assert credit_code_problem("91350100M000100Y4") == "统一社会信用代码应为18位"


def test_credit_code_rejects_letters_outside_charset():
    # I, O, Z, S and V are excluded so they cannot be confused with 1, 0, 2, 5 and U.
    assert "无效字符" in credit_code_problem("91350100M000100O43")


def test_credit_code_rejects_lower_case():
    assert "大写" in credit_code_problem("91350100m000100y43")


def test_id_number_generated_value_is_valid():
    assert id_number_problem(make_id_number("33020319850612003")) is None


def test_id_number_standard_example_with_x():
    # The worked example printed in GB 11643-1999 itself.
    assert id_number_problem("11010519491231002X") is None
    assert id_number_problem("11010519491231002x") is None


def test_id_number_wrong_check_digit():
    number = wrong_last_char(make_id_number("33020319850612003"), "0123456789")
    assert id_number_problem(number) == "身份证号码校验位错误"


@pytest.mark.parametrize("first17", ["33020319850230003", "33020318991231003", "33020319851312003"])
def test_id_number_invalid_birth_date(first17):
    assert id_number_problem(make_id_number(first17)) == "身份证号码中的出生日期无效"


def test_id_number_future_birth_date():
    number = make_id_number("33020320300101003")
    assert id_number_problem(number, today=date(2026, 6, 1)) == "身份证号码中的出生日期无效"
    assert id_number_problem(number, today=date(2030, 1, 1)) is None


@pytest.mark.parametrize(
    ("number", "message"),
    [
        ("330203850612003", "身份证号码应为18位"),
        ("3302031985061200X3", "身份证号码前17位应为数字，最后一位为数字或X"),
        ("33020319850612003Y", "身份证号码前17位应为数字，最后一位为数字或X"),
        ("３3020319850612003X", "身份证号码前17位应为数字，最后一位为数字或X"),
    ],
)
def test_id_number_malformed(number, message):
    assert id_number_problem(number) == message


def test_id_number_birth_date_and_gender():
    male = make_id_number("33020319850612003")
    female = make_id_number("33020319991231004")
    assert id_number_birth_date(male) == date(1985, 6, 12)
    assert id_number_gender(male) == "男"
    assert id_number_birth_date(female) == date(1999, 12, 31)
    assert id_number_gender(female) == "女"


def test_id_number_helpers_reject_garbage():
    with pytest.raises(ValueError):
        id_number_birth_date("3302031985AB12003X")
    with pytest.raises(ValueError):
        id_number_gender("330203")


@pytest.mark.parametrize(
    "phone", ["13812345678", "19912345678", "0574-87654321", "057487654321", "010-62345678"]
)
def test_phone_valid(phone):
    assert phone_problem(phone) is None


@pytest.mark.parametrize(
    "phone",
    [
        "12812345678",
        "1381234567",
        "138123456789",
        "87654321",
        "0574-0765432",
        "010-12345678",
        "138-1234-5678",
    ],
)
def test_phone_invalid(phone):
    assert phone_problem(phone) == "电话号码应为11位手机号码或带区号的固定电话（如 0574-87654321）"
