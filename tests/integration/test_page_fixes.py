"""Issue 12's page fixes, each as a person meets it: operators' filters, applicants' home,
messages, calendar, diagrams, rollback targets, the designer's upload page."""

from __future__ import annotations

import pytest

from tests.flows import (
    application_at_unit_review,
    file_application,
    register_applicant,
    register_unit,
    unit_approves,
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


# ----- calendar ----------------------------------------------------------------------------
CAL = "/admin/calendar"


def test_weekend_entered_as_a_holiday_is_refused_and_the_typing_kept(app):
    admin = signed_in(app, "admin")
    r = admin.post(
        f"{CAL}/years",
        data={"year": "2027", "holidays": "2027-01-01 2027-01-02", "workdays": "2027-02-08"},
    )
    assert r.status_code == 422
    html = text(r)
    assert 'id="calendar-error"' in html
    assert "2027-01-02（星期六） 本来就是休息日" in html
    assert "2027-02-08（星期一） 本来就是工作日" in html
    assert ">2027-01-01 2027-01-02</textarea>" in html  # nothing typed is lost
    assert "2027 年的节假日安排尚未录入" in text(admin.get(f"{CAL}?year=2027"))  # nothing saved

    r = admin.post(f"{CAL}/days", data={"day": "2026-11-28", "kind": "holiday", "year": "2026"})
    assert r.status_code == 422 and "2026-11-28（星期六） 本来就是休息日" in text(r)
    assert 'value="2026-11-28"' in text(r)


def test_a_make_up_saturday_may_still_be_turned_back_into_a_day_off(app):
    admin = signed_in(app, "admin")
    # 2026-01-04 (Sunday) is a make-up working day in the State Council's 2026 notice.
    r = admin.post(f"{CAL}/days", data={"day": "2026-01-04", "kind": "holiday", "year": "2026"})
    assert r.status_code == 302


def test_entered_at_is_shown_in_china_time(app, clock):
    from datetime import UTC, datetime

    clock.now = datetime(2026, 11, 30, 17, 30, tzinfo=UTC)  # 2026-12-01 01:30 in Ningbo
    admin = signed_in(app, "admin")
    r = admin.post(f"{CAL}/years", data={"year": "2027", "holidays": "2027-01-01"})
    assert r.status_code == 302
    html = text(admin.get(f"{CAL}?year=2027"))
    assert "于 2026-12-01 01:30 录入" in html


def test_admin_is_reminded_from_november_until_next_year_is_entered(app, clock):

    admin = signed_in(app, "admin")
    html = text(admin.get("/admin/instances"))  # 2026-11-26, 2027 not entered
    assert 'id="calendar-banner"' in html and "2027 年的节假日安排尚未录入" in html
    assert 'id="calendar-banner"' not in text(signed_in(app, "yz_water_1").get("/tasks"))
    admin.post(f"{CAL}/years", data={"year": "2027", "holidays": "2027-01-01"})
    assert 'id="calendar-banner"' not in text(admin.get("/admin/instances"))


def test_no_reminder_before_november(app, clock):
    from datetime import UTC, datetime

    clock.now = datetime(2026, 10, 20, 2, 0, tzinfo=UTC)  # 2027 not entered, but October
    assert 'id="calendar-banner"' not in text(signed_in(app, "admin").get(CAL))


# ----- operators' rollback targets ---------------------------------------------------------
def test_rollback_list_offers_user_tasks_by_their_title(app, api):
    import re

    unit, person, app_id = application_at_unit_review(api)
    unit_approves(api, unit, app_id)  # past the publicity gateway into the chain
    inst = api.get(f"/applications/{app_id}", person["username"]).json["instance_id"]
    html = text(signed_in(app, "admin").get(f"{OPS}/{inst}"))
    select = re.search(r'<select id="reset-task".*?</select>', html, re.S).group(0)
    options = dict(re.findall(r'<option value="([^"]+)"[^>]*>([^<]+)</option>', select))
    assert "submit_application" in options and "unit_review" in options
    assert not any(k.startswith("gw_") for k in options), options
    assert all(title != key and "（" not in title for key, title in options.items())
    detail = api.get(f"/ops/instances/{inst}", "admin").json
    assert sorted(t["task"] for t in detail["reset_targets"]) == detail["reset_candidates"]


# ----- designer's upload page --------------------------------------------------------------
def test_validated_files_deploy_without_picking_them_again(app, api):
    import io
    import re

    designer = signed_in(app, "admin")
    body = _with_layout(process(script="ratio = 10 / divisor"))
    r = designer.post(
        "/admin/processes/upload",
        data={"op": "validate", "files": [(io.BytesIO(body), "sample.bpmn")]},
        content_type="multipart/form-data",
    )
    html = text(r)
    assert r.status_code == 200 and 'id="valid"' in html and 'id="deploy-staged"' in html
    token = re.search(r'name="staged" value="([^"]+)"', html).group(1)

    stranger = signed_in(app, "designer_1")  # another designer cannot deploy them
    r = stranger.post("/admin/processes/upload", data={"op": "deploy", "staged": token})
    assert r.status_code == 422 and "重新选择文件" in text(r)

    r = designer.post("/admin/processes/upload", data={"op": "deploy", "staged": token})
    assert r.status_code == 200 and "已发布新版本" in text(r), text(r)
    assert api.get("/specs", "admin").json["total"] >= 1
    again = designer.post("/admin/processes/upload", data={"op": "deploy", "staged": token})
    assert again.status_code == 422 and "重新选择文件" in text(again)  # used once


def test_deploy_with_an_unknown_staged_token_asks_for_the_files(app):
    r = signed_in(app, "admin").post(
        "/admin/processes/upload", data={"op": "deploy", "staged": "x" * 24}
    )
    assert r.status_code == 422 and "重新选择文件" in text(r)
