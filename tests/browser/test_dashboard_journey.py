"""The dashboard in headless Chromium: the platform admin and a committee office open it from
the menu, filter it and download its CSV. Screenshots go to /tmp/zp-shots/dashboard-*.png."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests import flows
from tests.browser.conftest import Live, shot
from tests.browser.test_journeys import sign_in

pytestmark = pytest.mark.browser


def _applications(live: Live) -> None:
    """Two applications from 鄞州 at the county level (one approved there) and one from 北仑."""
    api = live.api
    for dept, climbs in (("yz-water", True), ("yz-water", False), ("bl-water", False)):
        unit = flows.register_unit(api, dept)
        person = flows.register_applicant(api, unit)
        app_id = flows.file_application(api, person)
        flows.submit(api, person, app_id)
        flows.unit_approves(api, unit, app_id)
        if climbs:
            flows.level(api, "yz-water", app_id)


def test_admin_and_office_read_the_dashboard_and_download_its_csv(
    live: Live, new_page: Any, tmp_path: Path
) -> None:
    _applications(live)
    # Two weeks later (Thu 10 Dec): every waiting task has waited 10 working days, over 5.
    live.app.config["CLOCK"].advance(days=14)
    live.api.tokens.clear()
    page = new_page()
    sign_in(page, "admin")
    page.click("#nav >> text=统计看板")
    assert page.locator("h1").inner_text().startswith("统计看板")
    assert "全部申报 · 共 3 件" in page.inner_text("h1")
    stage = page.locator("#chart-stage")
    assert stage.get_attribute("role") == "img"
    assert "逐级审查中：3 件" in stage.locator("desc").text_content()
    assert page.locator('#by-level tr[data-level="yz-water"] td').nth(1).inner_text() == "1"
    assert page.locator('#by-level tr[data-level="bl-water"] td').nth(1).inner_text() == "1"
    expect(page.locator('#chart-weekly g.week[data-value="1"]')).to_have_count(1)
    expect(page.locator("#overdue-tasks tbody tr")).to_have_count(3)
    assert "等待超过 5 个工作日（到达当天不计）：3 件" in page.inner_text("#overdue h2")
    shot(page, "dashboard-01-admin")

    page.select_option("#f-org", label="北仑区水利局")
    page.click("#dashboard-filter button[type=submit]")
    assert "共 1 件" in page.inner_text("h1")
    shot(page, "dashboard-02-admin-filtered")
    with page.expect_download() as info:
        page.click("#csv-link")
    download = info.value
    assert download.suggested_filename.endswith(".csv")
    saved = tmp_path / "admin.csv"
    download.save_as(saved)
    rows = saved.read_bytes()
    assert rows.startswith(b"\xef\xbb\xbf")
    assert "筛选条件,机构,,,北仑区水利局" in rows.decode("utf-8-sig")

    office = new_page()
    sign_in(office, "nb_office_1")
    office.click("#nav >> text=统计看板")
    assert "本办公室所属评委会的申报 · 共 3 件" in office.inner_text("h1")
    options = office.locator("#f-committee option").all_inner_texts()
    assert options == ["全部", "宁波市水利工程技术人员中级专业技术职务任职资格评审委员会"]
    shot(office, "dashboard-03-office")
    with office.expect_download() as info:
        office.click("#csv-link")
    saved = tmp_path / "office.csv"
    info.value.save_as(saved)
    assert "按状态,逐级审查中,,申报数,3" in saved.read_text(encoding="utf-8-sig")
