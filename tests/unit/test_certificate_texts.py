"""What a certificate says: its number, the title it confers, the not-passed notice."""

from engine.certificate_issue import certificate_number, not_passed_text, title_of
from storage import Application

RULES = {"titles": {"工程": {"中级": "工程师", "副高级": "高级工程师"}}}


def test_number_is_prefix_year_and_five_digit_sequence():
    assert certificate_number("NBSLZJ", 2026, 7) == "NBSLZJ202600007"
    assert certificate_number("X", 2027, 12345) == "X202712345"


def test_title_names_specialty_level_and_the_rules_title():
    app = Application(series="工程", level="中级", specialty="水利工程")
    assert title_of(app, RULES) == "水利工程 中级 工程师"


def test_title_falls_back_to_the_series_when_the_rules_name_none():
    app = Application(series="经济", level="中级", specialty="财务")
    assert title_of(app, RULES) == "财务 中级 经济"
    assert title_of(app, {}) == "财务 中级 经济"


def test_not_passed_notice_names_the_application_and_the_reason():
    text = not_passed_text("工程", "中级", "水利工程", "同意票未达到出席专家的三分之二")
    assert text.startswith("您申报的工程系列中级（水利工程）职称未通过评审委员会评审")
    assert text.endswith("同意票未达到出席专家的三分之二")
