"""A designer edits processes in the browser modeler (vendored bpmn-js) and deploys them."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import DESIGNER_TERMS, Live, shot
from tests.browser.test_journeys import sign_in

pytestmark = pytest.mark.browser


def _current(live: Live, process_id: str) -> int:
    rows = live.api.get("/specs", "designer_1").json["items"]
    return next(r["version"] for r in rows if r["process_id"] == process_id and r["current"])


def _designer(new_page: Any) -> Any:
    page = new_page()
    sign_in(page, "designer_1")
    return page


def _open(page: Any, process_id: str, version: int) -> None:
    page.goto(f"/admin/processes/{process_id}/{version}/modeler")
    page.wait_for_selector(".modeler[data-ready=true]")


def _select(page: Any, element_id: str) -> None:
    page.click(
        f'.djs-element.djs-shape[data-element-id="{element_id}"]', position={"x": 20, "y": 20}
    )
    page.wait_for_selector(f'#modeler-panel[data-element="{element_id}"]')


def test_designer_renames_a_task_validates_deploys_and_sees_the_new_version(
    live: Live, new_page: Any
) -> None:
    before = _current(live, "dossier_review")
    page = _designer(new_page)
    page.click("#nav >> text=流程定义")
    page.locator("#process-dossier_review").get_by_role("link", name="编辑").first.click()
    page.wait_for_selector(".modeler[data-ready=true]")
    assert "已打开" in page.inner_text("#modeler-status")
    shot(page, "modeler-01-opened", DESIGNER_TERMS)

    _select(page, "review_dossier")
    assert page.input_value("#prop-formJsonSchemaFilename") == "review_dossier.schema.json"
    assert page.input_value("#prop-orgVariable") == "unit_org_id"
    page.fill("#prop-name", "复核业绩档案")
    page.press("#prop-name", "Tab")
    assert "有未发布的修改" in page.inner_text("#modeler-status")
    shot(page, "modeler-02-renamed", DESIGNER_TERMS)

    page.click("#modeler-validate")
    page.wait_for_selector("#modeler-status.ok")
    assert "校验通过" in page.inner_text("#modeler-status")
    assert page.locator("#modeler-problems").is_hidden()

    page.click("#modeler-deploy")
    page.wait_for_selector("#modeler-deployed")
    new_version = int(page.get_attribute("#modeler-deployed", "data-version") or 0)
    assert new_version == before + 1
    assert f"已发布第 {new_version} 版" in page.inner_text("#modeler-status")
    shot(page, "modeler-03-deployed", DESIGNER_TERMS)
    page.click("#modeler-deploy")  # nothing changed since: no further version
    page.locator("#modeler-deployed", has_text="内容未变化").wait_for()
    assert _current(live, "dossier_review") == new_version

    page.click("#modeler-versions-link")
    row = page.locator(f"#dossier_review-v{new_version}")
    assert "当前版本" in row.inner_text()
    row.get_by_role("link", name="流程图").click()
    assert "复核业绩档案" in page.inner_text("#diagram")
    shot(page, "modeler-04-new-version-diagram", DESIGNER_TERMS)
    source = live.api.get(f"/specs/dossier_review/{new_version}/files", "designer_1").json
    assert "review_dossier.schema.json" in source["files"]
    assert 'name="复核业绩档案"' in source["files"]["dossier_review.bpmn"]


def test_a_problem_is_marked_on_its_element_and_nothing_is_deployed(
    live: Live, new_page: Any
) -> None:
    version = _current(live, "title_application")
    page = _designer(new_page)
    _open(page, "title_application", version)
    page.fill("#modeler-find", "单位资格审查与公示")
    page.press("#modeler-find", "Enter")
    page.wait_for_selector('#modeler-panel[data-element="unit_review"]')
    page.fill("#prop-orgVariable", "")
    page.press("#prop-orgVariable", "Tab")

    page.click("#modeler-validate")
    page.wait_for_selector("#modeler-status.error")
    marked = page.locator('.djs-element.has-problem[data-element-id="unit_review"]')
    expect(marked).to_have_count(1)
    badge = page.locator('.problem-badge[data-element="unit_review"]')
    assert "orgVariable" in (badge.get_attribute("title") or "")
    row = page.locator('#modeler-problem-rows tr[data-element="unit_review"]')
    assert "title_application.bpmn:" in row.inner_text()
    assert "orgVariable" in row.inner_text()
    shot(page, "modeler-05-problem-marked", DESIGNER_TERMS)

    page.click("#modeler-deploy")
    page.wait_for_selector("#modeler-status.error")
    assert "未发布" in page.inner_text("#modeler-status")
    assert _current(live, "title_application") == version


def test_a_new_diagram_opens_from_the_starting_diagram_and_validates(
    live: Live, new_page: Any
) -> None:
    page = _designer(new_page)
    page.goto("/admin/processes")
    page.click("#modeler-link")
    page.wait_for_selector(".modeler[data-ready=true]")
    assert page.input_value("#prop-process-id") == "new_process"
    page.fill("#prop-process-id", "leave_request")
    page.press("#prop-process-id", "Tab")
    page.click("#modeler-validate")
    page.wait_for_selector("#modeler-status.ok")
    shot(page, "modeler-06-new-diagram", DESIGNER_TERMS)
