"""Operators: stuck instances, retry, reset, suspend/resume, terminate, migrate (bulk, dry run)."""

from __future__ import annotations

import io

from tests.flows import (
    CHAIN,
    file_application,
    level,
    register_applicant,
    register_unit,
    status_of,
    submit,
    unit_approves,
)
from tests.samples import process


def _deploy(api, content, name="sample.bpmn"):
    return api.post(
        "/specs/deploy",
        "admin",
        data={"files": [(io.BytesIO(content), name)]},
        content_type="multipart/form-data",
    )


def _start(api, data, version=None):
    body = {"data": data} | ({"version": version} if version else {})
    r = api.post("/specs/sample/instances", "admin", json=body)
    assert r.status == 201, r
    return r.json["instance_id"]


def _unit_with_user(api):
    return register_unit(api)


def test_error_is_listed_as_stuck_and_retry_with_data_completes_it(api):
    assert _deploy(api, process(script="ratio = 10 / divisor")).status == 201
    unit = _unit_with_user(api)
    inst = _start(api, {"divisor": 0, "unit_org_id": unit["unit_id"]})
    stuck = api.get("/ops/instances?stuck=true", "admin").json
    row = next(i for i in stuck["items"] if i["id"] == inst)
    assert row["status"] == "error" and "ZeroDivisionError" in row["problem"]
    detail = api.get(f"/ops/instances/{inst}", "admin").json
    assert any(
        t["name"] == "compute" and t["state"] == "ERROR" and t["error"] for t in detail["tasks"]
    )
    assert (
        api.post(f"/ops/instances/{inst}/retry", "admin", json={"data": {"divisor": 2}}).status
        == 422
    )
    r = api.post(
        f"/ops/instances/{inst}/retry",
        "admin",
        json={"reason": "除数配置错误，已更正", "data": {"divisor": 2}},
    )
    assert r.status == 200 and r.json["status"] == "running"
    detail = api.get(f"/ops/instances/{inst}", "admin").json
    assert detail["data"]["ratio"] == 5 and detail["problem"] is None
    assert any(
        h["action"] == "retry" and h["reason"] == "除数配置错误，已更正" for h in detail["history"]
    )
    task = api.only_task(unit["username"], name="approve")
    assert (
        api.complete(task["id"], unit["username"], decision="approve", opinion="好").status == 200
    )
    r = api.post(f"/ops/instances/{inst}/retry", "admin", json={"reason": "again"})
    assert r.status == 409


def test_suspend_blocks_completion_until_resumed(api):
    _deploy(api, process())
    unit = _unit_with_user(api)
    inst = _start(api, {"unit_org_id": unit["unit_id"]})
    task = api.only_task(unit["username"], name="approve")
    assert (
        api.post(f"/ops/instances/{inst}/suspend", "admin", json={"reason": "核查材料"}).status
        == 200
    )
    r = api.complete(task["id"], unit["username"], decision="approve", opinion="好")
    assert r.status == 409 and r.json["error"]["code"] == "instance_suspended"
    assert api.post(f"/ops/instances/{inst}/suspend", "admin", json={"reason": "x"}).status == 409
    assert (
        api.post(f"/ops/instances/{inst}/resume", "admin", json={"reason": "核查完毕"}).status
        == 200
    )
    assert (
        api.complete(task["id"], unit["username"], decision="approve", opinion="好").status == 200
    )
    r = api.post(f"/ops/instances/{inst}/terminate", "admin", json={"reason": "x"})
    assert r.status == 409 and r.json["error"]["code"] == "instance_completed"


def test_reset_goes_back_to_a_task_and_unknown_task_is_422(api):
    unit = register_unit(api)
    person = register_applicant(api, unit)
    app_id = file_application(api, person)
    submit(api, person, app_id)
    unit_approves(api, unit, app_id)
    level(api, CHAIN[0], app_id)
    inst = api.get(f"/applications/{app_id}", person["username"]).json["instance_id"]
    r = api.post(f"/ops/instances/{inst}/reset", "admin", json={"reason": "x", "task": "nope"})
    assert r.status == 422
    r = api.post(
        f"/ops/instances/{inst}/reset",
        "admin",
        json={"reason": "单位审查意见填错，退回重审", "task": "unit_review"},
    )
    assert r.status == 200
    assert status_of(api, person, app_id) == "unit_review"
    assert api.tasks("yz_hrss_1") == []
    assert unit_approves(api, unit, app_id).status == 200


def test_terminate_ends_application_and_clears_tasks(api):
    unit = register_unit(api)
    person = register_applicant(api, unit)
    app_id = file_application(api, person)
    inst = api.get(f"/applications/{app_id}", person["username"]).json["instance_id"]
    assert api.post(f"/ops/instances/{inst}/terminate", "admin", json={}).status == 422
    assert (
        api.post(
            f"/ops/instances/{inst}/terminate", "admin", json={"reason": "申报人申请撤回"}
        ).status
        == 200
    )
    assert status_of(api, person, app_id) == "terminated"
    assert api.tasks(person["username"]) == []
    assert file_application(api, person)


def test_operators_only(api):
    _deploy(api, process())
    assert api.get("/ops/instances", "yz_water_1").status == 403
    assert api.get("/ops/instances/1", "platform_1").status == 403


def test_migrate_to_compatible_version_and_refuse_incompatible(api):
    _deploy(api, process())
    unit = _unit_with_user(api)
    inst = _start(api, {"unit_org_id": unit["unit_id"]})
    assert _deploy(api, process(script="x = 2; extra = 'v2'")).json["versions"][0]["version"] == 2
    without_task = process(with_task=False)
    assert _deploy(api, without_task).json["versions"][0]["version"] == 3
    r = api.post(f"/ops/instances/{inst}/migrate", "admin", json={"reason": "升级", "version": 3})
    assert r.status == 422 and "approve" in r.json["error"]["fields"]["version"]
    r = api.post(f"/ops/instances/{inst}/migrate", "admin", json={"reason": "升级", "version": 2})
    assert r.status == 200 and r.json["ok"] and r.json["to_version"] == 2
    listed = api.get("/ops/instances?process=sample", "admin").json["items"]
    assert next(i for i in listed if i["id"] == inst)["version"] == 2
    task = api.only_task(unit["username"], name="approve")
    assert (
        api.complete(task["id"], unit["username"], decision="approve", opinion="ok").status == 200
    )


def test_bulk_migration_dry_run_reports_each_and_moves_nothing(api):
    _deploy(api, process())
    unit = _unit_with_user(api)
    ids = [_start(api, {"unit_org_id": unit["unit_id"]}) for _ in range(20)]
    _deploy(api, process(script="x = 3"))
    r = api.post(
        "/ops/instances/bulk",
        "admin",
        json={"action": "migrate", "ids": ids, "reason": "批量升级", "version": 2, "dry_run": True},
    )
    assert r.status == 200
    results = r.json["results"]
    assert len(results) == 20 and all(x["ok"] and x["result"]["dry_run"] for x in results)
    versions = {
        i["id"]: i["version"]
        for i in api.get("/ops/instances?process=sample&limit=500", "admin").json["items"]
    }
    assert all(versions[i] == 1 for i in ids)
    r = api.post(
        "/ops/instances/bulk",
        "admin",
        json={"action": "migrate", "ids": ids, "reason": "批量升级", "version": 2},
    )
    assert all(x["ok"] for x in r.json["results"])
    versions = {
        i["id"]: i["version"]
        for i in api.get("/ops/instances?process=sample&limit=500", "admin").json["items"]
    }
    assert all(versions[i] == 2 for i in ids)


def test_diagrams_render_with_progress_marked(api):
    unit = register_unit(api)
    person = register_applicant(api, unit)
    app_id = file_application(api, person)
    submit(api, person, app_id)
    r = api.get("/specs/title_application/1/diagram.svg", "yz_water_1")
    assert r.status == 200 and r.json.startswith(b"<svg") and "单位资格审查".encode() in r.json
    assert api.get("/specs/title_application/9/diagram.svg", "admin").status == 404
    r = api.get(f"/applications/{app_id}/diagram.svg", person["username"])
    assert r.status == 200
    assert b'data-id="unit_review" data-state="ready"' in r.json
    assert b'data-id="submit_application" data-state="completed"' in r.json
    assert api.get(f"/applications/{app_id}/diagram.svg", "bl_water_1").status == 403
    inst = api.get(f"/applications/{app_id}", person["username"]).json["instance_id"]
    assert api.get(f"/ops/instances/{inst}/diagram.svg", "admin").status == 200
    assert api.get(f"/ops/instances/{inst}/diagram.svg", person["username"]).status == 403


def test_stuck_reasons_nobody_to_act_and_long_suspension(app, api, clock):
    from storage import Org, User, db

    _deploy(api, process())
    with app.app_context():
        db.session.add(
            Org(
                id="ghost-unit",
                name="无人单位",
                kind="unit",
                parent_id="yz-water",
                status="active",
                charge=False,
                created_at=clock.now,
            )
        )
        db.session.commit()
    orphan = _start(api, {"unit_org_id": "ghost-unit"})
    unit = _unit_with_user(api)
    held = _start(api, {"unit_org_id": unit["unit_id"]})
    api.post(f"/ops/instances/{held}/suspend", "admin", json={"reason": "待核查"})
    stuck = {
        i["id"]: i["problem"] for i in api.get("/ops/instances?stuck=true", "admin").json["items"]
    }
    assert "没有可办理的在岗账号" in stuck[orphan]
    assert held not in stuck
    clock.advance(days=8)
    api.tokens.clear()  # tokens expire after 12 hours
    stuck = {
        i["id"]: i["problem"] for i in api.get("/ops/instances?stuck=true", "admin").json["items"]
    }
    assert "已挂起超过 7 天" in stuck[held]
    with app.app_context():
        for user in db.session.query(User).filter(User.org_id == unit["unit_id"]):
            user.active = False
        db.session.commit()
    api.post(f"/ops/instances/{held}/resume", "admin", json={"reason": "核查完毕"})
    stuck = {
        i["id"]: i["problem"] for i in api.get("/ops/instances?stuck=true", "admin").json["items"]
    }
    assert "没有可办理的在岗账号" in stuck[held]
