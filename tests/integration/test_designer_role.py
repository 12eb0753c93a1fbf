"""Deploy belongs to designers: the `designer` role (and admins) validate, deploy and promote,
through the API and the pages; nobody else does, and designers get no operator powers."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import select

from engine import InvalidDataError
from storage import AuditEvent, User, db
from tests.flows import register_unit
from tests.page_helpers import signed_in, text
from tests.samples import process

DESIGNER = "/admin/processes"
OPS = "/admin/instances"


def _upload(api, user, path, content=None, name="sample.bpmn"):
    data = {"files": [(io.BytesIO(content or process()), name)]}
    return api.post(path, user, data=data, content_type="multipart/form-data")


def test_designer_validates_deploys_and_lists_through_the_api(api):
    r = _upload(api, "designer_1", "/specs/validate")
    assert r.status == 200 and r.json["ok"] is True
    r = _upload(api, "designer_1", "/specs/deploy")
    assert r.status == 201 and r.json["versions"][0]["current"] is True
    rows = api.get("/specs", "designer_1").json["items"]
    (row,) = [r for r in rows if r["process_id"] == "sample"]
    assert (row["version"], row["current"]) == (1, True)
    assert api.get("/specs/sample/1/diagram.svg", "designer_1").status == 200
    with api.app.app_context():
        event = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "deploy").order_by(AuditEvent.id)
        ).all()
        assert event[-1].actor_name == "designer_1"
        assert event[-1].detail == {
            "process_id": "sample",
            "version": 1,
            "sha256": event[-1].detail["sha256"],
        }


@pytest.mark.parametrize("username", ["platform_1", "yz_water_1", "nb_office_1"])
def test_everyone_else_gets_403_on_validate_deploy_list_and_promote(api, username):
    assert _upload(api, "admin", "/specs/deploy").status == 201
    assert _upload(api, username, "/specs/validate").status == 403
    r = _upload(api, username, "/specs/deploy", process(script="x = 2"))
    assert r.status == 403 and r.json["error"]["code"] == "forbidden"
    assert api.get("/specs", username).status == 403
    r = api.post("/specs/sample/1/promote", username, json={"reason": "回退"})
    assert r.status == 403
    assert [
        v["version"]
        for v in api.get("/specs", "admin").json["items"]
        if v["process_id"] == "sample"
    ] == [1]


def test_designer_has_no_operator_powers(app, api):
    assert _upload(api, "admin", "/specs/deploy").status == 201
    unit = register_unit(api)
    inst = api.post(
        "/specs/sample/instances", "admin", json={"data": {"unit_org_id": unit["unit_id"]}}
    ).json["instance_id"]
    assert api.get("/ops/instances", "designer_1").status == 403
    for action in ("retry", "suspend", "terminate"):
        r = api.post(f"/ops/instances/{inst}/{action}", "designer_1", json={"reason": "x"})
        assert r.status == 403, action
    assert api.post("/ops/timers/1/fire", "designer_1", json={"reason": "x"}).status == 403
    assert api.post("/specs/sample/instances", "designer_1", json={}).status == 403
    client = signed_in(app, "designer_1")
    assert client.get(OPS).status_code == 403
    assert client.post(f"{OPS}/{inst}/terminate", data={"reason": "x"}).status_code == 403
    assert client.get("/admin/calendar").status_code == 403


def test_designer_pages_open_to_designers_and_refused_to_platform_reviewers(app, api):
    client = signed_in(app, "designer_1")
    r = client.get("/")
    assert r.status_code == 302 and r.location.endswith(DESIGNER)
    html = text(client.get(DESIGNER))
    assert f'<a href="{DESIGNER}" ' in html and "流程定义" in html
    assert f'<a href="{OPS}"' not in html and "流程设计人员" in html
    assert client.get(f"{DESIGNER}/title_application/1").status_code == 200
    r = client.post(
        f"{DESIGNER}/upload",
        data={"op": "deploy", "files": [(io.BytesIO(process()), "sample.bpmn")]},
        content_type="multipart/form-data",
    )
    assert r.status_code == 200 and "已发布新版本" in text(r)

    reviewer = signed_in(app, "platform_1")
    assert reviewer.get(DESIGNER).status_code == 403
    r = reviewer.post(
        f"{DESIGNER}/upload",
        data={"op": "validate", "files": [(io.BytesIO(process()), "sample.bpmn")]},
        content_type="multipart/form-data",
    )
    assert r.status_code == 403
    r = reviewer.post(f"{DESIGNER}/sample/1/promote", data={"reason": "x"})
    assert r.status_code == 403
    assert f'<a href="{DESIGNER}"' not in text(reviewer.get("/tasks"))


def test_orgs_load_takes_designers_of_the_platform_org_only(app):
    accounts = app.extensions["accounts"]
    user = {"username": "des2", "password": "des-Pass-2", "role": "designer", "name": "设计"}
    with app.app_context():
        with pytest.raises(InvalidDataError) as refused:
            accounts.load_orgs({"orgs": [], "users": [{**user, "org": "yz-water"}]})
        assert "platform" in refused.value.fields["users[0].role"]
        accounts.load_orgs({"orgs": [], "users": [{**user, "org": "platform"}]})
        row = db.session.scalars(select(User).where(User.username == "des2")).one()
        assert (row.role, row.org_id) == ("designer", "platform")
        assert accounts.login("des2", "des-Pass-2").role == "designer"
