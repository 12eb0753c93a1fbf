"""统计看板: its numbers match the applications behind them; each role sees its own scope;
unknown filters answer 422; exports are audited; the page draws charts that carry their numbers."""

from __future__ import annotations

import csv
import io
from collections import Counter
from datetime import UTC, datetime
from typing import Any

import pytest

from engine import ManualClock
from storage import AuditEvent, db
from tests import flows
from tests.helpers import Api
from tests.page_helpers import field_error, signed_in, text


def _at(clock: ManualClock, api: Api, when: datetime) -> None:
    """Move the clock (Ningbo time given as UTC) and sign API users in again."""
    clock.now = when
    api.tokens.clear()  # tokens live 12 hours


def _cn(day: int, month: int = 11, hour: int = 10) -> datetime:
    """A Ningbo wall-clock time in 2026 as UTC."""
    return datetime(2026, month, day, hour - 8, 0, tzinfo=UTC)


def _filed(api: Api, unit: dict[str, Any], *, submit: bool = True) -> tuple[dict, str]:
    person = flows.register_applicant(api, unit)
    app_id = flows.file_application(api, person)
    if submit:
        flows.submit(api, person, app_id)
    return person, app_id


def _by(rows: list[dict[str, Any]], key: str, value: str = "count") -> dict[str, Any]:
    return {r[key]: r[value] for r in rows}


def test_dashboard_numbers_match_the_applications_behind_them(app, api, clock):
    # Thu 26 Nov 10:00: five applications filed; four reach the unit's review.
    unit = flows.register_unit(api)
    _, at_unit = _filed(api, unit)
    _, at_county = _filed(api, unit)
    _, climbed = _filed(api, unit)
    _, returned = _filed(api, unit)
    _filed(api, unit, submit=False)  # a draft
    # 12:00 the unit approves three of them (2 hours each at the unit).
    _at(clock, api, _cn(26, hour=12))
    for app_id in (at_county, climbed, returned):
        flows.unit_approves(api, unit, app_id)
    # Mon 30 Nov 12:00 the county department approves and recommends one (96 h; working days
    # after the arrival day: Fri 27, Mon 30 = 2) ...
    _at(clock, api, _cn(30, hour=12))
    flows.level(api, "yz-water", climbed)
    # ... and Tue 1 Dec 12:00 returns another (120 h; Fri, Mon, Tue = 3 working days).
    _at(clock, api, _cn(1, month=12, hour=12))
    flows.level(api, "yz-water", returned, decision="return")
    # Today: Mon 7 Dec. Waiting since Thu 26 Nov: Fri 27, 30 Nov–4 Dec, Mon 7 = 7 working days
    # (over 5: overdue); since Mon 30 Nov: 1–4 Dec and 7 Dec = 5 (not over 5).
    _at(clock, api, _cn(7, month=12))

    r = api.get("/dashboard", "admin")
    assert r.status == 200, r
    d = r.json
    listed = api.get("/applications?limit=500", "admin").json["items"]
    assert d["total"] == len(listed) == 5
    assert _by(d["by_stage"], "status") == Counter(a["status"] for a in listed)
    assert _by(d["by_stage"], "status") == {
        "draft": 1,
        "unit_review": 1,
        "in_review": 2,
        "returned": 1,
    }
    # Levels from the bottom of the chain up; each holds the applications waiting there.
    assert [(r["level"], r["count"]) for r in d["by_level"]] == [
        ("unit", 1),
        ("yz-water", 1),
        ("yz-hrss", 1),
    ]
    overdue = d["overdue"]
    assert d["overdue_after_workdays"] == 5
    assert overdue["total"] == 2
    assert _by(overdue["by_level"], "level") == {"unit": 1, "yz-water": 1}
    assert {(t["application_id"], t["task"], t["waited_workdays"]) for t in overdue["tasks"]} == {
        (at_unit, "unit_review", 7),
        (at_county, "level_review", 7),
    }
    # Decisions per ISO week: 26 Nov is in 2026-W48, 30 Nov and 1 Dec in W49.
    assert d["weeks"][-3:] == ["2026-W48", "2026-W49", "2026-W50"] and len(d["weeks"]) == 12
    weekly = {
        (lv["level"], w["week"]): (w["approve"], w["return"], w["reject"], w["total"])
        for lv in d["throughput"]
        for w in lv["weeks"]
        if w["total"]
    }
    assert weekly == {("unit", "2026-W48"): (3, 0, 0, 3), ("yz-water", "2026-W49"): (1, 1, 0, 2)}
    medians = {m["level"]: m for m in d["median"]}
    assert (medians["unit"]["decisions"], medians["unit"]["median_hours"]) == (3, 2.0)
    assert medians["unit"]["median_workdays"] == 0
    assert medians["yz-water"]["decisions"] == 2
    assert medians["yz-water"]["median_hours"] == (96 + 120) / 2
    assert medians["yz-water"]["median_workdays"] == (2 + 3) / 2
    assert d["notes"] == []


def _two_chains(api: Api) -> tuple[str, str]:
    """One application climbing from 鄞州 (yz-water) and one from 北仑 (bl-water)."""
    ids = []
    for dept in ("yz-water", "bl-water"):
        unit = flows.register_unit(api, dept)
        _, app_id = _filed(api, unit)
        flows.unit_approves(api, unit, app_id)
        ids.append(app_id)
    return ids[0], ids[1]


@pytest.mark.parametrize(
    ("username", "total"),
    [("admin", 2), ("platform_1", 2), ("nb_office_1", 2), ("nb_hrss_1", 2), ("yz_hrss_1", 1)],
)
def test_each_role_sees_its_own_scope(api, username, total):
    _two_chains(api)
    r = api.get("/dashboard", username)
    assert r.status == 200, r
    assert r.json["total"] == total
    if username == "yz_hrss_1":
        # its chain only: the 北仑 application never passes 鄞州区人力社保局
        assert r.json["scope"] == "chain"
        assert [x["level"] for x in r.json["by_level"]] == ["yz-water"]
    if username == "nb_office_1":
        assert r.json["scope"] == "committees"


@pytest.mark.parametrize("username", ["yz_water_1", "designer_1"])
def test_other_roles_get_403_on_api_and_page(app, api, username):
    r = api.get("/dashboard", username)
    assert r.status == 403
    assert r.json["error"]["code"] == "forbidden"
    client = signed_in(app, username)
    assert client.get("/dashboard").status_code == 403
    assert client.get("/dashboard/export.csv").status_code == 403
    assert "统计看板" not in text(client.get("/tasks"))


def test_applicants_and_units_get_403_and_strangers_401(app, api):
    unit = flows.register_unit(api)
    person = flows.register_applicant(api, unit)
    assert api.get("/dashboard", person["username"]).status == 403
    assert api.get("/dashboard", unit["username"]).status == 403
    assert api.get("/dashboard").status == 401
    assert app.test_client().get("/dashboard").status_code == 302  # to the login page


def test_filters_narrow_by_committee_year_and_org_within_the_scope(api):
    yz_app, bl_app = _two_chains(api)

    def total(user: str, query: str) -> int:
        r = api.get(f"/dashboard?{query}", user)
        assert r.status == 200, r
        return r.json["total"]

    assert total("admin", "committee=nb-water-mid") == 2
    assert total("admin", "year=2026") == 2
    assert total("admin", "year=2025") == 0
    assert total("admin", "org=bl-water") == 1
    assert total("admin", "org=nb-water") == 2
    unit_of_yz = api.get(f"/applications/{yz_app}", "admin").json["unit"]["id"]
    assert total("admin", f"org={unit_of_yz}") == 1
    # a filter never widens the scope: 鄞州 HRSS asking for 北仑 sees nothing
    assert total("yz_hrss_1", "org=bl-water") == 0
    r = api.get("/dashboard?committee=nb-water-mid&year=2026&org=bl-water", "admin")
    assert r.json["filters"] == {
        "committee": "nb-water-mid",
        "year": 2026,
        "org": "bl-water",
        "cycle": None,
    }
    assert r.json["by_stage"] == [{"status": "in_review", "count": 1}]
    assert bl_app != yz_app


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("committee=no-such-committee", "committee"),
        ("year=abc", "year"),
        ("year=1999", "year"),
        ("year=%EF%BC%92%EF%BC%90%EF%BC%92%EF%BC%96", "year"),  # full-width digits
        ("org=no-such-org", "org"),
        ("cycle=999999", "cycle"),
        ("cycle=abc", "cycle"),
    ],
)
def test_unknown_filter_values_answer_422_naming_the_field(app, api, query, field):
    r = api.get(f"/dashboard?{query}", "admin")
    assert r.status == 422, r
    assert r.json["error"]["code"] == "invalid_data"
    assert field in r.json["error"]["fields"]
    client = signed_in(app, "admin")
    page = client.get(f"/dashboard?{query}")
    assert page.status_code == 422
    assert field_error(text(page), field)
    assert client.get(f"/dashboard/export.csv?{query}").status_code == 422


def test_exports_are_audited_with_their_filters(app, api):
    _two_chains(api)
    assert api.get("/dashboard?year=2026", "nb_office_1").status == 200
    client = signed_in(app, "admin")
    r = client.get("/dashboard/export.csv?org=bl-water")
    assert r.status_code == 200
    client.get("/dashboard")  # looking at the page is not an export
    with app.app_context():
        events = db.session.scalars(
            db.select(AuditEvent)
            .where(AuditEvent.action == "dashboard_export")
            .order_by(AuditEvent.id)
        ).all()
        got = [
            (e.actor_name, e.detail["format"], e.detail["year"], e.detail["org"]) for e in events
        ]
    assert got == [("孙八", "json", 2026, None), ("平台管理员", "csv", None, "bl-water")]


def test_csv_opens_in_excel_with_the_dashboards_numbers(app, api):
    yz_app, _ = _two_chains(api)
    flows.level(api, "yz-water", yz_app)
    numbers = api.get("/dashboard", "admin").json
    r = signed_in(app, "admin").get("/dashboard/export.csv")
    assert r.mimetype == "text/csv"
    assert "attachment" in r.headers["Content-Disposition"]
    assert r.data.startswith(b"\xef\xbb\xbf")  # BOM: Excel reads UTF-8
    rows = list(csv.reader(io.StringIO(r.data.decode("utf-8-sig"))))
    assert rows[0] == ["统计项", "分组", "周", "指标", "数值"]
    assert ["申报总数", "", "", "申报数", "2"] in rows
    assert ["按状态", "逐级审查中", "", "申报数", "2"] in rows
    per_level = {(r[1], r[4]) for r in rows if r[0] == "按审查层级"}
    assert per_level == {(lv["name"], str(lv["count"])) for lv in numbers["by_level"]}
    week = numbers["weeks"][-1]
    assert ["每周审查量", "鄞州区农业农村局(水利)", week, "审查通过", "1"] in rows
    assert ["每周审查量", "用人单位", week, "审查通过", "2"] in rows


def test_page_draws_accessible_charts_with_their_numbers(app, api):
    _two_chains(api)
    html = text(signed_in(app, "nb_office_1").get("/dashboard"))
    assert 'href="/dashboard"' in html  # in the office's menu
    assert "<script" not in html.split("<main>")[1]  # the charts need no script
    for chart in ("chart-stage", "chart-level", "chart-overdue", "chart-weekly", "chart-median"):
        if chart == "chart-overdue":
            continue  # drawn only when something is overdue
        assert f'<svg id="{chart}" class="chart" role="img"' in html
        assert f'<title id="{chart}-title">' in html
    # each bar carries its number as text, and the desc lists them
    assert 'data-label="逐级审查中" data-value="2"' in html
    assert "逐级审查中：2 件" in html
    assert "本办公室所属评委会的申报 · 共 2 件" in html


def test_overdue_needs_the_years_calendar_and_says_so(app, api, clock):
    unit = flows.register_unit(api)
    _filed(api, unit)
    # 2027's holidays are not entered: waiting cannot be counted in working days.
    _at(clock, api, datetime(2027, 1, 5, 2, 0, tzinfo=UTC))
    d = api.get("/dashboard", "admin").json
    assert d["overdue"] == {"total": None, "by_level": [], "tasks": []}
    assert d["by_level"] == [{"level": "unit", "name": "用人单位", "count": 1}]
    assert any("2027 年的节假日安排尚未录入" in note for note in d["notes"])
    html = text(signed_in(app, "admin").get("/dashboard"))
    assert "2027 年的节假日安排尚未录入" in html and "暂无法统计" in html
