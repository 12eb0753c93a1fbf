"""Journeys through the pages in headless Chromium; screenshots go to /tmp/zp-shots/."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from tests import flows
from tests.browser.conftest import Live, shot
from tests.helpers import PASSWORDS

pytestmark = pytest.mark.browser

PDF = {"name": "材料.pdf", "mimeType": "application/pdf", "buffer": flows.pdf_bytes()}


def field(page: Any, name: str) -> Any:
    """A form control by its name attribute (names hold [ ] and . )."""
    return page.locator(f'[name="{name}"]')


def sign_in(page: Any, username: str) -> None:
    page.goto("/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORDS[username])
    page.click("button[type=submit]")
    page.wait_for_load_state()


def open_task(page: Any, title: str, app_id: str | None = None) -> None:
    """Open the first worklist task with this title (of this application, if given)."""
    page.goto("/tasks")
    rows = page.locator("#worklist tr", has_text=title)
    if app_id is not None:
        rows = rows.filter(has=page.get_by_role("link", name=app_id, exact=True))
    rows.first.get_by_role("link", name="办理").click()


def open_from_menu(page: Any, menu: str, app_id: str | None = None) -> None:
    """Follow the guide: click the unit's menu (业绩档案审核, 职称申报资格审查), then 办理."""
    page.click(f"#nav >> text={menu}")
    assert page.inner_text("h1").startswith(menu)
    rows = page.locator("#worklist tbody tr")
    if app_id is not None:
        rows = rows.filter(has=page.get_by_role("link", name=app_id, exact=True))
    rows.first.get_by_role("link", name="办理").click()


def test_applicant_registers_keeps_dossier_files_and_submits(live: Live, new_page: Any) -> None:
    unit = flows.register_unit(live.api)
    page = new_page()
    page.goto("/")
    assert page.url.endswith("/login")
    shot(page, "01-login")
    page.click("text=申报人员注册")
    _register_applicant(page, "browser_appl", unit)
    sign_in(page, "browser_appl")
    page.click("#nav >> text=业绩档案")
    shot(page, "04-dossier-empty")
    _fill_dossier(page)
    page.click("button[value=save]")
    expect(page.locator("body")).to_contain_text("业绩档案已保存")
    shot(page, "05-dossier-saved")
    page.click("button[value=submit]")
    assert page.inner_text("#dossier-status") == "单位审核中"
    shot(page, "06-dossier-submitted")

    reviewer = new_page()
    sign_in(reviewer, unit["username"])
    shot(reviewer, "07-unit-worklist")
    open_from_menu(reviewer, "业绩档案审核")
    assert "河海大学" in reviewer.inner_text("#dossier-snapshot")
    shot(reviewer, "08-review-dossier")
    reviewer.check("[name=decision][value=approve]")
    reviewer.fill("[name=opinion]", "档案属实，同意")
    reviewer.click("form.task-form button[type=submit]")
    expect(reviewer.locator("body")).to_contain_text("已提交")

    page.click("#nav >> text=我的申报")
    page.select_option("#series", "工程")
    page.select_option("#level", "中级")
    page.select_option("#specialty", "水利工程")
    page.click("form.inline-form button")
    assert "/tasks/" in page.url
    shot(page, "09-submit-application")
    field(page, "title_applied").select_option("工程师")
    field(page, "work_summary").fill("主持完成多项水库除险加固设计。")
    field(page, "attachments__upload").set_input_files([PDF])
    field(page, "pledge").check()
    page.click("form.task-form button[type=submit]")
    assert page.inner_text("#app-status") == "单位审查中"
    shot(page, "10-application-detail-applicant")


def _register_applicant(page: Any, username: str, unit: dict[str, Any]) -> None:
    PASSWORDS[username] = "appl-Pass-browser"
    page.fill("#name", "王小明")
    page.fill("#id_number", "330204199001010000")
    page.fill("#phone", "13800138000")
    page.select_option("#unit_id", unit["unit_id"])
    page.fill("#username", username)
    page.fill("#password", PASSWORDS[username])
    page.click("form.register button[type=submit]")
    assert "校验位" in page.inner_text("#id_number-error")
    shot(page, "03-register-applicant-error")
    page.fill("#id_number", flows.id_number(901))
    page.fill("#password", PASSWORDS[username])
    page.click("form.register button[type=submit]")
    expect(page.locator("body")).to_contain_text("注册成功")


def _fill_dossier(page: Any) -> None:
    page.check("[name=gender][value=男]")
    field(page, "birth_date").fill("1990-01-01")
    field(page, "work_start_date").fill("2012-07-01")
    field(page, "highest_education").select_option("本科")
    for name, value in {
        "education[0].school": "河海大学",
        "education[0].major": "水利水电工程",
        "education[0].graduated": "2012-06-30",
        "current_title.series": "工程",
        "current_title.obtained": "2016-12-01",
        "work_history[0].start": "2012-07-01",
        "work_history[0].unit": "宁波测试水利设计院",
        "work_history[0].work": "水库除险加固设计",
        "summary": "从事水利工程设计十余年。",
    }.items():
        field(page, name).fill(value)
    field(page, "education[0].degree").select_option("本科")
    field(page, "current_title.name").select_option("助理工程师")
    page.locator("#appraisals button.add-row").click()
    for i, year in enumerate(range(2023, 2026)):
        field(page, f"appraisals[{i}].year").fill(str(year))
        field(page, f"appraisals[{i}].grade").select_option("合格")
    field(page, "continuing_education[0].year").fill("2025")
    field(page, "continuing_education[0].public_hours").fill("30")
    field(page, "continuing_education[0].professional_hours").fill("64")
    field(page, "continuing_education[0].certificate__upload").set_input_files([PDF])


def test_unit_onboards_then_reviews_with_publicity_window(live: Live, new_page: Any) -> None:
    page = new_page()
    page.goto("/login")
    page.click("text=用人单位注册")
    _register_unit(page, "browser_unit")
    sign_in(page, "browser_unit")
    assert page.url.endswith("/unit/entrustment")
    assert page.inner_text("#entrustment-state") == "待上传委托证明"
    shot(page, "12-unit-entrustment-pending")
    href = page.get_attribute("#download-template", "href")
    template = page.request.get(href)
    assert template.ok and template.body().startswith(b"%PDF")
    _upload_entrustment(page)
    shot(page, "13-unit-entrustment-under-review")

    platform = new_page()
    sign_in(platform, "platform_1")
    shot(platform, "14-platform-worklist")
    open_task(platform, "审核委托证明")
    assert "浙江浦江测试水利工程公司" in platform.inner_text("#unit-details")
    pdf = platform.request.get(platform.get_attribute("#entrustment-file", "href"))
    assert pdf.ok and pdf.body().startswith(b"%PDF")
    shot(platform, "15-platform-review-entrustment")
    _decide(platform, "reject", "公章不清晰", reject_reason="委托证明公章模糊，请重新扫描")
    page.reload()
    assert "公章模糊" in page.inner_text("#reject-reason")
    shot(page, "16-unit-entrustment-rejected")
    _upload_entrustment(page)
    open_task(platform, "审核委托证明")
    _decide(platform, "approve", "材料齐全，同意")
    page.goto("/")
    assert page.url.endswith("/tasks")
    page.goto("/unit/entrustment")
    assert page.inner_text("#entrustment-state") == "已激活"
    shot(page, "17-unit-entrustment-active")

    unit = {"unit_id": _unit_id(live, "browser_unit"), "username": "browser_unit"}
    person = flows.register_applicant(live.api, unit, name="赵丽")
    app_id = flows.file_application(live.api, person)
    flows.submit(live.api, person, app_id)
    page.goto("/tasks")
    shot(page, "18-unit-worklist")
    open_from_menu(page, "职称申报资格审查", app_id)
    # fields that belong to one decision appear with it (JSON Schema if/then)
    assert field(page, "publicity_start").is_hidden() and field(page, "return_reason").is_hidden()
    page.check("[name=decision][value=return]")
    assert field(page, "return_reason").is_visible() and field(page, "publicity_start").is_hidden()
    page.check("[name=decision][value=approve]")
    assert field(page, "publicity_start").is_visible() and field(page, "return_reason").is_hidden()
    assert "（通过时必填）" in page.inner_text("label[for=publicity_start]")
    shot(page, "19-unit-review")
    window = {"publicity_start": "2026-09-28", "publicity_end": "2026-10-08"}
    _decide(
        page, "approve", "材料完整，公示无异议，同意报送", publicity_place="单位公告栏", **window
    )
    error = page.inner_text('[id="publicity_end-error"]')
    assert "2026-10-09" in error
    shot(page, "20-unit-review-short-window")
    field(page, "publicity_start").fill(flows.PAST_WINDOW["publicity_start"])
    field(page, "publicity_end").fill(flows.PAST_WINDOW["publicity_end"])
    page.click("form.task-form button[type=submit]")
    expect(page.locator("body")).to_contain_text("已提交")
    page.goto(f"/applications/{app_id}")
    assert page.inner_text("#app-status") == "逐级审查中"
    assert "鄞州区农业农村局(水利)" in page.inner_text("#chain")
    shot(page, "21-application-detail-unit")


def _register_unit(page: Any, username: str) -> None:
    PASSWORDS[username] = "unit-Pass-browser"
    page.fill("#name", "浙江浦江测试水利工程公司")
    page.fill("#credit_code", "91330212MA2000000X")
    page.select_option("#dept_org_id", "yz-water")
    page.fill("#contact", "陈工")
    page.fill("#phone", "0574-87654321")
    page.fill("#username", username)
    page.fill("#password", PASSWORDS[username])
    page.click("form.register button[type=submit]")
    assert page.inner_text('[id="credit_code-error"]')
    shot(page, "11-register-unit-error")
    page.fill("#credit_code", flows.credit_code(902))
    page.fill("#password", PASSWORDS[username])
    page.click("form.register button[type=submit]")
    expect(page.locator("body")).to_contain_text("注册成功")


def _upload_entrustment(page: Any) -> None:
    page.goto("/unit/entrustment")
    page.set_input_files("#file", [PDF])
    page.click("form.upload button")
    assert page.inner_text("#entrustment-state") == "委托证明审核中"


APPROVAL_CHECKS = ("seniority_ok", "appraisal_ok", "continuing_education_ok", "post_quota_ok")


def _decide(page: Any, decision: str, opinion: str, **extra: str) -> None:
    page.check(f"[name=decision][value={decision}]")
    page.wait_for_load_state()  # the whole form is parsed before its optional boxes are counted
    if decision == "approve":
        # A reviewer's approval confirms the four eligibility checks, where the form has them.
        for name in APPROVAL_CHECKS:
            box = page.locator(f"input[type=checkbox][name={name}]")
            if box.count():
                box.first.check()
    field(page, "opinion").fill(opinion)
    for name, value in extra.items():
        field(page, name).fill(value)
    page.click("form.task-form button[type=submit]")


def _unit_id(live: Live, username: str) -> str:
    me = live.api.get("/me", username)
    return me.json["org_id"]


def open_qualification(page: Any) -> None:
    """点击“申报业务管理”——“职称评审资格审查”."""
    page.click("#nav >> text=申报业务管理")
    page.click("#nav >> text=职称评审资格审查")
    assert page.inner_text("h1") == "职称评审资格审查"
    for tab in ("待审查", "审查通过", "退回", "评审不通过"):
        expect(page.locator("#review-tabs a", has_text=tab)).not_to_have_count(0)


def _approved_by(live: Live, org_id: str) -> int:
    """How many applications this department has approved so far (other journeys share it)."""
    with live.app.app_context():
        counts, _rows = live.app.extensions["worklists"].level_decision_tab(org_id, "approve")
        return counts["approve"]


def test_reviewer_recommends_a_batch_with_select_all(live: Live, new_page: Any) -> None:
    unit = flows.register_unit(live.api)
    people, app_ids = [], []
    for name in ("孙一", "孙二", "孙三"):
        person = flows.register_applicant(live.api, unit, name=name)
        app_id = flows.file_application(live.api, person)
        flows.submit(live.api, person, app_id)
        flows.unit_approves(live.api, unit, app_id)
        people.append(person)
        app_ids.append(app_id)
    pending = len(live.api.tasks("yz_water_1", name="level_review"))
    approved = _approved_by(live, "yz-water")
    page = new_page()
    sign_in(page, "yz_water_1")
    shot(page, "22-reviewer-worklist")
    # 点击“申报业务管理”——“职称评审资格审查”
    open_qualification(page)
    assert page.inner_text("#tab-pending") == f"待审查（{pending}）"
    assert page.inner_text("#tab-approve") == f"审查通过（{approved}）"
    assert page.locator("#fee-link").inner_text() == "收费设定"
    shot(page, "22b-qualification-pending")
    # 点击“待审查”，对符合申报条件的人员，点击“审查通过”，并签署审查意见
    page.click("#tab-pending")
    row = page.locator("#pending-list tr", has=page.get_by_role("link", name=app_ids[0]))
    row.get_by_role("link", name="审查").click()
    expect(page.locator("body")).to_contain_text("历次审查意见")
    assert "孙一" in page.inner_text("#application-summary")
    for label in ("审查通过", "退回", "评审不通过"):
        expect(page.locator("label.inline", has_text=label)).to_have_count(1)
    shot(page, "23-level-review")
    _decide(page, "approve", "资历、考核、继续教育均符合条件")
    for app_id in app_ids[1:]:
        page.goto("/review/qualification")
        row = page.locator("#pending-list tr", has=page.get_by_role("link", name=app_id))
        row.get_by_role("link", name="审查").click()
        _decide(page, "approve", "资历、考核、继续教育均符合条件")
    # 点击标题栏的“审查通过”，全选审查通过人员，点击“审核推荐”
    page.goto("/review/qualification")
    assert page.inner_text("#tab-approve") == f"审查通过（{approved + 3}）"
    page.click("#tab-approve")
    expect(page.locator("input[name=task_ids]")).to_have_count(3)
    shot(page, "24-recommend-list")
    page.check("#select-all")
    expect(page.locator("input[name=task_ids]:checked")).to_have_count(3)
    page.fill("#note", "同意推荐")
    page.get_by_role("button", name="审核推荐", exact=True).click()
    expect(page.locator("#results tr.ok")).to_have_count(3)
    shot(page, "25-recommend-results")
    waiting = len(live.api.tasks("yz_hrss_1", name="level_review"))
    assert waiting >= 3
    # 当地人力社保部门按照上述操作步骤进行审核推荐
    hrss = new_page()
    sign_in(hrss, "yz_hrss_1")
    open_qualification(hrss)
    assert hrss.inner_text("#tab-pending") == f"待审查（{waiting}）"
    expect(hrss.locator("#pending-list tr", has_text="孙一")).to_have_count(1)
    shot(hrss, "25b-hrss-qualification")

    page.click("#nav >> text=申报业务管理")
    page.click("#nav >> text=收费设定")
    page.check("[name=charge][value=false]")
    page.click("main form button[type=submit]")
    assert page.inner_text("#fee-state") == "不收费"
    shot(page, "26-fee-setting")
    page.goto(f"/applications/{app_ids[0]}")
    assert "鄞州区人力社保局" in page.inner_text("#current-tasks")
    shot(page, "27-application-detail-reviewer")
    page.click("#nav >> text=申报查询")
    shot(page, "28-application-list-reviewer")

    applicant = new_page()
    sign_in(applicant, people[0]["username"])
    applicant.click("#nav >> text=消息")
    assert "第1级审查" in applicant.inner_text("#messages")
    shot(applicant, "29-messages")


def test_applicant_pays_exports_and_office_receives_paper(live: Live, new_page: Any) -> None:
    unit = flows.register_unit(live.api)
    person = flows.register_applicant(live.api, unit, name="钱八")
    app_id = flows.file_application(live.api, person)
    flows.submit(live.api, person, app_id)
    flows.unit_approves(live.api, unit, app_id)
    for org in flows.CHAIN:
        flows.level(live.api, org, app_id)
    page = new_page()
    sign_in(page, person["username"])
    page.goto(f"/applications/{app_id}")
    page.locator("#current-tasks").get_by_role("link", name="办理").click()
    shot(page, "30-confirm-payment")
    assert "180 元" in page.inner_text("#payment-amount")
    field(page, "payment_reference").fill("NB2026112600001")
    field(page, "paid_on").fill("2026-11-26")
    page.click("form.task-form button[type=submit]")
    flows.verify_payment(live.api, app_id)
    page.goto(f"/applications/{app_id}")
    assert page.inner_text("#app-status") == "待报送纸质材料"
    shot(page, "31-application-export")
    pdf = page.request.get(page.get_attribute("#review-form", "href"))
    assert pdf.ok and pdf.body().startswith(b"%PDF")

    office = new_page()
    sign_in(office, "nb_office_1")
    open_qualification(office)
    office.click("#tab-approve")
    expect(office.locator("#decided-list", has_text="钱八")).to_have_count(1)
    shot(office, "31b-office-approved-tab")
    open_task(office, "登记纸质材料", app_id)
    shot(office, "32-receive-paper")
    field(office, "copies").fill("3")
    office.click("form.task-form button[type=submit]")
    office.goto(f"/applications/{app_id}")
    assert office.inner_text("#app-status") == "待评委会评审"
    shot(office, "33-application-completed")
