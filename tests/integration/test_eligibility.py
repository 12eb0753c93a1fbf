"""Eligibility binds (bpmn/rules/eligibility.json hard_rules) on the real diagram, via the API."""

from __future__ import annotations

import io
import warnings

from pypdf import PdfReader

from tests.flows import (
    CHAIN,
    CHECKS,
    JUNIOR_DOSSIER,
    PAST_WINDOW,
    REVIEWERS,
    file_application,
    level,
    register_applicant,
    register_unit,
    status_of,
    submit,
    unit_approves,
    upload_pdf,
)
from tests.page_helpers import signed_in, text


def _pages_text(pdf: bytes) -> list[str]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return [p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages]


def _junior_at_unit(api, **form):
    unit = register_unit(api)
    person = register_applicant(api, unit, dossier=JUNIOR_DOSSIER)
    app_id = file_application(api, person)
    submit(api, person, app_id, **form)
    return unit, person, app_id


def test_unit_cannot_approve_an_ineligible_application_but_can_return_or_reject(api):
    unit, person, app_id = _junior_at_unit(api)
    r = unit_approves(api, unit, app_id)
    assert r.status == 422, r
    assert "资历" in r.json["error"]["fields"]["decision"]
    assert "要求不少于 4 年" in r.json["error"]["fields"]["decision"]
    assert status_of(api, person, app_id) == "unit_review"
    task = api.only_task(unit["username"], application=app_id, name="unit_review")
    r = api.complete(
        task["id"],
        unit["username"],
        decision="return",
        opinion="资历不足",
        return_reason="任职年限不足，请核实",
    )
    assert r.status == 200, r
    assert status_of(api, person, app_id) == "returned"
    submit(api, person, app_id)
    task = api.only_task(unit["username"], application=app_id, name="unit_review")
    r = api.complete(
        task["id"], unit["username"], decision="reject", opinion="不符合", reject_reason="资历不足"
    )
    assert r.status == 200, r
    assert status_of(api, person, app_id) == "rejected"


def test_every_level_refuses_an_approval_while_a_hard_rule_fails(api, clock):
    unit = register_unit(api)
    person = register_applicant(api, unit)
    app_id = file_application(api, person)
    submit(api, person, app_id)
    assert unit_approves(api, unit, app_id).status == 200
    level(api, CHAIN[0], app_id)
    # A new year: the 2026 appraisal is now required and missing (年度考核 fails).
    clock.advance(days=40)
    api.tokens.clear()  # tokens last hours, not weeks
    user = REVIEWERS[CHAIN[1]]
    task = api.only_task(user, application=app_id, name="level_review")
    r = api.complete(task["id"], user, decision="approve", opinion="同意", **CHECKS)
    assert r.status == 422, r
    assert "年度考核" in r.json["error"]["fields"]["decision"]
    assert "2026" in r.json["error"]["fields"]["decision"]
    assert status_of(api, person, app_id) == "in_review"
    level(api, CHAIN[1], app_id, decision="return")
    assert status_of(api, person, app_id) == "returned"


def test_the_four_checks_are_required_and_must_confirm_on_approve(api):
    unit = register_unit(api)
    person = register_applicant(api, unit)
    app_id = file_application(api, person)
    submit(api, person, app_id)
    task = api.only_task(unit["username"], application=app_id, name="unit_review")
    r = api.complete(
        task["id"], unit["username"], decision="approve", opinion="同意", **PAST_WINDOW
    )
    assert r.status == 422, r
    assert set(r.json["error"]["fields"]) == set(CHECKS)
    r = api.complete(
        task["id"],
        unit["username"],
        decision="approve",
        opinion="同意",
        **{**CHECKS, "continuing_education_ok": False},
        **PAST_WINDOW,
    )
    assert r.status == 422 and set(r.json["error"]["fields"]) == {"continuing_education_ok"}, r
    assert unit_approves(api, unit, app_id).status == 200
    user = REVIEWERS[CHAIN[0]]
    task = api.only_task(user, application=app_id, name="level_review")
    r = api.complete(task["id"], user, decision="approve", opinion="同意")
    assert r.status == 422 and set(r.json["error"]["fields"]) == set(CHECKS), r
    level(api, CHAIN[0], app_id)
    timeline = api.get(f"/applications/{app_id}", person["username"]).json["timeline"]
    reviews = [e for e in timeline if e["task"] in ("unit_review", "level_review")]
    assert [e["checks"] for e in reviews] == [CHECKS, CHECKS]


def test_an_exceptional_application_is_reviewed_on_its_conditions_and_marked(app, api):
    unit = register_unit(api)
    person = register_applicant(api, unit, dossier=JUNIOR_DOSSIER)
    app_id = file_application(api, person)
    task = api.only_task(person["username"], application=app_id, name="submit_application")
    r = api.complete(task["id"], person["username"], exceptional=True)
    assert r.status == 422, r
    assert {"exceptional_conditions", "exceptional_evidence"} <= set(r.json["error"]["fields"])
    evidence = upload_pdf(api, person["username"])
    submit(
        api,
        person,
        app_id,
        exceptional=True,
        exceptional_conditions=["key_project"],
        exceptional_evidence=[evidence],
    )
    detail = api.get(f"/applications/{app_id}", unit["username"]).json
    assert detail["exceptional"] is True
    assert detail["exceptional_conditions"] == [
        "主持或作为主要完成人完成市级及以上重点工程（项目）"
    ]
    # every page marks it: the unit's worklist, the task page, the application page
    pages = signed_in(app, unit["username"])
    assert "破格" in text(pages.get("/tasks"))
    task_id = api.only_task(unit["username"], application=app_id, name="unit_review")["id"]
    html = text(pages.get(f"/tasks/{task_id}"))
    assert 'id="exceptional-mark"' in html and "破格审查" in html
    assert 'id="exceptional-mark"' in text(pages.get(f"/applications/{app_id}"))
    assert "破格" in text(pages.get("/applications"))
    # seniority no longer blocks, but 破格条件审查 is now a required review item
    r = unit_approves(api, unit, app_id, seniority_ok=False)
    assert r.status == 422, r
    assert set(r.json["error"]["fields"]) == {"exceptional_ok"}
    assert unit_approves(api, unit, app_id, seniority_ok=False, exceptional_ok=True).status == 200
    for org in CHAIN:
        user = REVIEWERS[org]
        task = api.only_task(user, application=app_id, name="level_review")
        r = api.complete(task["id"], user, decision="approve", opinion="同意", **CHECKS)
        assert r.status == 422 and "exceptional_ok" in r.json["error"]["fields"], r
        level(api, org, app_id, exceptional_ok=True)
    assert status_of(api, person, app_id) == "awaiting_payment"
    listed = api.get("/applications", person["username"]).json["items"]
    assert [a["exceptional"] for a in listed if a["id"] == app_id] == [True]
    timeline = api.get(f"/applications/{app_id}", person["username"]).json["timeline"]
    assert all(
        e["checks"]["exceptional_ok"] is True
        for e in timeline
        if e["task"] in ("unit_review", "level_review")
    )
    # the review form marks it 破格 and records each level's checks
    r = api.get(f"/applications/{app_id}/review-form-public.pdf", unit["username"])
    assert r.status == 200, r
    pdf_text = "".join(_pages_text(r.json)).replace("\n", "")
    assert "破格申报" in pdf_text
    assert "重点工程" in pdf_text
    assert pdf_text.count("破格条件审查：符合") == 1 + len(CHAIN)


def test_an_exceptional_declaration_does_not_waive_other_rules(api):
    unit = register_unit(api)
    dossier = {**JUNIOR_DOSSIER, "appraisals": [{"year": 2025, "grade": "基本合格"}]}
    person = register_applicant(api, unit, dossier=dossier)
    app_id = file_application(api, person)
    submit(
        api,
        person,
        app_id,
        exceptional=True,
        exceptional_conditions=["major_award"],
        exceptional_evidence=[upload_pdf(api, person["username"])],
    )
    r = unit_approves(api, unit, app_id, exceptional_ok=True)
    assert r.status == 422, r
    assert "年度考核" in r.json["error"]["fields"]["decision"]
    assert "资历" not in r.json["error"]["fields"]["decision"]
