"""An older version can be made current again: new instances start on the current version,
promote moves it (with a reason, audited), and redeploying old content does not."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import select

from storage import AuditEvent, db
from tests.flows import register_unit
from tests.page_helpers import signed_in, text
from tests.samples import process

DESIGNER = "/admin/processes"
GOOD, BAD = process(script="x = 1"), process(script="x = 2")


def _deploy(api, content, user="designer_1"):
    data = {"files": [(io.BytesIO(content), "sample.bpmn")]}
    return api.post("/specs/deploy", user, data=data, content_type="multipart/form-data")


def _started_version(api, unit) -> int:
    r = api.post(
        "/specs/sample/instances", "admin", json={"data": {"unit_org_id": unit["unit_id"]}}
    )
    assert r.status == 201, r
    return api.get(f"/ops/instances/{r.json['instance_id']}", "admin").json["version"]


def _current(api) -> int:
    rows = api.get("/specs", "designer_1").json["items"]
    (version,) = [r["version"] for r in rows if r["process_id"] == "sample" and r["current"]]
    return version


def _promotions(app):
    with app.app_context():
        return db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "promote").order_by(AuditEvent.id)
        ).all()


def test_promote_rolls_back_a_bad_deploy_for_new_instances(app, api):
    unit = register_unit(api)
    assert _deploy(api, GOOD).status == 201
    r = _deploy(api, BAD)
    assert r.status == 201
    assert (r.json["versions"][0]["version"], r.json["versions"][0]["current"]) == (2, True)
    assert _started_version(api, unit) == 2

    r = api.post("/specs/sample/1/promote", "designer_1", json={"reason": "第 2 版脚本有误，回退"})
    assert r.status == 200, r
    assert r.json == {
        "process_id": "sample",
        "version": 1,
        "current": True,
        "previous_version": 2,
        "changed": True,
    }
    assert _current(api) == 1
    assert _started_version(api, unit) == 1
    (event,) = _promotions(app)
    assert (event.actor_name, event.reason) == ("流程设计员", "第 2 版脚本有误，回退")
    assert event.detail["from_version"] == 2 and event.detail["to_version"] == 1
    assert event.detail["process_id"] == "sample"

    again = api.post("/specs/sample/1/promote", "admin", json={"reason": "再次确认"})
    assert again.status == 200 and again.json["changed"] is False
    assert len(_promotions(app)) == 1


def test_redeploying_a_non_current_version_answers_200_and_keeps_the_current_one(api):
    unit = register_unit(api)
    _deploy(api, GOOD)
    _deploy(api, BAD)
    api.post("/specs/sample/1/promote", "designer_1", json={"reason": "回退"})
    r = _deploy(api, BAD)
    assert r.status == 200
    assert (r.json["versions"][0]["version"], r.json["versions"][0]["current"]) == (2, False)
    assert _started_version(api, unit) == 1
    r = _deploy(api, GOOD)
    assert r.status == 200 and r.json["versions"][0]["current"] is True
    r = _deploy(api, process(script="x = 3"))
    assert r.status == 201 and r.json["versions"][0]["version"] == 3
    assert _started_version(api, unit) == 3


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({}, 422, "invalid_data"),
        ({"reason": "   "}, 422, "invalid_data"),
        ({"reason": 7}, 422, "invalid_data"),
        ([], 400, "bad_request"),
        (None, 400, "bad_request"),
    ],
)
def test_promote_refuses_bad_bodies(api, body, status, code):
    _deploy(api, GOOD)
    _deploy(api, BAD)
    kwargs = {"json": body} if body is not None else {"data": "{not json"}
    r = api.post("/specs/sample/1/promote", "designer_1", **kwargs)
    assert (r.status, r.json["error"]["code"]) == (status, code)
    if status == 422:
        assert r.json["error"]["fields"] == {"reason": "必填"}
    assert _current(api) == 2


@pytest.mark.parametrize(
    "path",
    [
        "/specs/sample/9/promote",
        "/specs/nope/1/promote",
        "/specs/sample/99999999999999999999999/promote",
        "/specs/sample/0/promote",
        "/specs/sample/x/promote",
        "/specs/%E2%80%AEsample/1/promote",
    ],
)
def test_promote_of_an_unknown_process_or_version_is_404(api, path):
    _deploy(api, GOOD)
    r = api.post(path, "designer_1", json={"reason": "回退"})
    assert r.status == 404, r


def test_processes_page_marks_the_current_version_and_promotes_with_a_reason(app, api):
    _deploy(api, GOOD)
    _deploy(api, BAD)
    client = signed_in(app, "designer_1")
    html = text(client.get(DESIGNER))
    assert 'id="sample-v2" class="current"' in html and "当前第 2 版" in html
    assert 'id="promote-sample-1"' in html and 'id="promote-sample-2"' not in html

    r = client.post(f"{DESIGNER}/sample/1/promote", data={"reason": " "})
    assert r.status_code == 422
    assert 'id="promote-sample-1-error">必填' in text(r)
    assert _current(api) == 2

    r = client.post(f"{DESIGNER}/sample/1/promote", data={"reason": "回退到第 1 版"})
    assert r.status_code == 302
    html = text(client.get(r.location))
    assert "新发起的流程将使用第 1 版（原为第 2 版）" in html
    assert 'id="sample-v1" class="current"' in html and 'id="promote-sample-2"' in html
    assert _current(api) == 1
    assert client.post(f"{DESIGNER}/sample/7/promote", data={"reason": "x"}).status_code == 404
    (event,) = _promotions(app)
    assert event.reason == "回退到第 1 版"


def test_upload_page_says_when_identical_content_is_not_the_current_version(app, api):
    _deploy(api, GOOD)
    _deploy(api, BAD)
    api.post("/specs/sample/1/promote", "designer_1", json={"reason": "回退"})
    client = signed_in(app, "designer_1")
    r = client.post(
        f"{DESIGNER}/upload",
        data={"op": "deploy", "files": [(io.BytesIO(BAD), "sample.bpmn")]},
        content_type="multipart/form-data",
    )
    assert "与已有的第 2 版相同" in text(r) and "不是当前版本" in text(r)
