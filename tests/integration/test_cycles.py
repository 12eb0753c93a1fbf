"""Issue 13 item 1: annual cycles (申报年度). A committee's office opens a filing window with an
optional quota on a pinned process version; filing outside an open window is refused naming
the window; the office closes the cycle. The seed opens 2026-01-01..2027-12-31 for every
committee; the test clock starts on 2026-11-26 (Ningbo)."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from engine.cycle_rules import no_cycle_message
from storage import AuditEvent, db
from tests import flows
from tests.conftest import START
from tests.flows import COMMITTEE, OFFICE, deploy, open_cycle_of
from tests.helpers import FIXTURES
from tests.page_helpers import signed_in, text

CYCLES = f"/committees/{COMMITTEE}/cycles"
FILING = {"series": "工程", "level": "中级", "specialty": "水利工程"}
WINDOW_2028 = {"year": 2028, "opens_on": "2028-03-01", "closes_on": "2028-04-30"}
SPRING = {"year": 2027, "opens_on": "2027-03-01", "closes_on": "2027-04-30"}
TITLE = (Path(__file__).resolve().parents[2] / "bpmn" / "title_application.bpmn").read_text(
    encoding="utf-8"
)


def _close_seed_cycle(api) -> None:
    seed = open_cycle_of(api)
    assert api.post(f"/cycles/{seed['cycle_id']}/close", OFFICE, json={}).status == 200


def _open(api, body, user=OFFICE):
    return api.post(CYCLES, user, json=body)


def _applicant(api):
    return flows.register_applicant(api, flows.register_unit(api))


def _file(api, person):
    return api.post("/applications", person["username"], json=FILING)


def _audit(app, action):
    with app.app_context():
        rows = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
        ).all()
        db.session.remove()
        return rows


def _at(clock, api, when: datetime) -> None:
    clock.now = when
    api.tokens.clear()  # tokens live 12 hours


# --------------------------------------------------------------------------- the office


def test_office_opens_lists_shows_and_closes_a_cycle_audited(app, api):
    r = _open(api, {"year": 2028, "opens_on": "2028-03-01", "closes_on": "2028-04-30", "quota": 50})
    assert r.status == 201, r
    cycle = r.json
    assert cycle["status"] == "open" and cycle["cycle_id"]
    assert (cycle["year"], cycle["opens_on"], cycle["closes_on"], cycle["quota"]) == (
        2028,
        "2028-03-01",
        "2028-04-30",
        50,
    )
    assert cycle["version"] == 1 and cycle["accepting"] is False and cycle["created_by"] == OFFICE

    listed = api.get(CYCLES, OFFICE).json
    assert listed["total"] == 2
    assert [c["year"] for c in listed["items"]] == [2028, 2026]  # newest window first
    assert api.get(f"{CYCLES}?limit=1&offset=1", OFFICE).json["items"][0]["year"] == 2026
    shown = api.get(f"/cycles/{cycle['cycle_id']}", "yz_water_1").json
    assert shown["cycle_id"] == cycle["cycle_id"] and shown["applications"] is None
    assert api.get(f"/cycles/{cycle['cycle_id']}", OFFICE).json["applications"] == 0

    r = api.post(f"/cycles/{cycle['cycle_id']}/close", OFFICE, json={"reason": "改期"})
    assert r.status == 200 and r.json["status"] == "closed" and r.json["close_reason"] == "改期"
    assert r.json["closed_by"] == OFFICE and r.json["closed_at"]
    r = api.post(f"/cycles/{cycle['cycle_id']}/close", OFFICE)  # no body: no reason
    assert r.status == 409 and r.json["error"]["code"] == "cycle_closed", r

    (opened,) = [e for e in _audit(app, "cycle_open") if e.detail["year"] == 2028]
    assert opened.actor_name == "孙八" and opened.org_id == "nb-office"
    assert opened.detail["committee_id"] == COMMITTEE and opened.detail["quota"] == 50
    (closed,) = _audit(app, "cycle_close")
    assert closed.reason == "改期" and closed.detail["cycle_id"] == int(cycle["cycle_id"])


def test_open_windows_of_one_committee_may_not_overlap(api):
    r = _open(api, SPRING)  # inside the seed's 2026-01-01..2027-12-31
    assert r.status == 409 and r.json["error"]["code"] == "cycle_overlap", r
    assert "2026-01-01" in r.json["error"]["message"]
    _close_seed_cycle(api)  # a closed cycle's window is free again
    assert _open(api, SPRING).status == 201
    r = _open(api, {"year": 2027, "opens_on": "2027-04-30", "closes_on": "2027-06-30"})
    assert r.status == 409 and r.json["error"]["code"] == "cycle_overlap", r  # one shared day


@pytest.fixture
def other_office(app, api):
    """An office of no committee of the catalogue, with an account."""
    doc = json.loads((FIXTURES / "orgs.json").read_text())
    doc["orgs"].append({"id": "sx-office", "name": "绍兴评委会办公室", "kind": "office"})
    doc["users"].append(
        {"username": "sx_office_1", "password": "sxo-Pass-1", "role": "office", "org": "sx-office"}
    )
    with app.app_context():
        app.extensions["accounts"].load_orgs(doc)
        db.session.remove()
    api.login("sx_office_1", "sxo-Pass-1")
    return "sx_office_1"


def test_only_the_committees_office_and_admin_open_and_close(api, other_office):
    person = _applicant(api)
    body = {"year": 2028, "opens_on": "2028-03-01", "closes_on": "2028-04-30"}
    assert api.post(CYCLES, json=body).status == 401
    assert api.get(CYCLES).status == 401
    assert api.get("/committees").status == 401
    for user in (person["username"], "yz_water_1", "nb_hrss_1", "designer_1", other_office):
        r = _open(api, body, user)
        assert r.status == 403, (user, r)
    seed = open_cycle_of(api)
    for user in (person["username"], "yz_water_1", other_office):
        r = api.post(f"/cycles/{seed['cycle_id']}/close", user, json={})
        assert r.status == 403, (user, r)
    assert api.post(f"/cycles/{seed['cycle_id']}/close").status == 401
    assert _open(api, body, "admin").status == 201
    assert api.get(f"/cycles/{seed['cycle_id']}", "admin").json["status"] == "open"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"opens_on": "2028-03-01", "closes_on": "2028-04-30"}, "year"),
        ({"year": "2028", "opens_on": "2028-03-01", "closes_on": "2028-04-30"}, "year"),
        ({"year": 1999, "opens_on": "2028-03-01", "closes_on": "2028-04-30"}, "year"),
        ({"year": True, "opens_on": "2028-03-01", "closes_on": "2028-04-30"}, "year"),
        ({"year": 2028, "opens_on": "2028-3-1", "closes_on": "2028-04-30"}, "opens_on"),
        ({"year": 2028, "opens_on": "2028-02-30", "closes_on": "2028-04-30"}, "opens_on"),
        ({"year": 2028, "opens_on": 20280301, "closes_on": "2028-04-30"}, "opens_on"),
        ({"year": 2028, "opens_on": "2028-03-01"}, "closes_on"),
        ({"year": 2028, "opens_on": "2028-04-30", "closes_on": "2028-03-01"}, "closes_on"),
        ({"year": 2028, "opens_on": "2028-01-01", "closes_on": "2031-01-01"}, "closes_on"),
        ({"year": 2028, "opens_on": "2035-03-01", "closes_on": "2035-04-30"}, "opens_on"),
        ({**SPRING, "year": 2028, "opens_on": "2028-03-01", "quota": 0}, "quota"),
        (
            {"year": 2028, "opens_on": "2028-03-01", "closes_on": "2028-04-30", "quota": 1.5},
            "quota",
        ),
        (
            {"year": 2028, "opens_on": "2028-03-01", "closes_on": "2028-04-30", "version": 9},
            "version",
        ),
        (
            {"year": 2028, "opens_on": "2028-03-01", "closes_on": "2028-04-30", "version": "1"},
            "version",
        ),
        ({**WINDOW_2028, "version": 2**40}, "version"),
        ({**WINDOW_2028, "year": 2**40}, "year"),
        ({**WINDOW_2028, "quota": -(2**40)}, "quota"),
    ],
)
def test_bad_cycle_input_is_422_on_the_field(api, body, field):
    r = _open(api, body)
    assert r.status == 422 and field in r.json["error"]["fields"], r
    assert api.get(CYCLES, OFFICE).json["total"] == 1  # nothing opened


def test_malformed_bodies_and_unknown_ids(api):
    r = api.post(CYCLES, OFFICE, json={**WINDOW_2028, "quota": 10**20})  # beyond JSON's safe range
    assert r.status == 400, r
    assert api.post(CYCLES, OFFICE, data="{", content_type="application/json").status == 400
    assert api.post(CYCLES, OFFICE, json=[1]).status == 400
    assert api.post(CYCLES, OFFICE).status == 400
    r = api.post("/committees/no-such/cycles", OFFICE, json=SPRING)
    assert r.status == 404 and r.json["error"]["code"] == "not_found"
    assert api.get("/committees/no-such/cycles", OFFICE).status == 404
    assert api.get("/cycles/999999", OFFICE).status == 404
    assert api.post("/cycles/999999/close", OFFICE, json={}).status == 404
    assert api.get("/cycles/abc", OFFICE).status == 404
    seed = open_cycle_of(api)
    r = api.post(f"/cycles/{seed['cycle_id']}/close", OFFICE, json={"reason": 5})
    assert r.status == 422 and "reason" in r.json["error"]["fields"]
    assert api.get(f"{CYCLES}?limit=0", OFFICE).status == 400
    assert api.get(f"/cycles/{seed['cycle_id']}", OFFICE).json["status"] == "open"


def test_committees_answer_the_list_envelope_with_paging(api):
    r = api.get("/committees?limit=1&offset=1", "yz_water_1")
    assert r.status == 200 and r.json == {"items": [], "total": 1}
    (committee,) = api.get("/committees", "nb_office_1").json["items"]
    assert {"id", "name", "office_org_id", "address", "phone", "contacts"} <= set(committee)
    assert {"series", "levels", "specialties"} <= set(committee)


# --------------------------------------------------------------------------- filing


def test_filing_before_and_after_the_window_is_refused_naming_it(clock, api):
    _close_seed_cycle(api)
    spring = _open(api, SPRING).json
    person = _applicant(api)
    r = _file(api, person)
    assert r.status == 409 and r.json["error"]["code"] == "no_open_cycle", r
    message = r.json["error"]["message"]
    assert "2027-03-01" in message and "2027-04-30" in message and "尚未开始" in message

    _at(clock, api, datetime(2027, 3, 1, 0, 30, tzinfo=UTC))  # 08:30 on 1 March in Ningbo
    r = _file(api, person)
    assert r.status == 201, r
    detail = api.get(f"/applications/{r.json['application_id']}", person["username"]).json
    assert detail["cycle"] == {
        "id": spring["cycle_id"],
        "year": 2027,
        "opens_on": "2027-03-01",
        "closes_on": "2027-04-30",
    }

    _at(clock, api, datetime(2027, 4, 30, 16, 0, tzinfo=UTC))  # 00:00 on 1 May in Ningbo
    late = _applicant(api)
    r = _file(api, late)
    assert r.status == 409 and r.json["error"]["code"] == "no_open_cycle", r
    assert "已截止" in r.json["error"]["message"] and "2027-04-30" in r.json["error"]["message"]


def test_a_closed_cycle_takes_no_application_and_those_filed_go_on(api):
    unit, person, app_id = flows.application_at_unit_review(api)
    _close_seed_cycle(api)
    r = _file(api, _applicant(api))
    assert r.status == 409 and r.json["error"]["code"] == "no_open_cycle", r
    assert "已关闭" in r.json["error"]["message"]
    assert flows.unit_approves(api, unit, app_id).status == 200
    assert flows.status_of(api, person, app_id) == "in_review"


def test_quota_counts_filed_applications_and_a_withdrawal_frees_a_place(api):
    _close_seed_cycle(api)
    cycle = _open(api, {**SPRING, "year": 2026, "opens_on": "2026-11-01", "quota": 1}).json
    first = _applicant(api)
    r = _file(api, first)
    assert r.status == 201, r
    second = _applicant(api)
    r = _file(api, second)
    assert r.status == 409 and r.json["error"]["code"] == "cycle_full", r
    assert "1 名" in r.json["error"]["message"]
    shown = api.get(f"/cycles/{cycle['cycle_id']}", OFFICE).json
    assert shown["full"] is True and shown["applications"] == 1
    assert flows.withdraw(api, first["username"], _only_app(api, first)).status == 200
    assert _file(api, second).status == 201


def _only_app(api, person) -> str:
    (row,) = api.get("/applications", person["username"]).json["items"]
    return row["id"]


def _version_of(api, app_id: str) -> int:
    inst = api.get(f"/applications/{app_id}", "admin").json["instance_id"]
    return api.get(f"/ops/instances/{inst}", "admin").json["version"]


def test_a_cycle_keeps_its_process_version_for_all_its_applications(api):
    changed = TITLE.replace(
        'name="publicityWorkdays" value="5"', 'name="publicityWorkdays" value="7"'
    )
    assert deploy(api, {"title_application.bpmn": changed}).status == 201  # version 2, current
    pinned = flows.file_application(api, _applicant(api))
    assert _version_of(api, pinned) == 1  # the seed's cycle opened on version 1

    newer = flows.next_cycle(api)
    assert newer["version"] == 2
    assert _version_of(api, flows.file_application(api, _applicant(api))) == 2

    # The office may name an older version: the cycle runs on it though 2 is current.
    r = api.post(f"/cycles/{newer['cycle_id']}/close", OFFICE, json={})
    assert r.status == 200
    named = _open(
        api, {"year": 2026, "opens_on": "2026-11-01", "closes_on": "2026-12-31", "version": 1}
    )
    assert named.status == 201 and named.json["version"] == 1, named
    assert _version_of(api, flows.file_application(api, _applicant(api))) == 1


def test_dashboard_filters_by_cycle(app, api):
    flows.file_application(api, _applicant(api))
    seed = open_cycle_of(api)
    newer = flows.next_cycle(api)
    flows.file_application(api, _applicant(api))
    for user in ("admin", OFFICE):
        r = api.get(f"/dashboard?cycle={seed['cycle_id']}", user)
        assert r.status == 200 and r.json["total"] == 1, r
        assert r.json["filters"]["cycle"] == int(seed["cycle_id"])
    assert api.get(f"/dashboard?cycle={newer['cycle_id']}", "admin").json["total"] == 1
    assert api.get("/dashboard", "admin").json["total"] == 2
    html = text(signed_in(app, OFFICE).get(f"/dashboard?cycle={newer['cycle_id']}"))
    assert f'<option value="{newer["cycle_id"]}" selected>' in html
    assert "2026 年度（2026-01-01 至 2027-12-31）" in html


def test_a_committee_that_never_opened_a_cycle_says_so(app):
    committee = app.extensions["designer_forms"].current_committees().committees[0]
    never = replace(committee, id="never-opened", name="某评委会")
    with app.extensions["unit_of_work"]() as uow:
        message = no_cycle_message(uow.session, never, START.date())
    assert message == "某评委会当前没有开放的申报年度，请关注评委会办公室发布的申报通知"


def test_reading_cycles_needs_a_signed_in_user(api):
    seed = open_cycle_of(api)
    assert api.get(f"/cycles/{seed['cycle_id']}").status == 401
    assert api.get(f"/committees/{COMMITTEE}/cycles").status == 401
    person = _applicant(api)
    r = api.get(f"/committees/{COMMITTEE}/cycles", person["username"])
    assert r.status == 200 and r.json["items"][0]["accepting"] is True
    assert r.json["items"][0]["applications"] is None  # the count is the office's
