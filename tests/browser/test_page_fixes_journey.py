"""Issue 12's visual fixes in headless Chromium: diagrams open at the page's width, the
calendar's 删除 button can be seen, the verify page reads as a verdict. Screenshots go to
/tmp/zp-shots/fixes-*.png."""

from __future__ import annotations

from typing import Any

import pytest

from tests import flows
from tests.browser.conftest import Live
from tests.browser.conftest import shot as full_shot
from tests.browser.test_ops_journey import sign_in

pytestmark = pytest.mark.browser


def shot(page: Any, name: str) -> None:
    full_shot(page, f"fixes-{name}")


def test_instance_diagram_opens_at_the_page_width(live: Live, new_page: Any) -> None:
    _unit, person, app_id = flows.application_at_unit_review(live.api)
    inst = live.api.get(f"/applications/{app_id}", person["username"]).json["instance_id"]
    page = new_page()
    sign_in(page, "admin")
    page.goto(f"/admin/instances/{inst}")
    box = page.locator("#diagram").bounding_box()
    svg = page.locator("#diagram svg").bounding_box()
    assert svg["width"] <= box["width"] + 1, (svg, box)  # whole, not clipped to a fifth
    assert svg["width"] >= box["width"] * 0.9
    shot(page, "01-diagram-fitted")
    page.uncheck("#fit-diagram")
    assert page.locator("#diagram svg").bounding_box()["width"] > box["width"]
    shot(page, "02-diagram-full-size")


def test_calendar_delete_button_is_visible(live: Live, new_page: Any) -> None:
    page = new_page()
    sign_in(page, "admin")
    page.goto("/admin/calendar?year=2026")
    page.fill("#set-day input[name=day]", "2026-12-31")
    page.fill("#set-day input[name=note]", "测试调整")
    page.click("#set-day button[type=submit]")
    button = page.locator("#unset-2026-12-31")
    colours = button.evaluate(
        "b => [getComputedStyle(b).color, getComputedStyle(b).backgroundColor]"
    )
    assert colours[0] != colours[1] and colours[1] not in ("rgba(0, 0, 0, 0)", "rgb(255, 255, 255)")
    shot(page, "03-calendar-override")
    page.fill("#set-day input[name=day]", "2026-11-28")  # a Saturday
    page.click("#set-day button[type=submit]")
    assert "本来就是休息日" in page.inner_text("#calendar-error")
    assert page.input_value("#set-day input[name=day]") == "2026-11-28"
    shot(page, "04-calendar-weekend-refused")
    button.click()
    assert "已删除 2026-12-31" in page.inner_text(".flash")


def test_verify_page_gives_a_clear_verdict(live: Live, new_page: Any) -> None:
    unit, person, app_id = flows.application_at_unit_review(live.api)
    flows.unit_approves(live.api, unit, app_id)
    for org in flows.CHAIN:
        flows.level(live.api, org, app_id)
    flows.pay(live.api, person, app_id)
    assert live.api.get(f"/applications/{app_id}/review-form.pdf", person["username"]).status == 200
    code = live.api.get(f"/applications/{app_id}", person["username"]).json["review_form"][
        "verification_code"
    ]
    page = new_page()  # nobody signed in: whoever scans the QR code
    page.goto(f"/verify/{code}")
    assert page.inner_text("#verdict").startswith("真")
    assert "李*" in page.inner_text("main")
    shot(page, "05-verify-genuine")
    page.goto("/verify/NOSUCHCODE00")
    assert page.inner_text("#verdict").startswith("无此记录")
    shot(page, "06-verify-unknown")
