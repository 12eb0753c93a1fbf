"""Issue 12's page fixes, each as a person meets it: operators' filters, applicants' home,
messages, calendar, diagrams, rollback targets, the designer's upload page."""

from __future__ import annotations

import pytest

from tests.flows import (
    application_at_unit_review,
    file_application,
    register_applicant,
    register_unit,
)
from tests.integration.test_ops_pages import OPS, _start, _upload, _with_layout
from tests.page_helpers import signed_in, text
from tests.samples import process


@pytest.mark.parametrize("flag", ["1", "true", "True", "yes"])
def test_stuck_filter_takes_true_as_well_as_1(app, api, flag):
    admin = signed_in(app, "admin")
    failing = _with_layout(process(script="ratio = 10 / divisor"))
    assert _upload(admin, "deploy", (failing, "sample.bpmn"))[0] == 200
    unit = register_unit(api)
    stuck = _start(api, {"divisor": 0, "unit_org_id": unit["unit_id"]})
    healthy = _start(api, {"divisor": 2, "unit_org_id": unit["unit_id"]})

    html = text(admin.get(OPS, query_string={"stuck": flag}))
    assert f'id="instance-{stuck}"' in html and f'id="instance-{healthy}"' not in html
    everything = text(admin.get(OPS, query_string={"stuck": "false"}))
    assert f'id="instance-{healthy}"' in everything


def test_unknown_stuck_value_is_refused_in_chinese(app):
    r = signed_in(app, "admin").get(OPS, query_string={"stuck": "maybe"})
    assert r.status_code == 422 and "stuck 取值不正确" in text(r)


def _returned_application(api):
    unit, person, app_id = application_at_unit_review(api)
    task = api.only_task(unit["username"], application=app_id, name="unit_review")
    r = api.complete(
        task["id"], unit["username"], decision="return", opinion="材料不全", return_reason="缺证书"
    )
    assert r.status == 200
    return unit, person, app_id


def test_messages_show_unread_and_link_to_their_application(app, api):
    _unit, person, app_id = _returned_application(api)
    client = signed_in(app, person["username"])
    html = text(client.get("/messages"))
    about_app = [
        m
        for m in api.get("/me/messages", person["username"]).json["items"]
        if m["application_id"] == app_id
    ]
    assert about_app, "the return is announced to the applicant"
    message_id = about_app[0]["id"]
    assert f'id="message-{message_id}"' in html
    row = html.split(f'id="message-{message_id}"')[1].split("</li>")[0]
    assert "未读" in row and f"/messages/{message_id}/open" in row
    assert "条未读" in html

    r = client.get(f"/messages/{message_id}/open")
    assert r.status_code == 302 and r.location.endswith(f"/applications/{app_id}")
    row = text(client.get("/messages")).split(f'id="message-{message_id}"')[1].split("</li>")[0]
    assert "未读" not in row
    unread = [m for m in api.get("/me/messages", person["username"]).json["items"] if not m["read"]]
    assert all(m["id"] != message_id for m in unread)


def test_mark_one_and_all_messages_read_from_the_page(app, api):
    unit, person, _app_id = _returned_application(api)
    client = signed_in(app, person["username"])
    items = api.get("/me/messages", person["username"]).json["items"]
    assert len([m for m in items if not m["read"]]) >= 2
    assert client.post(f"/messages/{items[0]['id']}/read").status_code == 302
    html = text(client.get("/messages"))
    assert "未读" not in html.split(f'id="message-{items[0]["id"]}"')[1].split("</li>")[0]
    assert "未读" in html.split(f'id="message-{items[1]["id"]}"')[1].split("</li>")[0]
    assert client.post("/messages/read-all").status_code == 302
    html = text(client.get("/messages"))
    assert "未读" not in html and 'id="read-all"' not in html
    other = signed_in(app, unit["username"])
    assert other.post(f"/messages/{items[0]['id']}/read").status_code == 403


def test_applicant_with_an_approved_dossier_is_told_to_file(app, api):
    unit = register_unit(api)
    person = register_applicant(api, unit)  # dossier approved by the unit
    client = signed_in(app, person["username"])
    html = text(client.get("/tasks"))
    assert 'id="next-step"' in html and "可以申报职称" in html
    assert 'href="/applications#filing"' in html
    file_application(api, person)
    html = text(client.get("/tasks"))
    assert 'id="next-step"' not in html  # the application's form is on the list instead


def test_applicant_without_a_dossier_is_told_to_fill_it_in(app, api):
    unit = register_unit(api)
    person = register_applicant(api, unit, approve_dossier=False)
    html = text(signed_in(app, person["username"]).get("/tasks"))
    assert "请先填写业绩档案" in html and 'href="/me/dossier"' in html


def test_reviewers_get_no_filing_hint(app):
    assert 'id="next-step"' not in text(signed_in(app, "yz_water_1").get("/tasks"))
