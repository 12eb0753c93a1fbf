"""The committee's quorum, pass threshold and recusal as pure rules (DOMAIN.md §8)."""

from __future__ import annotations

import random

import pytest

from engine import panels
from engine.review_rules import ReviewRules, parse_rules


def test_worked_example_of_the_national_rules():
    rules = parse_rules({"quorum": [2, 3], "pass": [2, 3]})
    assert rules.quorum_met(7, 5) and not rules.quorum_met(7, 4)
    assert rules.passed(4, 5) and not rules.passed(3, 5)
    assert rules.least_present(7) == 5 and rules.least_present(11) == 8
    assert rules.passed(2, 3) and not rules.passed(0, 0)


def test_rules_file_defaults_and_refusals():
    assert parse_rules(None) == ReviewRules()
    assert parse_rules({"min_panel_size": 11}).min_panel_size == 11
    for bad in (
        {"quorum": [3, 2]},
        {"pass": [0, 3]},
        {"pass": "2/3"},
        {"min_panel_size": 0},
        {"result_publicity_workdays": True},
    ):
        with pytest.raises(ValueError):
            parse_rules(bad)


def expert(n: int, **kw) -> panels.Expert:
    return panels.Expert(n, f"exp_{n}", f"专家{n}", **kw)


APPLICANT = panels.Applicant(
    7, "李四", "330204199001010011", "宁波测试设计院", "91330212MA2000001X"
)


def test_recusal_for_same_unit_and_declared_relation():
    same = expert(1, unit_credit_code="91330212ma2000001x")
    related = expert(2, relations=frozenset({"330204199001010011"}))
    free = expert(3, unit_credit_code="91330212MA2000002Y")
    found = panels.exclusions([same, related, free], [APPLICANT])
    assert [(x.expert.username, x.application_id) for x in found] == [("exp_1", 7), ("exp_2", 7)]
    assert "宁波测试设计院" in found[0].reason and "利害关系" in found[1].reason


def test_draw_by_specialty_without_replacement():
    pool = [expert(n, specialty="水利工程" if n % 2 else "土木工程") for n in range(1, 11)]
    water = panels.eligible(pool, "水利工程")
    assert {e.user_id for e in water} == {1, 3, 5, 7, 9}
    drawn = panels.draw(water, 3, random.Random(4))
    assert len({e.user_id for e in drawn}) == 3 and set(drawn) <= set(water)
    assert panels.eligible(pool, "") == pool
