"""职称证书 in headless Chromium: the holder sees the certificate, the issuing HRSS revokes it on
the application page, a stranger scans the QR code and checks it by name. Screenshots go to
/tmp/zp-shots/certificates-*.png."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from tests import flows
from tests.browser.conftest import Live, assert_chinese
from tests.browser.conftest import shot as full_shot
from tests.browser.test_ops_journey import sign_in

pytestmark = pytest.mark.browser


def shot(page: Any, name: str) -> None:
    full_shot(page, f"certificates-{name}")


def test_certificate_is_shown_revoked_and_checked_by_name(live: Live, new_page: Any) -> None:
    unit, person, app_id = flows.application_at_unit_review(live.api)
    assert flows.unit_approves(live.api, unit, app_id).status == 200
    number = live.app.extensions["certificates"].issue_now(app_id)["number"]

    holder = new_page()
    sign_in(holder, person["username"])
    holder.goto(f"/applications/{app_id}")
    assert holder.locator("#certificate-number").inner_text() == number
    expect(holder.locator("#revoke-certificate")).to_have_count(0)
    assert_chinese(holder)
    shot(holder, "01-holder")

    hrss = new_page()
    sign_in(hrss, "nb_hrss_1")
    hrss.goto(f"/applications/{app_id}")
    hrss.fill("#revoke-reason", "经查，申报材料中的业绩证明系伪造")
    hrss.click("#revoke-button")
    hrss.wait_for_load_state()
    assert hrss.locator("#certificate-state").inner_text() == "已撤销"
    shot(hrss, "02-revoked")

    stranger = new_page()
    stranger.goto(f"/certificates/{number}")  # where the QR code leads
    assert stranger.locator("#certificate-number").input_value() == number
    stranger.fill("#holder-name", "李四")
    stranger.click("#lookup-button")
    stranger.wait_for_load_state()
    assert "李四" not in stranger.url
    assert "已撤销" in stranger.locator("#verdict").inner_text()
    assert "李*" in stranger.locator("#certificate-facts").inner_text()
    assert_chinese(stranger)
    shot(stranger, "03-lookup-revoked")
