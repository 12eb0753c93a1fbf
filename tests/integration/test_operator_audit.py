"""Operator actions leave a complete audit and strand no one: retry records what its data
changed, firing a timer needs a reason, terminating a dossier review reopens the dossier."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from sqlalchemy import select

from storage import AuditEvent, Dossier, Notification, db
from tests.flows import DOSSIER, register_applicant, register_unit
from tests.integration.test_scheduler_sweep import deploy_probe, start_probes
from tests.page_helpers import signed_in, text
from tests.samples import process


def _events(app, action):
    with app.app_context():
        return db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
        ).all()


def _errored_instance(api, unit):
    data = {"files": [(io.BytesIO(process(script="ratio = 10 / divisor")), "sample.bpmn")]}
    r = api.post("/specs/deploy", "admin", data=data, content_type="multipart/form-data")
    assert r.status == 201, r
    body = {"data": {"divisor": 0, "unit_org_id": unit["unit_id"], "note": "原值"}}
    inst = api.post("/specs/sample/instances", "admin", json=body).json["instance_id"]
    assert api.get(f"/ops/instances/{inst}", "admin").json["status"] == "error"
    return inst


# ----- retry ---------------------------------------------------------------------------
def test_retry_with_data_records_each_changed_key_with_old_and_new_value(app, api):
    unit = register_unit(api)
    inst = _errored_instance(api, unit)
    data = {"divisor": 4, "note": "原值", "extra": ["补充", 1]}
    r = api.post(
        f"/ops/instances/{inst}/retry", "admin", json={"reason": "除数填错，已更正", "data": data}
    )
    assert r.status == 200 and r.json["status"] == "running"
    (event,) = _events(app, "retry")
    assert event.reason == "除数填错，已更正" and event.actor_name == "平台管理员"
    assert event.detail == {
        "data_changes": [
            {"task": "compute", "key": "divisor", "old": 0, "new": 4, "was_set": True},
            {"task": "compute", "key": "extra", "old": None, "new": ["补充", 1], "was_set": False},
        ]
    }
    history = api.get(f"/ops/instances/{inst}", "admin").json["history"]
    assert next(h for h in history if h["action"] == "retry")["detail"] == event.detail
    html = text(signed_in(app, "admin").get(f"/admin/instances/{inst}"))
    assert "<code>divisor</code>：0 → 4" in html and "<code>extra</code>：（原无此项）" in html


def test_retry_without_data_records_no_changes_and_refuses_bad_input(app, api):
    unit = register_unit(api)
    inst = _errored_instance(api, unit)
    r = api.post(f"/ops/instances/{inst}/retry", "admin", json={"reason": "", "data": {}})
    assert r.status == 422 and "reason" in r.json["error"]["fields"]
    r = api.post(f"/ops/instances/{inst}/retry", "admin", json={"reason": "x", "data": [1]})
    assert r.status == 422 and "data" in r.json["error"]["fields"]
    r = api.post(f"/ops/instances/{inst}/retry", "platform_1", json={"reason": "x"})
    assert r.status == 403
    assert _events(app, "retry") == []
    r = api.post(f"/ops/instances/{inst}/retry", "admin", json={"reason": "瞬时故障，重试"})
    assert r.status == 200
    (event,) = _events(app, "retry")
    assert event.detail == {"data_changes": []}


# ----- firing a timer ------------------------------------------------------------------
@pytest.fixture
def overdue_timer(app, api, clock):
    deploy_probe(app)
    (inst,) = start_probes(app, 1, clock.now + timedelta(minutes=1))
    clock.advance(minutes=10)
    (timer,) = api.get("/ops/timers?status=overdue", "admin").json["items"]
    assert timer["instance_id"] == str(inst)
    return timer["id"]


@pytest.mark.parametrize(
    "kwargs",
    [{}, {"json": {}}, {"json": {"reason": "  "}}, {"json": {"reason": 3}}],
    ids=["no-body", "no-reason", "blank", "not-a-string"],
)
def test_firing_a_timer_through_the_api_needs_a_reason(app, api, overdue_timer, kwargs):
    r = api.post(f"/ops/timers/{overdue_timer}/fire", "admin", **kwargs)
    assert r.status == 422
    assert r.json["error"]["fields"] == {"reason": "必填"}
    assert api.get("/ops/timers?status=overdue", "admin").json["total"] == 1
    assert _events(app, "timer_fired") == []


def test_firing_a_timer_with_a_reason_is_audited_and_refused_to_others(app, api, overdue_timer):
    path = f"/ops/timers/{overdue_timer}/fire"
    assert api.post(path, "platform_1", json={"reason": "x"}).status == 403
    assert api.post(path, "designer_1", json={"reason": "x"}).status == 403
    r = api.post(path, "admin", json={"reason": "调度器停机，手动放行"})
    assert r.status == 200 and r.json["status"] == "fired"
    (event,) = _events(app, "timer_fired")
    assert (event.reason, event.actor_name) == ("调度器停机，手动放行", "平台管理员")


# ----- terminating a dossier review ----------------------------------------------------
def _submitted_dossier(api, unit, name="李四"):
    person = register_applicant(api, unit, approve_dossier=False, name=name)
    assert api.put("/me/dossier", person["username"], json=DOSSIER).status == 200
    r = api.post("/me/dossier/submit", person["username"])
    assert r.status == 200
    return person, r.json["instance_id"]


def test_terminating_a_dossier_review_returns_the_dossier_to_draft_and_tells_the_applicant(
    app, api
):
    unit = register_unit(api)
    person, inst = _submitted_dossier(api, unit)
    other, _other_inst = _submitted_dossier(api, unit, name="王五")
    r = api.post(
        f"/ops/instances/{inst}/terminate", "admin", json={"reason": "单位已注销，终止审核"}
    )
    assert r.status == 200 and r.json["status"] == "terminated"

    dossier = api.get("/me/dossier", person["username"]).json
    assert dossier["status"] == "draft" and dossier["can_submit"] and dossier["can_edit"]
    messages = api.get("/me/messages", person["username"]).json["items"]
    assert messages[0]["kind"] == "dossier_reopened"
    assert "档案已退回为草稿状态" in messages[0]["text"]
    with app.app_context():
        sms = db.session.scalars(
            select(Notification).where(
                Notification.kind == "dossier_reopened", Notification.channel == "sms"
            )
        ).one()
        assert sms.phone == "13800138000"
        dossier_id = db.session.scalars(
            select(Dossier.id).where(Dossier.instance_id == int(inst))
        ).one()
    (event,) = _events(app, "terminate")
    assert event.reason == "单位已注销，终止审核"
    assert event.detail == {"dossier": {"id": dossier_id, "before": "submitted", "after": "draft"}}
    assert api.get("/me/dossier", other["username"]).json["status"] == "submitted"

    assert api.post("/me/dossier/submit", person["username"]).status == 200
    tasks = api.tasks(unit["username"], name="review_dossier")
    assert len(tasks) == 2


def test_terminate_refused_without_reason_or_by_others_leaves_the_dossier_submitted(api):
    unit = register_unit(api)
    person, inst = _submitted_dossier(api, unit)
    r = api.post(f"/ops/instances/{inst}/terminate", "admin", json={})
    assert r.status == 422
    assert (
        api.post(f"/ops/instances/{inst}/terminate", "platform_1", json={"reason": "x"}).status
        == 403
    )
    assert (
        api.post(
            f"/ops/instances/{inst}/terminate", person["username"], json={"reason": "x"}
        ).status
        == 403
    )
    assert api.get("/me/dossier", person["username"]).json["status"] == "submitted"
    assert api.get("/me/messages", person["username"]).json["total"] == 0
