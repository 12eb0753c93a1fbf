"""Eligibility hints from the designer-owned rules file."""

from __future__ import annotations

import copy
from datetime import date
from pathlib import Path

from engine.eligibility import hints, load_rules
from tests.flows import DOSSIER

RULES = load_rules(Path(__file__).resolve().parents[2] / "bpmn")
TODAY = date(2026, 11, 26)


def _by_check(dossier, application=None):
    return {h["check"]: h for h in hints(RULES, dossier, application or {}, TODAY)}


def test_bachelor_with_nine_years_as_assistant_engineer_is_eligible():
    out = _by_check(DOSSIER, {"title_applied": "工程师"})
    assert out["seniority"]["ok"] is True and "要求不少于 4 年" in out["seniority"]["detail"]
    assert out["appraisal"]["ok"] is True and out["continuing_education"]["ok"] is True
    assert out["post_quota"]["ok"] is None


def test_short_seniority_basic_pass_and_missing_hours_are_flagged():
    dossier = copy.deepcopy(DOSSIER)
    dossier["current_title"]["obtained"] = "2024-06-01"
    dossier["appraisals"][-1]["grade"] = "基本合格"
    dossier["continuing_education"] = [
        r for r in dossier["continuing_education"] if r["year"] != 2024
    ]
    out = _by_check(dossier, {"title_applied": "工程师"})
    assert out["seniority"]["ok"] is False and "已满 2 年" in out["seniority"]["detail"]
    assert out["appraisal"]["ok"] is False and "2025年基本合格" in out["appraisal"]["detail"]
    assert (
        out["continuing_education"]["ok"] is False
        and "2024年0学时" in out["continuing_education"]["detail"]
    )


def test_thresholds_come_from_the_rules_file():
    rules = copy.deepcopy(RULES)
    rules["seniority"]["工程师"]["years_after_title"]["本科"] = 10
    out = {h["check"]: h for h in hints(rules, DOSSIER, {"title_applied": "工程师"}, TODAY)}
    assert out["seniority"]["ok"] is False and "要求不少于 10 年" in out["seniority"]["detail"]


def test_post_quota_checked_for_public_institution_staff():
    dossier = copy.deepcopy(DOSSIER)
    dossier["post_quota"] = {"post_level": "中级", "approved_posts": 5, "occupied_posts": 5}
    out = _by_check(dossier, {"title_applied": "工程师", "is_public_institution_staff": True})
    assert out["post_quota"]["ok"] is False and "无空缺" in out["post_quota"]["detail"]


def test_hard_rules_block_unless_waived_by_an_exceptional_declaration():
    from engine.eligibility import blocking, exceptional_conditions

    dossier = copy.deepcopy(DOSSIER)
    dossier["current_title"]["obtained"] = "2024-06-01"
    application = {"title_applied": "工程师"}
    found = hints(RULES, dossier, application, TODAY)
    assert [h["check"] for h in blocking(RULES, found, application)] == ["seniority"]
    declared = {**application, "exceptional": True, "exceptional_conditions": ["major_award"]}
    assert blocking(RULES, found, declared) == []
    assert exceptional_conditions(RULES, declared) == [
        RULES["exceptional"]["conditions"][0]["label"]
    ]
    # not applicable (ok None) never blocks
    assert all(h["ok"] is not None for h in blocking(RULES, found, application))


def test_the_application_form_offers_exactly_the_rules_files_exceptional_conditions():
    import json

    form = json.loads(
        (
            Path(__file__).resolve().parents[2] / "bpmn/forms/submit_application.schema.json"
        ).read_text()
    )
    offered = [o["const"] for o in form["properties"]["exceptional_conditions"]["items"]["oneOf"]]
    assert offered == [c["id"] for c in RULES["exceptional"]["conditions"]]
    assert set(RULES["hard_rules"]) <= {
        "seniority",
        "appraisal",
        "continuing_education",
        "post_quota",
    }


def test_deploy_checks_withdraw_conditions_like_any_expression():
    from engine.functions import REGISTERED
    from engine.specs import SpecValidator

    bpmn = Path(__file__).resolve().parents[2] / "bpmn"
    forms = {p.name: p.read_text(encoding="utf-8") for p in (bpmn / "forms").glob("*.json")}
    source = (bpmn / "title_application.bpmn").read_text(encoding="utf-8")
    validator = SpecValidator(REGISTERED, ["publicity_window", "eligibility", "payment_reference"])
    ok = validator.validate({"title_application.bpmn": source.encode()}, forms)
    assert ok.problems == []
    bad = source.replace('value="level_index == 0"', "value=\"__import__('os')\"")
    report = validator.validate({"title_application.bpmn": bad.encode()}, forms)
    assert any("withdrawWhen" in p.message for p in report.problems), report.problems
