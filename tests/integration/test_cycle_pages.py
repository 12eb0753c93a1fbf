"""The pages of annual cycles (申报年度): the office's page (list with counts, open, close with
confirmation), the filing window on the applicant's new-application page and the cycle on the
application page."""

from __future__ import annotations

from tests import flows
from tests.flows import OFFICE, open_cycle_of
from tests.page_helpers import field_error, signed_in, text

FILING = {"series": "工程", "level": "中级", "specialty": "水利工程"}


def test_office_page_lists_cycles_with_counts_and_opens_one(app, api):
    flows.file_application(api, flows.register_applicant(api, flows.register_unit(api)))
    office = signed_in(app, OFFICE)
    page = text(office.get("/messages"))
    assert 'href="/cycles"' in page and "申报年度" in page  # the office's menu entry
    html = text(office.get("/cycles"))
    seed = open_cycle_of(api)
    assert f'id="cycle-{seed["cycle_id"]}"' in html
    assert "2026-01-01 至 2027-12-31" in html and "受理中" in html
    row = html.split(f'id="cycle-{seed["cycle_id"]}"')[1].split("</tr>")[0]
    assert "1 项" in row and "不限" in row and "第 1 版" in row

    form = {"committee_id": flows.COMMITTEE, "year": "2028", "opens_on": "2028-03-01"}
    form |= {"closes_on": "2028-04-30", "quota": "80", "version": ""}
    r = office.post("/cycles", data=form)
    assert r.status_code == 302
    html = text(office.get("/cycles"))
    assert "2028 年度申报已开放" in html and "2028-03-01 至 2028-04-30" in html
    assert "80 名" in html and "未开始" in html


def test_office_page_shows_field_errors_and_overlaps_in_chinese(app, api):
    office = signed_in(app, OFFICE)
    form = {"committee_id": flows.COMMITTEE, "year": "二〇二八", "opens_on": "2028-04-30"}
    form |= {"closes_on": "2028-03-01", "quota": "0", "version": ""}
    r = office.post("/cycles", data=form)
    html = text(r)
    assert r.status_code == 422
    assert "整数年份" in field_error(html, "year")
    assert "不能早于" in field_error(html, "closes_on")
    assert "名额" in field_error(html, "quota")
    assert 'value="2028-04-30"' in html  # what was typed stays in the form
    overlap = form | {"year": "2027", "opens_on": "2027-03-01", "closes_on": "2027-04-30"}
    r = office.post("/cycles", data=overlap | {"quota": ""})
    assert r.status_code == 409 and "重叠" in text(r)
    assert api.get(f"/committees/{flows.COMMITTEE}/cycles", OFFICE).json["total"] == 1


def test_closing_asks_for_confirmation_then_closes(app, api):
    seed = open_cycle_of(api)
    office = signed_in(app, OFFICE)
    html = text(office.get(f"/cycles/{seed['cycle_id']}/close"))
    assert "确定关闭" in html and 'id="confirm-close-button"' in html
    assert api.get(f"/cycles/{seed['cycle_id']}", OFFICE).json["status"] == "open"  # not yet
    r = office.post(f"/cycles/{seed['cycle_id']}/close", data={"reason": "受理结束"})
    assert r.status_code == 302
    html = text(office.get("/cycles"))
    assert "已关闭" in html and "受理结束" in html
    assert f'id="close-{seed["cycle_id"]}"' not in html
    r = office.post(f"/cycles/{seed['cycle_id']}/close", data={})
    assert r.status_code == 302 and "已关闭" in text(office.get("/cycles"))


def test_cycle_pages_are_for_the_office_and_operators_only(app, api):
    person = flows.register_applicant(api, flows.register_unit(api))
    seed = open_cycle_of(api)
    for user in (person["username"], "yz_water_1", "nb_hrss_1", "designer_1"):
        client = signed_in(app, user)
        assert client.get("/cycles").status_code == 403, user
        assert client.post(f"/cycles/{seed['cycle_id']}/close", data={}).status_code == 403
        assert 'href="/cycles"' not in text(client.get("/messages"))
    assert app.test_client().get("/cycles").status_code == 302  # to the sign-in page
    assert signed_in(app, "admin").get("/cycles").status_code == 200
    assert api.get(f"/cycles/{seed['cycle_id']}", OFFICE).json["status"] == "open"


def test_applicant_sees_the_open_window_or_the_refusal(app, api):
    person = flows.register_applicant(api, flows.register_unit(api))
    applicant = signed_in(app, person["username"])
    html = text(applicant.get("/applications"))
    assert "2026 年度" in html and "申报时间 2026-01-01 至 2027-12-31" in html
    assert "正在受理" in html

    seed = open_cycle_of(api)
    api.post(f"/cycles/{seed['cycle_id']}/close", OFFICE, json={})
    html = text(applicant.get("/applications"))
    assert "本年度申报已关闭" in html and 'class="window-closed' in html
    r = applicant.post("/applications", data=FILING)
    assert r.status_code == 409
    assert 'id="create-error"' in text(r) and "已关闭" in text(r)


def test_application_page_shows_its_cycle(app, api):
    person = flows.register_applicant(api, flows.register_unit(api))
    app_id = flows.file_application(api, person)
    html = text(signed_in(app, person["username"]).get(f"/applications/{app_id}"))
    assert 'id="app-cycle"' in html
    assert "2026 年度（申报时间 2026-01-01 至 2027-12-31）" in html
