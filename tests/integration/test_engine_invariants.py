"""Invariants of the engine: one transaction per verb, optimistic locking, index-only
worklists, errors stored, restricted scripts and hostile XML refused at deploy."""

from __future__ import annotations

import io
import threading

import pytest
from sqlalchemy import func, select

from engine import persist, runtime
from storage import AuditEvent, HumanTask, ProcessInstance, db
from tests.flows import DOSSIER, register_applicant, register_unit
from tests.samples import BILLION_LAUGHS, XXE, process


def _dossier_task(api):
    unit = register_unit(api)
    person = register_applicant(api, unit, approve_dossier=False)
    api.put("/me/dossier", person["username"], json=DOSSIER)
    api.post("/me/dossier/submit", person["username"])
    return unit, api.only_task(unit["username"], name="review_dossier")


def _upload(api, user, path, files):
    data = {"files": [(io.BytesIO(content), name) for name, content in files.items()]}
    return api.post(path, user, data=data, content_type="multipart/form-data")


def test_two_reviewers_complete_the_same_task_one_wins(app, api, monkeypatch):
    unit, task = _dossier_task(api)
    api.tokens["unit_b"] = api.tokens[unit["username"]]
    barrier = threading.Barrier(2, timeout=10)
    original = persist.Saver.write_instance

    def write_after_both_loaded(self, *args, **kwargs):
        barrier.wait()
        return original(self, *args, **kwargs)

    monkeypatch.setattr(persist.Saver, "write_instance", write_after_both_loaded)
    results = []

    def press_approve(opinion):
        client = app.test_client()
        r = client.post(
            f"/api/v1/tasks/{task['id']}/complete",
            json={"data": {"decision": "approve", "opinion": opinion}},
            headers={"Authorization": f"Bearer {api.tokens[unit['username']]}"},
        )
        results.append((r.status_code, r.get_json()))

    threads = [threading.Thread(target=press_approve, args=(f"通过{i}",)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(code for code, _ in results) == [200, 409], results
    loser = next(body for code, body in results if code == 409)
    assert loser["error"]["code"] in ("stale_version", "task_not_ready")
    with app.app_context():
        events = db.session.scalar(
            select(func.count()).select_from(AuditEvent).where(AuditEvent.task_id == task["id"])
        )
        assert events == 1


def test_worklist_never_deserializes_workflows(api, monkeypatch):
    unit, task = _dossier_task(api)

    def forbidden(*args, **kwargs):
        raise AssertionError("worklist deserialized a workflow")

    monkeypatch.setattr(runtime, "load", forbidden)
    items = api.tasks(unit["username"])
    assert [t["id"] for t in items] == [task["id"]]
    assert set(items[0]) >= {
        "id",
        "name",
        "title",
        "process",
        "instance_id",
        "application_id",
        "org_id",
        "created_at",
    }


def test_a_failed_save_writes_nothing(app, api, monkeypatch):
    unit, task = _dossier_task(api)
    with app.app_context():
        before = db.session.get(ProcessInstance, int(task["instance_id"])).revision
        db.session.remove()

    def boom(self, *args, **kwargs):
        raise RuntimeError("disk full")

    # the task index is written after the instance row: by sync_tasks, or by move_tasks
    # when the verb read the index rows already (a completion)
    monkeypatch.setattr(persist.Saver, "sync_tasks", boom)
    monkeypatch.setattr(persist.Saver, "move_tasks", boom)
    r = api.complete(task["id"], unit["username"], decision="approve", opinion="通过")
    assert r.status == 500 and r.json["error"]["code"] == "internal_error"
    with app.app_context():
        inst = db.session.get(ProcessInstance, int(task["instance_id"]))
        assert inst.revision == before and inst.status == "running"
        assert db.session.get(HumanTask, task["id"]) is not None
        assert (
            db.session.scalar(
                select(func.count()).select_from(AuditEvent).where(AuditEvent.task_id == task["id"])
            )
            == 0
        )


def test_failing_script_puts_instance_in_error_with_message(app, api):
    r = _upload(
        api, "admin", "/specs/deploy", {"sample.bpmn": process(script="ratio = 10 / divisor")}
    )
    assert r.status == 201, r
    r = api.post(
        "/specs/sample/instances", "admin", json={"data": {"divisor": 0, "unit_org_id": "x"}}
    )
    assert r.status == 201
    with app.app_context():
        inst = db.session.get(ProcessInstance, int(r.json["instance_id"]))
        assert inst.status == "error" and inst.error_task == "compute"
        assert "ZeroDivisionError" in inst.problem


@pytest.mark.parametrize(
    ("script", "expected"),
    [
        ("import os", "不允许 import"),
        ("y = ().__class__.__base__", "不允许属性 '__class__'"),
        ("y = __import__('os')", "不允许名称 '__import__'"),
        ("y = open('/etc/passwd')", "不允许名称 'open'"),
        ("y = (", "无法编译"),
    ],
)
def test_deploy_refuses_unsafe_or_broken_scripts(api, script, expected):
    r = _upload(api, "admin", "/specs/deploy", {"sample.bpmn": process(script=script)})
    assert r.status == 422
    problem = r.json["problems"][0]
    assert problem["file"] == "sample.bpmn" and problem["element"] == "compute"
    assert problem["line"] and expected in problem["message"]
    assert api.get("/specs", "admin").json["total"] == 3


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("xxe.bpmn", XXE, "DOCTYPE"),
        ("lolz.bpmn", BILLION_LAUGHS, "amplification"),
    ],
)
def test_deploy_refuses_hostile_xml(api, name, content, expected):
    r = _upload(api, "admin", "/specs/validate", {name: content})
    assert r.status == 200 and r.json["ok"] is False
    assert expected in r.json["problems"][0]["message"]
    assert _upload(api, "admin", "/specs/deploy", {name: content}).status == 422


def test_deploy_identical_content_is_a_noop_and_a_change_is_a_new_version(api):
    first = _upload(api, "admin", "/specs/deploy", {"sample.bpmn": process()})
    assert first.status == 201 and first.json["versions"][0]["version"] == 1
    again = _upload(api, "admin", "/specs/deploy", {"sample.bpmn": process()})
    assert again.status == 200 and again.json["versions"][0]["version"] == 1
    changed = _upload(api, "admin", "/specs/deploy", {"sample.bpmn": process(script="x = 2")})
    assert changed.status == 201 and changed.json["versions"][0]["version"] == 2


def test_only_designers_deploy(api):
    r = _upload(api, "yz_water_1", "/specs/deploy", {"sample.bpmn": process()})
    assert r.status == 403
    assert api.post("/specs/sample/instances", "platform_1", json={}).status == 403
