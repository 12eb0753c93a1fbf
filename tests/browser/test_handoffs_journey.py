"""A reviewer hands a task to a colleague (转办), the colleague names a stand-in (委派) and
copies the application (抄送), in Chromium against a live server."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from tests import flows
from tests.browser.conftest import Live, shot
from tests.browser.test_journeys import sign_in

pytestmark = pytest.mark.browser


def test_transfer_stand_in_and_copy_in_the_browser(live: Live, new_page: Any) -> None:
    unit = flows.register_unit(live.api)
    person = flows.register_applicant(live.api, unit, name="周转")
    app_id = flows.file_application(live.api, person)
    flows.submit(live.api, person, app_id)
    flows.unit_approves(live.api, unit, app_id)
    task = live.api.only_task("yz_water_1", application=app_id, name="level_review")

    zhang3 = new_page()
    sign_in(zhang3, "yz_water_1")
    zhang3.goto(f"/tasks/{task['id']}")
    zhang3.select_option("#transfer-to", "yz_water_2")
    zhang3.fill("#transfer-reason", "本人出差一周，请张四审核")
    shot(zhang3, "h1-task-transfer-form")
    with zhang3.expect_navigation():
        zhang3.click("#transfer-button")
    expect(zhang3.locator("body")).to_contain_text("已转办给张四")
    zhang3.wait_for_load_state()
    assert task["id"] not in zhang3.content()

    zhang4 = new_page()
    sign_in(zhang4, "yz_water_2")
    zhang4.goto("/tasks")
    row = zhang4.locator("#worklist tr", has=zhang4.get_by_role("link", name=app_id))
    assert "已转办（张三转来）" in row.inner_text()
    shot(zhang4, "h2-worklist-transferred")

    zhang4.goto("/me/stand-in")
    zhang4.select_option("#stand-in-to", "yz_water_1")
    zhang4.fill("#stand-in-from", "2026-11-26")
    zhang4.fill("#stand-in-until", "2026-11-30")
    with zhang4.expect_navigation():
        zhang4.click("#stand-in-button")
    assert "生效中" in zhang4.inner_text("#current-stand-in")
    shot(zhang4, "h3-stand-in")

    zhang3.goto("/tasks")
    row = zhang3.locator("#worklist tr", has=zhang3.get_by_role("link", name=app_id))
    assert "代办（委派自 张四）" in row.inner_text()
    shot(zhang3, "h4-worklist-stand-in")

    zhang4.goto(f"/applications/{app_id}")
    zhang4.select_option("#cc-to", ["nb_water_1"])
    zhang4.fill("#cc-note", "请市局知悉")
    with zhang4.expect_navigation():
        zhang4.click("#cc-button")
    expect(zhang4.locator("body")).to_contain_text("已抄送 1 人")
    assert "转办给 张四" in zhang4.inner_text("#timeline")
    assert "抄送给 赵六" in zhang4.inner_text("#timeline")
    shot(zhang4, "h5-application-timeline")

    zhao6 = new_page()
    sign_in(zhao6, "nb_water_1")
    zhao6.goto("/cc")
    assert app_id in zhao6.inner_text("#copies") and "请市局知悉" in zhao6.inner_text("#copies")
    shot(zhao6, "h6-copied-to-me")
