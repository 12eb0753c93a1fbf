"""撤回 on the real diagram, through the API: who may withdraw, until when, and what follows."""

from __future__ import annotations

from sqlalchemy import select

from storage import AuditEvent, db
from tests.flows import (
    CHAIN,
    application_at_unit_review,
    file_application,
    level,
    register_applicant,
    register_unit,
    status_of,
    submit,
    unit_approves,
    withdraw,
)
from tests.page_helpers import signed_in, text


def test_applicant_withdraws_before_the_unit_completes_its_review_and_may_file_again(api):
    unit, person, app_id = application_at_unit_review(api)
    r = withdraw(api, person["username"], app_id, "今年暂不申报")
    assert r.status == 200, r
    assert r.json == {"application_id": app_id, "status": "withdrawn", "withdrawn_by": "applicant"}
    assert status_of(api, person, app_id) == "withdrawn"
    assert api.tasks(unit["username"], application=app_id) == []
    detail = api.get(f"/applications/{app_id}", person["username"]).json
    # the timeline is read from the audit trail
    (event,) = [e for e in detail["timeline"] if e["action"] == "withdraw"]
    assert event["reason"] == "今年暂不申报" and event["status_after"] == "withdrawn"
    # withdrawn is closed: a new application may be filed
    new_id = file_application(api, person)
    assert new_id != app_id
    # and a withdrawn one cannot be withdrawn again
    r = withdraw(api, person["username"], app_id)
    assert r.status == 409 and r.json["error"]["code"] == "withdraw_too_late", r


def test_applicant_may_withdraw_a_draft_and_after_a_return(api):
    unit = register_unit(api)
    person = register_applicant(api, unit)
    app_id = file_application(api, person)
    assert status_of(api, person, app_id) == "draft"
    assert withdraw(api, person["username"], app_id).status == 200
    assert status_of(api, person, app_id) == "withdrawn"
    app_id = file_application(api, person)
    submit(api, person, app_id)
    assert unit_approves(api, unit, app_id).status == 200
    level(api, CHAIN[0], app_id, decision="return")
    assert status_of(api, person, app_id) == "returned"
    assert withdraw(api, person["username"], app_id).status == 200
    assert status_of(api, person, app_id) == "withdrawn"


def test_applicant_cannot_withdraw_once_the_unit_has_approved(api):
    unit, person, app_id = application_at_unit_review(api)
    assert unit_approves(api, unit, app_id).status == 200
    r = withdraw(api, person["username"], app_id)
    assert r.status == 409, r
    assert r.json["error"]["code"] == "withdraw_too_late"
    assert "用人单位已完成审查" in r.json["error"]["message"]
    assert status_of(api, person, app_id) == "in_review"


def test_unit_withdraws_its_recommendation_until_the_first_level_acts(api):
    unit, person, app_id = application_at_unit_review(api)
    r = withdraw(api, unit["username"], app_id)
    assert r.status == 409 and "尚未经用人单位审查通过" in r.json["error"]["message"], r
    assert unit_approves(api, unit, app_id).status == 200
    assert api.tasks("yz_water_1", application=app_id)
    r = withdraw(api, unit["username"], app_id, "推荐材料有误，需重新审查")
    assert r.status == 200, r
    assert r.json["withdrawn_by"] == "unit" and r.json["status"] == "unit_review"
    assert api.tasks("yz_water_1", application=app_id) == []
    api.only_task(unit["username"], application=app_id, name="unit_review")
    # back at the unit's review: the applicant may withdraw again
    assert unit_approves(api, unit, app_id).status == 200
    level(api, CHAIN[0], app_id)
    r = withdraw(api, unit["username"], app_id)
    assert r.status == 409, r
    assert "第一级主管部门已作出审查结论" in r.json["error"]["message"]
    assert status_of(api, person, app_id) == "in_review"


def test_only_the_applicant_and_the_unit_may_withdraw(api):
    _unit, person, app_id = application_at_unit_review(api)
    other = register_unit(api)
    for user in ("yz_water_1", "platform_1", "admin", other["username"]):
        r = withdraw(api, user, app_id)
        assert r.status == 403, (user, r)
    assert status_of(api, person, app_id) == "unit_review"


def test_a_reason_is_required(api):
    _unit, person, app_id = application_at_unit_review(api)
    for body in ({}, {"reason": "  "}, {"reason": 3}):
        r = api.post(f"/applications/{app_id}/withdraw", person["username"], json=body)
        assert r.status == 422, r
        assert "reason" in r.json["error"]["fields"]
    assert status_of(api, person, app_id) == "unit_review"


def test_the_application_page_offers_withdrawal_to_whoever_may_use_it(app, api):
    unit, person, app_id = application_at_unit_review(api)
    page = f"/applications/{app_id}"
    reviewer = signed_in(app, "yz_water_1")
    unit_page = signed_in(app, unit["username"])
    applicant = signed_in(app, person["username"])
    assert 'id="withdraw-button"' not in text(unit_page.get(page))  # nothing to withdraw yet
    html = text(applicant.get(page))
    assert 'id="withdraw-button"' in html and "撤回申报" in html
    # a missing reason is refused and said so
    r = applicant.post(f"{page}/withdraw", data={"reason": ""}, follow_redirects=True)
    assert "未能撤回" in text(r) and status_of(api, person, app_id) == "unit_review"
    assert unit_approves(api, unit, app_id).status == 200
    assert 'id="withdraw-button"' not in text(applicant.get(page))
    assert 'id="withdraw-button"' not in text(reviewer.get(page))
    html = text(unit_page.get(page))
    assert 'id="withdraw-button"' in html and "撤回推荐" in html
    r = unit_page.post(f"{page}/withdraw", data={"reason": "推荐有误"}, follow_redirects=True)
    assert "已撤回推荐" in text(r)
    assert status_of(api, person, app_id) == "unit_review"
    r = applicant.post(f"{page}/withdraw", data={"reason": "不报了"}, follow_redirects=True)
    assert "申报已撤回" in text(r) and "已撤回" in text(r)
    assert status_of(api, person, app_id) == "withdrawn"
    # the audit trail keeps both, with their reasons
    with app.app_context():
        rows = db.session.scalars(
            select(AuditEvent)
            .where(AuditEvent.application_id == int(app_id), AuditEvent.action == "withdraw")
            .order_by(AuditEvent.id)
        ).all()
        assert [(e.reason, e.detail["by"]) for e in rows] == [
            ("推荐有误", "unit"),
            ("不报了", "applicant"),
        ]
