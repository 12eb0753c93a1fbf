"""Administrators enter a new year's holidays (CLI and page); until then its dates are refused."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import time_machine
from click.testing import CliRunner, Result

from tests.flows import file_application, register_applicant, register_unit, submit, unit_approves
from tests.helpers import PASSWORDS
from web.cli_calendar import calendar_group

YEAR_2027 = [
    *("--holiday", "2027-01-01"),
    *("--holiday", "2027-02-08", "--holiday", "2027-02-09", "--holiday", "2027-02-10"),
    *("--workday", "2027-02-06"),
    *("--note", "国办发明电〔2026〕X号"),
]


@pytest.fixture
def cli(app, database_url: str):  # app: every table emptied first
    def run(*args: str) -> Result:
        return CliRunner().invoke(
            calendar_group, list(args), env={"ZHIPING_DATABASE_URL": database_url}
        )

    return run


def _unit_review_ready(api):
    unit = register_unit(api)
    person = register_applicant(api, unit)
    app_id = file_application(api, person)
    submit(api, person, app_id)
    return unit, app_id


def test_a_2027_window_is_accepted_once_the_year_is_entered(api, cli, clock):
    unit, app_id = _unit_review_ready(api)
    r = unit_approves(api, unit, app_id, publicity_start="2026-12-28", publicity_end="2027-01-04")
    assert r.status == 422 and "2027" in r.json["error"]["fields"]["publicity_end"]

    first = cli("add-year", "2027", *YEAR_2027)
    assert first.exit_code == 0, first.output
    assert "2027: known; 5 added, 0 changed, 0 unchanged" in first.output
    again = cli("add-year", "2027", *YEAR_2027)
    assert "0 added, 0 changed, 5 unchanged" in again.output

    # 2027-01-01 is a holiday: four working days up to it, the fifth is Monday 01-04.
    r = unit_approves(api, unit, app_id, publicity_start="2026-12-28", publicity_end="2027-01-01")
    assert r.status == 422 and "2027-01-04" in r.json["error"]["fields"]["publicity_end"]
    with time_machine.travel(clock.now, tick=False):
        r = unit_approves(
            api, unit, app_id, publicity_start="2026-12-28", publicity_end="2027-01-04"
        )
    assert r.status == 200, r
    (timer,) = api.get("/ops/timers", "admin").json["items"]
    assert datetime.fromisoformat(timer["due_at"]) == datetime(2027, 1, 4, 16, 0, tzinfo=UTC)


def test_show_lists_library_years_and_refuses_unknown_ones(cli):
    unknown = cli("show", "2027")
    assert unknown.exit_code == 1 and "2027: not known" in unknown.output
    assert "calendar add-year 2027" in unknown.output
    known = cli("show", "2026")
    assert known.exit_code == 0 and "2026: known (library)" in known.output
    assert "2026-10-01  holiday  国庆节" in known.output
    assert "2026-10-10  workday  国庆节" in known.output
    cli("add-year", "2027", *YEAR_2027)
    entered = cli("show", "2027")
    assert entered.exit_code == 0 and "2027: known (entered by cli" in entered.output
    assert "2027-02-08  holiday  国办发明电" in entered.output
    assert "2027-02-06  workday" in entered.output
    assert "override 2027-01-01  holiday" in entered.output


def test_set_and_unset_single_days(cli, api):
    refused = cli("set", "2028-01-03", "holiday")
    assert refused.exit_code == 1
    assert "2028" in refused.output and "calendar add-year 2028" in refused.output
    done = cli("set", "2026-12-31", "holiday", "--note", "地方调整")
    assert done.exit_code == 0 and "2026-12-31: holiday (added)" in done.output
    assert "2026-12-31: holiday (unchanged)" in cli("set", "2026-12-31", "holiday").output
    shown = cli("show", "2026").output
    assert "2026-12-31  holiday  地方调整" in shown and "override 2026-12-31" in shown
    # The override counts: 12-28..12-31 now holds only three working days.
    unit, app_id = _unit_review_ready(api)
    r = unit_approves(api, unit, app_id, publicity_start="2026-12-25", publicity_end="2026-12-31")
    assert r.status == 422 and "2027" in r.json["error"]["fields"]["publicity_end"]
    assert "override removed" in cli("unset", "2026-12-31").output
    assert "no override" in cli("unset", "2026-12-31").output


def test_bad_calendar_input_is_refused_with_reasons(cli):
    bad_date = cli("add-year", "2027", "--holiday", "2027-13-01")
    assert bad_date.exit_code == 2 and "2027-13-01" in bad_date.output
    other_year = cli("add-year", "2027", "--holiday", "2028-01-01")
    assert other_year.exit_code == 1 and "不在 2027 年内：2028-01-01" in other_year.output
    both = cli("add-year", "2027", "--holiday", "2027-02-06", "--workday", "2027-02-06")
    assert both.exit_code == 1 and "2027-02-06" in both.output
    assert cli("show", "1800").exit_code == 1
    assert "2027: not known" in cli("show", "2027").output


def _page_client(app, username: str):
    client = app.test_client()
    r = client.post("/login", data={"username": username, "password": PASSWORDS[username]})
    assert r.status_code == 302, r.data
    return client


def test_calendar_page_is_for_administrators(app):
    assert app.test_client().get("/admin/calendar").status_code == 302  # to the login page
    assert _page_client(app, "yz_water_1").get("/admin/calendar").status_code == 403
    admin = _page_client(app, "admin")
    page = admin.get("/admin/calendar?year=2027").get_data(as_text=True)
    assert "2027 年的节假日安排尚未录入" in page
    r = admin.post(
        "/admin/calendar/years",
        data={
            "year": "2027",
            "holidays": "2027-01-01，2027-02-08\n2027-02-09",
            "workdays": "2027-02-06",
        },
    )
    assert r.status_code == 302
    page = admin.get("/admin/calendar?year=2027").get_data(as_text=True)
    assert "已由 admin" in page and "2027-02-09" in page and "2027-02-06" in page
    r = admin.post("/admin/calendar/days", data={"day": "2027-05-03", "kind": "holiday"})
    assert r.status_code == 302
    page = admin.get("/admin/calendar?year=2027", follow_redirects=True).get_data(as_text=True)
    assert "2027-05-03" in page
    r = admin.post("/admin/calendar/days/2027-05-03/delete", follow_redirects=True)
    assert "已删除 2027-05-03" in r.get_data(as_text=True)
    bad = admin.post(
        "/admin/calendar/years",
        data={"year": "2027", "holidays": "2027-02-30"},
        follow_redirects=True,
    )
    assert "日期不存在" in bad.get_data(as_text=True)
    unknown = admin.post(
        "/admin/calendar/days", data={"day": "2029-01-02", "kind": "workday"}, follow_redirects=True
    )
    assert "2029" in unknown.get_data(as_text=True)
