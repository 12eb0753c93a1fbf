"""A new role costs four files: its entry in engine/roles.py (and policy.py when no scope fits),
its Chinese name in web/labels.py, and a diagram lane. A status that only the diagram names
(``supervision_review``) is open and shown by the name of its step.

The test adds a ``supervisor`` role (纪检监督, accounts of the committee office, acting in a
diagram lane ``supervision``) by touching only that data, deploys a diagram with a supervision
step between the unit and the first level, and runs it end to end. (The committee's real
``expert`` role, ADR 0025, was added the same way.)
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from flask import Flask

from engine import roles, statuses
from storage import db
from tests.flows import (
    application_at_unit_review,
    deploy,
    next_cycle,
    status_of,
    unit_approves,
)
from tests.helpers import FIXTURES, PASSWORDS
from tests.page_helpers import signed_in, text
from web import labels

BPMN = Path(__file__).resolve().parents[2] / "bpmn"
TITLE = (BPMN / "title_application.bpmn").read_text(encoding="utf-8")
EXPERT = "nb_supervisor_1"
EXPERT_STEP = (
    '<bpmn:userTask id="supervision_review" name="纪检复核"><bpmn:extensionElements>'
    "<spiffworkflow:properties>"
    '<spiffworkflow:property name="formJsonSchemaFilename" value="recommend.schema.json" />'
    '<spiffworkflow:property name="orgVariable" value="office_org" />'
    '<spiffworkflow:property name="status" value=\'"supervision_review"\' />'
    "</spiffworkflow:properties></bpmn:extensionElements>"
    "<bpmn:incoming>f_chain_started</bpmn:incoming><bpmn:outgoing>f_supervision_done</bpmn:outgoing>"
    "</bpmn:userTask>"
    '<bpmn:sequenceFlow id="f_supervision_done" sourceRef="supervision_review" targetRef="merge_level" />'
)


def _with_supervision_step(xml: str) -> str:
    """title_application with 纪检复核 (lane supervision) between the chain's start and level one."""
    out = xml.replace(
        '<bpmn:sequenceFlow id="f_chain_started" sourceRef="start_review_chain" '
        'targetRef="merge_level" />',
        '<bpmn:sequenceFlow id="f_chain_started" sourceRef="start_review_chain" '
        'targetRef="supervision_review" />' + EXPERT_STEP,
    )
    out = out.replace(
        "<bpmn:incoming>f_chain_started</bpmn:incoming>\n",
        "<bpmn:incoming>f_supervision_done</bpmn:incoming>\n",
    )
    out = out.replace(
        "</bpmn:laneSet>",
        '<bpmn:lane id="lane_supervision" name="纪检监督">'
        "<bpmn:flowNodeRef>supervision_review</bpmn:flowNodeRef></bpmn:lane></bpmn:laneSet>",
    )
    assert out.count("supervision_review") == 5 and out.count("f_supervision_done") == 3
    return out


def _add_supervisor_role(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    """The whole change a new role needs in code: role data and its Chinese name."""
    monkeypatch.setitem(
        roles.ROLES,
        "supervisor",
        roles.Role(roles.OFFICE, frozenset({"supervision"}), sees="chain"),
    )
    monkeypatch.setitem(labels.ROLES, "supervisor", "纪检监督员")
    monkeypatch.setitem(PASSWORDS, EXPERT, "Supervisor-pass-2026")
    doc = json.loads((FIXTURES / "orgs.json").read_text())
    doc["users"].append(
        {
            "username": EXPERT,
            "password": PASSWORDS[EXPERT],
            "role": "supervisor",
            "org": "nb-office",
        }
    )
    with app.app_context():
        app.extensions["accounts"].load_orgs(doc)
        db.session.remove()


def test_a_diagram_lane_needs_a_role_that_acts_in_it(api):
    r = deploy(api, {"title_application.bpmn": _with_supervision_step(TITLE)})
    assert r.status == 422
    assert any("泳道" in p["message"] for p in r.json["problems"]), r


def test_new_role_and_status_work_end_to_end(app, api, monkeypatch):
    _add_supervisor_role(app, monkeypatch)
    assert deploy(api, {"title_application.bpmn": _with_supervision_step(TITLE)}).status == 201
    next_cycle(api)
    unit, person, app_id = application_at_unit_review(api)
    assert unit_approves(api, unit, app_id).status == 200

    # A status only the diagram names is open: the applicant cannot file a second application.
    assert status_of(api, person, app_id) == "supervision_review"
    assert statuses.is_open("supervision_review")
    r = api.post(
        "/applications",
        person["username"],
        json={"series": "工程", "level": "中级", "specialty": "水利工程"},
    )
    assert r.status == 409 and r.json["error"]["code"] == "application_open", r

    # The pages show it by its step's name, styled as in progress without a CSS entry.
    page = text(signed_in(app, person["username"]).get(f"/applications/{app_id}"))
    badge = re.search(r'<span class="status ([^"]*)" id="app-status">([^<]*)</span>', page)
    assert badge is not None and badge.group(2) == "纪检复核"
    assert "s-open" in badge.group(1).split()
    listing = text(signed_in(app, person["username"]).get("/applications"))
    assert "纪检复核" in listing

    # The supervisor sees the application routed through its office, and acts on the step.
    expert_page = signed_in(app, EXPERT)
    assert "纪检监督员" in text(expert_page.get("/tasks"))
    assert "申报查询" in text(expert_page.get("/tasks"))
    assert api.get(f"/applications/{app_id}", EXPERT).status == 200
    task = api.only_task(EXPERT, application=app_id, name="supervision_review")
    assert task["org_id"] == "nb-office"
    assert api.get(f"/tasks/{task['id']}", "nb_office_1").status == 403  # not the office's lane
    assert api.complete(task["id"], EXPERT, note="专家组评议同意").status == 200
    assert status_of(api, person, app_id) == "in_review"
    assert api.only_task("yz_water_1", application=app_id, name="level_review")

    # Someone else's application, not routed to the office, stays hidden from the expert.
    _unit, _other, other_id = application_at_unit_review(api)
    assert api.get(f"/applications/{other_id}", EXPERT).status == 403
