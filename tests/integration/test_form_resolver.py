"""Forms, the dossier's form and the rules files come from the deployed version, never from
bpmn/ on disk: an upload-deploy of changed files changes the pages, the dossier and the rules
for new applications, while an application filed before keeps its version's files."""

from __future__ import annotations

import json
from pathlib import Path

from tests.flows import (
    application_at_unit_review,
    deploy,
    file_application,
    next_cycle,
    register_applicant,
    register_unit,
    submit,
)
from tests.page_helpers import signed_in, text

BPMN = Path(__file__).resolve().parents[2] / "bpmn"
TITLE = (BPMN / "title_application.bpmn").read_text(encoding="utf-8")
NEW_NAME = "宁波市水利工程中级职称评审委员会（新目录）"


def _json(path: str) -> dict:
    return json.loads((BPMN / path).read_text(encoding="utf-8"))


def _changed_files() -> dict[str, str]:
    submission = _json("forms/submit_application.schema.json")
    submission["properties"]["research_direction"] = {"title": "研究方向", "type": "string"}
    dossier = _json("forms/dossier.schema.json")
    dossier["properties"]["patents"] = {"title": "专利情况", "type": "string"}
    catalogue = _json("rules/committees.json")
    catalogue["committees"][0]["name"] = NEW_NAME
    return {
        "title_application.bpmn": TITLE,
        "submit_application.schema.json": json.dumps(submission, ensure_ascii=False),
        "dossier.schema.json": json.dumps(dossier, ensure_ascii=False),
        "committees.json": json.dumps(catalogue, ensure_ascii=False),
    }


def test_pages_dossier_and_rules_use_the_deployed_versions_files(app, api):
    old_unit, old_person, old_app = application_at_unit_review(api)
    r = deploy(api, _changed_files())
    assert r.status == 201 and r.json["versions"][0]["version"] == 2, r
    next_cycle(api)

    # The committee catalogue: listings and new applications use the deployed one.
    assert NEW_NAME in [c["name"] for c in api.get("/committees", "admin").json["items"]]
    unit = register_unit(api)
    person = register_applicant(api, unit)
    app_id = file_application(api, person)
    assert api.get(f"/applications/{app_id}", person["username"]).json["committee"]["name"] == (
        NEW_NAME
    )
    # ... an application filed before keeps the catalogue of its version.
    old = api.get(f"/applications/{old_app}", old_person["username"]).json
    assert old["committee"]["name"] != NEW_NAME

    # The dossier's form: API and page.
    assert "patents" in api.get("/me/dossier", person["username"]).json["form"]["properties"]
    assert "专利情况" in text(signed_in(app, person["username"]).get("/me/dossier"))

    # The submission form: the applicant fills the new field; the unit's task page shows it.
    submit(api, person, app_id, research_direction="水工结构抗震")
    task = api.only_task(unit["username"], application=app_id, name="unit_review")
    page = text(signed_in(app, unit["username"]).get(f"/tasks/{task['id']}"))
    assert "研究方向" in page and "水工结构抗震" in page
    old_task = api.only_task(old_unit["username"], application=old_app, name="unit_review")
    assert "研究方向" not in text(
        signed_in(app, old_unit["username"]).get(f"/tasks/{old_task['id']}")
    )


def test_a_broken_rules_file_is_refused_and_nothing_deploys(api):
    files = {"title_application.bpmn": TITLE, "committees.json": json.dumps({"committees": 3})}
    r = deploy(api, files)
    assert r.status == 422, r
    assert any(p["file"] == "committees.json" for p in r.json["problems"]), r
    rows = api.get("/specs", "admin").json["items"]
    assert [v["version"] for v in rows if v["process_id"] == "title_application"] == [1]
