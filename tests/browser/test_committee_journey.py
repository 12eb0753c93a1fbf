"""The committee's review in headless Chromium: the office forms a session and records
attendance, an expert votes on the task page, the office reads the tally; screenshots go to
/tmp/zp-shots/committee-*.png."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.conftest import Live, shot
from tests.browser.test_journeys import open_task, sign_in
from tests.committee_flows import load_experts, to_expert_review

pytestmark = pytest.mark.browser


def test_office_forms_a_session_and_an_expert_votes(live: Live, new_page: Any) -> None:
    unit, _person, app_id = to_expert_review(live.api)
    load_experts(live.app, 5, conflicts={5: {"unit_credit_code": unit["credit_code"]}})
    office = new_page()
    sign_in(office, "nb_office_1")
    office.goto("/cycles")
    office.locator("a[id^=sessions-]").first.click()
    shot(office, "committee-cycle")
    office.check("input[name=how][value=pick]")
    office.fill("#experts", "exp_1, exp_2, exp_3, exp_4, exp_5")
    office.fill("#date", "2026-12-10")
    office.click("#form-session button[type=submit]")
    office.wait_for_load_state()
    assert "同属一个单位" in office.inner_text("body")
    shot(office, "committee-session-formed")
    office.click("#attendance button[type=submit]")
    office.wait_for_load_state()
    assert "已投 0 / 4 票" in office.inner_text("#progress")
    shot(office, "committee-voting")

    for n in range(1, 5):
        expert = new_page()
        sign_in(expert, f"exp_{n}")
        open_task(expert, "专家评审投票", app_id)
        if n == 1:
            shot(expert, "committee-ballot")
        expert.check(
            "input[name=vote][value=agree]" if n < 4 else "input[name=vote][value=abstain]"
        )
        expert.click("form.task-form button[type=submit]")
        expert.wait_for_load_state()

    office.reload()
    body = office.inner_text("body")
    assert "已计票" in body and "通过" in body
    shot(office, "committee-tallied")
