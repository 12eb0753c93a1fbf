"""An operator and designer in headless Chromium: stuck list, repair, diagrams, migration dry run,
versions and the upload page. Screenshots go to /tmp/zp-shots-ops/."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests import flows
from tests.browser.conftest import Live
from tests.helpers import PASSWORDS
from tests.integration.test_ops_pages import _with_layout
from tests.samples import process

pytestmark = pytest.mark.browser
SHOTS = Path("/tmp/zp-shots-ops")


def shot(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def sign_in(page: Any, username: str) -> None:
    page.goto("/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORDS[username])
    page.click("button[type=submit]")
    page.wait_for_load_state()


def _deploy(live: Live, content: bytes) -> None:
    r = live.api.post(
        "/specs/deploy",
        "admin",
        data={"files": [(io.BytesIO(content), "sample.bpmn")]},
        content_type="multipart/form-data",
    )
    assert r.status in (200, 201), r


def _start(live: Live, data: dict[str, Any]) -> str:
    r = live.api.post("/specs/sample/instances", "admin", json={"data": data})
    assert r.status == 201, r
    return r.json["instance_id"]


def test_operator_repairs_a_stuck_instance_and_designer_validates(
    live: Live, new_page: Any
) -> None:
    _deploy(live, _with_layout(process(script="ratio = 10 / divisor")))
    unit = flows.register_unit(live.api)
    broken = _start(live, {"divisor": 0, "unit_org_id": unit["unit_id"]})
    waiting = [_start(live, {"divisor": 5, "unit_org_id": unit["unit_id"]}) for _ in range(2)]
    _deploy(live, _with_layout(process(script="ratio = 20 / divisor")))
    person = flows.register_applicant(live.api, unit)
    app_id = flows.file_application(live.api, person)
    flows.submit(live.api, person, app_id)
    title_inst = live.api.get(f"/applications/{app_id}", person["username"]).json["instance_id"]

    page = new_page()
    sign_in(page, "admin")
    page.click("#nav >> text=流程实例")
    page.check("input[name=stuck]")
    page.click("#ops-filter button")
    row = page.locator(f"#instance-{broken}")
    assert "ZeroDivisionError" in row.inner_text()
    shot(page, "01-stuck-list")

    row.get_by_role("link", name=f"#{broken}").click()
    assert "ZeroDivisionError" in page.inner_text("#problems")
    expect(page.locator('#diagram g[data-id="compute"][data-state="error"]')).to_have_count(1)
    shot(page, "02-stuck-instance")
    page.fill("#retry-reason", "除数配置错误")
    page.fill("#retry-data", '{"divisor": 2')
    page.click("#retry-form button[type=submit]")
    assert "JSON" in page.inner_text("#retry-data-error")
    shot(page, "03-retry-bad-json")
    page.fill("#retry-data", '{"divisor": 2}')
    page.click("#retry-form button[type=submit]")
    assert "已重试" in page.inner_text(".flash")
    page.click("#data summary")
    assert '"ratio": 5' in page.inner_text("#data pre")
    shot(page, "04-retried")

    page.goto(f"/admin/instances/{title_inst}")
    expect(page.locator('#diagram g[data-id="unit_review"][data-state="ready"]')).to_have_count(1)
    shot(page, "05-instance-diagram")
    page.check("#fit-diagram")
    shot(page, "06-instance-diagram-fitted")

    page.click("#nav >> text=流程实例")
    for inst in waiting:
        page.check(f"#instance-{inst} input[name=ids]")
    page.select_option("#bulk-action", "migrate")
    page.fill("#bulk-version", "2")
    page.fill("#bulk-reason", "脚本修正，批量升级")
    page.click("#bulk-dry-run")
    assert "这是试运行" in page.inner_text("#dry-run-note")
    shot(page, "07-migrate-dry-run")
    page.click("#confirm-migrate button[type=submit]")
    expect(page.locator("#bulk-results tr.ok")).to_have_count(2)
    shot(page, "08-migrated")

    page.click("#nav >> text=流程定义")
    shot(page, "09-versions")
    page.locator("#process-title_application").get_by_role("link", name="流程图").first.click()
    expect(page.locator("#diagram svg")).to_have_count(1)
    shot(page, "10-version-diagram")

    page.goto("/admin/processes/upload")
    bad = process(script="import os\nratio = 1")
    page.set_input_files(
        "#files", [{"name": "sample.bpmn", "mimeType": "application/xml", "buffer": bad}]
    )
    page.click("#validate")
    assert "不允许 import" in page.inner_text("#problems")
    shot(page, "11-upload-problems")
