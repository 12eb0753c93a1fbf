"""The designers' modeler page and its JSON endpoint: open a version (or a new diagram), validate,
deploy as a new version with the opened version's form files; and the API's version files."""

from __future__ import annotations

import html
import io
import json
import re
from pathlib import Path

import pytest
from sqlalchemy import select

from storage import AuditEvent, db
from tests.helpers import PASSWORDS
from tests.page_helpers import signed_in, text

BPMN = Path(__file__).resolve().parents[2] / "bpmn"
TITLE = (BPMN / "title_application.bpmn").read_text(encoding="utf-8")
MODELER = "/admin/processes/modeler"
UNIT_FORM = 'name="formJsonSchemaFilename" value="unit_review.schema.json"'
CUSTOM_FORM = 'name="formJsonSchemaFilename" value="unit_check.schema.json"'


def _versions(api, process_id: str) -> list[int]:
    rows = api.get("/specs", "admin").json["items"]
    return sorted(r["version"] for r in rows if r["process_id"] == process_id)


def _deploy_with_own_form(api) -> int:
    """Version 2 of title_application uses a form file that is not in bpmn/forms."""
    form = json.loads((BPMN / "forms" / "unit_review.schema.json").read_text(encoding="utf-8"))
    form["properties"]["check_no"] = {"title": "核查编号", "type": "string"}
    files = {
        "title_application.bpmn": TITLE.replace(UNIT_FORM, CUSTOM_FORM),
        "unit_check.schema.json": json.dumps(form, ensure_ascii=False),
    }
    data = {"files": [(io.BytesIO(body.encode("utf-8")), n) for n, body in files.items()]}
    r = api.post("/specs/deploy", "admin", data=data, content_type="multipart/form-data")
    assert r.status == 201, r
    return r.json["versions"][0]["version"]


def _post(client, op: str, xml: str, base: dict | None = None):
    return client.post(MODELER, json={"op": op, "xml": xml, "base": base})


@pytest.mark.parametrize("username", ["designer_1", "admin"])
def test_designers_open_a_version_or_a_new_diagram(app, username):
    client = signed_in(app, username)
    page = text(client.get("/admin/processes/title_application/1/modeler"))
    source = html.unescape(re.search(r'id="modeler-source"[^>]*>(.*?)</textarea>', page, re.S)[1])
    assert source == TITLE
    assert 'data-base-process="title_application" data-base-version="1"' in page
    assert "vendor/bpmn-js/bpmn-modeler.production.min.js" in page
    assert "unit_review.schema.json" in page  # offered in the form-file picker
    new = text(client.get(MODELER))
    assert 'isExecutable="true"' in html.unescape(new) and "data-base-process" not in new
    versions = text(client.get("/admin/processes"))
    assert 'href="/admin/processes/title_application/1/modeler"' in versions
    assert client.get("/admin/processes/title_application/99/modeler").status_code == 404


@pytest.mark.parametrize("username", ["platform_1", "yz_water_1", "nb_office_1"])
def test_everyone_else_is_refused_the_modeler_and_deploys_nothing(app, api, username):
    client = signed_in(app, username)
    assert client.get(MODELER).status_code == 403
    assert client.get("/admin/processes/title_application/1/modeler").status_code == 403
    r = _post(client, "deploy", TITLE.replace("单位资格审查与公示", "改名"))
    assert r.status_code == 403
    assert _versions(api, "title_application") == [1]
    anonymous = app.test_client()
    r = anonymous.get(MODELER)
    assert r.status_code == 302 and "/login" in r.location
    assert anonymous.post(MODELER, json={"op": "validate", "xml": TITLE}).status_code == 302


def test_a_deploy_from_the_editor_is_a_new_version_with_the_opened_versions_forms(app, api):
    version = _deploy_with_own_form(api)
    client = signed_in(app, "designer_1")
    page = text(client.get(f"/admin/processes/title_application/{version}/modeler"))
    assert "unit_check.schema.json" in page
    edited = TITLE.replace(UNIT_FORM, CUSTOM_FORM).replace("单位资格审查与公示", "单位审查并公示")
    base = {"process_id": "title_application", "version": version}

    r = _post(client, "validate", edited, base)
    assert r.status_code == 200 and r.json == {"ok": True, "problems": [], "versions": []}
    r = _post(client, "deploy", edited, base)
    assert r.status_code == 201, r.json
    (row,) = r.json["versions"]
    assert (row["version"], row["created"], row["current"]) == (version + 1, True, True)

    files = api.get(f"/specs/title_application/{version + 1}/files", "designer_1").json["files"]
    before = api.get(f"/specs/title_application/{version}/files", "designer_1").json["files"]
    assert files["unit_check.schema.json"] == before["unit_check.schema.json"]
    assert "单位审查并公示" in files["title_application.bpmn"]
    with app.app_context():
        event = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "deploy").order_by(AuditEvent.id)
        ).all()[-1]
        assert event.actor_name == "designer_1"
        assert (event.detail["process_id"], event.detail["version"]) == (
            "title_application",
            version + 1,
        )
    # The same content again deploys nothing and says so.
    r = _post(client, "deploy", edited, base)
    assert r.status_code == 200 and r.json["versions"][0]["created"] is False
    # Without the opened version, its own form is missing: nothing is deployed.
    r = _post(client, "deploy", edited.replace("单位审查并公示", "再改"))
    assert r.status_code == 422
    assert any("unit_check.schema.json" in p["message"] for p in r.json["problems"])
    assert _versions(api, "title_application") == [1, version, version + 1]


def test_validate_names_the_element_and_line_of_each_problem(app):
    client = signed_in(app, "designer_1")
    broken = TITLE.replace(
        '<spiffworkflow:property name="orgVariable" value="unit_org_id" />', "", 1
    )
    r = _post(client, "validate", broken, {"process_id": "title_application", "version": 1})
    assert r.status_code == 200 and r.json["ok"] is False
    (problem,) = r.json["problems"]
    assert problem["element"] == "unit_review" and "orgVariable" in problem["message"]
    assert problem["file"] == "title_application.bpmn"
    line = broken.splitlines()[problem["line"] - 1]
    assert 'id="unit_review"' in line


@pytest.mark.parametrize(
    ("xml", "words"),
    [
        (TITLE[:4000], "不是格式正确的 XML（第"),
        ("<!DOCTYPE x [<!ENTITY e 'x'>]><x/>", "DOCTYPE"),
        ("<svg xmlns='http://www.w3.org/2000/svg'/>", "不是 BPMN 2.0"),
        (TITLE.replace('isExecutable="true"', 'isExecutable="false"'), "恰好一个可执行流程"),
        ("  ", "流程图为空"),
    ],
)
def test_bad_xml_gets_a_clear_chinese_error_and_deploys_nothing(app, api, xml, words):
    client = signed_in(app, "designer_1")
    r = _post(client, "deploy", xml)
    assert r.status_code == 422 and words in r.json["error"], r.json
    assert r.json["ok"] is False and r.json["versions"] == []
    assert _versions(api, "title_application") == [1]


def test_malformed_requests_are_refused_without_a_deploy(app, api):
    client = signed_in(app, "designer_1")
    assert client.post(MODELER, data="{", content_type="application/json").status_code == 400
    assert client.post(MODELER, json={"op": "publish", "xml": TITLE}).status_code == 400
    assert client.post(MODELER, json=["validate"]).status_code == 400
    r = _post(client, "deploy", TITLE, {"process_id": "title_application", "version": "1"})
    assert r.status_code == 400 and "base" in r.json["error"]
    r = _post(client, "deploy", TITLE, {"process_id": "title_application", "version": 99})
    assert r.status_code == 404 and "不存在" in r.json["error"]
    assert _versions(api, "title_application") == [1]


@pytest.mark.app_config(WTF_CSRF_ENABLED=True)
def test_the_modeler_endpoint_needs_the_pages_csrf_token(app, api):
    client = app.test_client()
    token = re.search(r'name="csrf_token" value="([^"]+)"', text(client.get("/login")))[1]
    sign_in = {"username": "designer_1", "password": PASSWORDS["designer_1"], "csrf_token": token}
    assert client.post("/login", data=sign_in).status_code == 302
    page = text(client.get(MODELER))
    edited = TITLE.replace("单位资格审查与公示", "单位审查并公示")
    r = client.post(MODELER, json={"op": "deploy", "xml": edited})
    assert r.status_code == 400 and _versions(api, "title_application") == [1]
    token = re.search(r'data-csrf="([^"]+)"', page)[1]
    r = client.post(MODELER, json={"op": "deploy", "xml": edited}, headers={"X-CSRFToken": token})
    assert r.status_code == 201 and _versions(api, "title_application") == [1, 2]


def test_the_api_gives_a_versions_files_to_designers_only(api):
    r = api.get("/specs/dossier_review/1/files", "designer_1")
    assert r.status == 200
    assert r.json["process_id"] == "dossier_review" and r.json["version"] == 1
    # the diagram, the forms its tasks name, and the designer files every version carries
    assert set(r.json["files"]) == {
        "dossier_review.bpmn",
        "review_dossier.schema.json",
        "review_dossier.ui.json",
        "dossier.schema.json",
        "dossier.ui.json",
        "eligibility.json",
        "committees.json",
        "expert_review.json",
    }
    assert api.get("/specs/dossier_review/1/files", "platform_1").status == 403
    assert api.get("/specs/dossier_review/9/files", "admin").status == 404
    assert api.get("/specs/nope/1/files", "admin").status == 404
