"""Designers change the process by editing only files in bpmn/; each change deploys as a new
version and running instances stay on the version they started on."""

from __future__ import annotations

import io
import json
from pathlib import Path

from tests.flows import (
    CHAIN,
    application_at_unit_review,
    level,
    next_cycle,
    pay,
    receive_paper,
    status_of,
    unit_approves,
)

BPMN = Path(__file__).resolve().parents[2] / "bpmn"
TITLE = (BPMN / "title_application.bpmn").read_text(encoding="utf-8")


def _deploy(api, files: dict[str, str]):
    data = {"files": [(io.BytesIO(body.encode("utf-8")), name) for name, body in files.items()]}
    r = api.post("/specs/deploy", "admin", data=data, content_type="multipart/form-data")
    assert r.status == 201, r
    return r.json["versions"][0]["version"]


def test_publicity_length_five_to_seven_working_days(api):
    old_unit, _old_person, old_app = application_at_unit_review(api)
    seven = TITLE.replace(
        'name="publicityWorkdays" value="5"', 'name="publicityWorkdays" value="7"'
    )
    assert _deploy(api, {"title_application.bpmn": seven}) == 2
    next_cycle(api)
    unit, _person, app_id = application_at_unit_review(api)
    r = unit_approves(api, unit, app_id)  # 2026-11-16..20 is five working days
    assert r.status == 422 and "7 个工作日" in r.json["error"]["fields"]["publicity_end"]
    assert unit_approves(api, unit, app_id, publicity_end="2026-11-24").status == 200
    assert unit_approves(api, old_unit, old_app).status == 200  # still on version 1


def test_new_form_field_is_required_in_the_new_version_only(api):
    old_unit, _p, old_app = application_at_unit_review(api)
    form = json.loads((BPMN / "forms" / "unit_review.schema.json").read_text(encoding="utf-8"))
    form["properties"]["publicity_report_no"] = {
        "title": "公示报告编号",
        "type": "string",
        "minLength": 1,
    }
    form["required"] = [*form.get("required", []), "publicity_report_no"]
    _deploy(
        api,
        {
            "title_application.bpmn": TITLE,
            "unit_review.schema.json": json.dumps(form, ensure_ascii=False),
        },
    )
    next_cycle(api)
    unit, _person, app_id = application_at_unit_review(api)
    task = api.only_task(unit["username"], application=app_id, name="unit_review")
    assert (
        "publicity_report_no"
        in api.get(f"/tasks/{task['id']}", unit["username"]).json["form"]["properties"]
    )
    r = unit_approves(api, unit, app_id)
    assert r.status == 422 and "publicity_report_no" in r.json["error"]["fields"]
    assert unit_approves(api, unit, app_id, publicity_report_no="NB-GS-2026-01").status == 200
    assert unit_approves(api, old_unit, old_app).status == 200


def test_extra_sign_off_task_at_the_office(api):
    signoff = (
        '<bpmn:userTask id="office_signoff" name="评委会主任签发"><bpmn:extensionElements>'
        "<spiffworkflow:properties>"
        '<spiffworkflow:property name="formJsonSchemaFilename" value="recommend.schema.json" />'
        '<spiffworkflow:property name="orgVariable" value="office_org" />'
        '<spiffworkflow:property name="status" value=\'"awaiting_paper"\' />'
        "</spiffworkflow:properties></bpmn:extensionElements>"
        "<bpmn:incoming>f_paper_complete</bpmn:incoming><bpmn:outgoing>f_signed</bpmn:outgoing>"
        "</bpmn:userTask>"
        '<bpmn:sequenceFlow id="f_signed" sourceRef="office_signoff" targetRef="complete_application" />'
    )
    changed = TITLE.replace(
        'id="f_paper_complete" name="已齐" sourceRef="gw_paper_complete" '
        'targetRef="complete_application">',
        'id="f_paper_complete" name="已齐" sourceRef="gw_paper_complete" '
        'targetRef="office_signoff">',
    )
    changed = changed.replace(
        '<bpmn:sequenceFlow id="f_completed"', signoff + '<bpmn:sequenceFlow id="f_completed"'
    )
    changed = changed.replace(
        "<bpmn:incoming>f_paper_complete</bpmn:incoming>\n      <bpmn:outgoing>f_completed",
        "<bpmn:incoming>f_signed</bpmn:incoming>\n      <bpmn:outgoing>f_completed",
    )
    changed = changed.replace(
        "<bpmn:flowNodeRef>receive_paper</bpmn:flowNodeRef>",
        "<bpmn:flowNodeRef>receive_paper</bpmn:flowNodeRef>"
        "<bpmn:flowNodeRef>office_signoff</bpmn:flowNodeRef>",
    )
    assert changed.count("office_signoff") >= 3
    assert _deploy(api, {"title_application.bpmn": changed}) == 2
    next_cycle(api)
    unit, person, app_id = application_at_unit_review(api)
    unit_approves(api, unit, app_id)
    for org in CHAIN:
        level(api, org, app_id)
    pay(api, person, app_id)
    receive_paper(api, app_id)
    assert status_of(api, person, app_id) == "awaiting_paper"
    sign = api.only_task("nb_office_1", application=app_id, name="office_signoff")
    assert api.complete(sign["id"], "nb_office_1", note="同意").status == 200
    assert status_of(api, person, app_id) == "expert_review"
