"""Operator actions leave a complete audit: retry records what its data changed, firing a
timer needs a reason."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from sqlalchemy import select

from storage import AuditEvent, db
from tests.flows import register_unit
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
    assert r.json["error"]["fields"] == {"reason": "必填 (required)"}
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
