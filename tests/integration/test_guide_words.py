"""The operating guide's words on the pages: menus, tabs with counts, decision labels, Chinese
messages and error pages (issue 12, items 1-3)."""

from __future__ import annotations

import re

import pytest
from werkzeug.exceptions import MethodNotAllowed, TooManyRequests

from tests import flows
from tests.flows import CHECKS
from tests.page_helpers import field_error, only_task_id, signed_in, text

ENGLISH = re.compile(r"\b[A-Za-z]{3,} [a-z]{2,}\b")


def _tab_counts(html: str) -> dict[str, int]:
    """Tab label -> its count, from the 职称评审资格审查 tabs."""
    tabs = re.findall(r'id="tab-(\w+)"[^>]*>([^<]+)<span class="count">（(\d+)）', html)
    return {label: int(count) for _key, label, count in tabs}


def _link(app_id: str) -> str:
    return f'href="/applications/{app_id}"'


def _at_first_level(api, n: int) -> tuple[dict, list[str]]:
    unit = flows.register_unit(api)
    app_ids = []
    for _ in range(n):
        person = flows.register_applicant(api, unit)
        app_id = flows.file_application(api, person)
        flows.submit(api, person, app_id)
        flows.unit_approves(api, unit, app_id)
        app_ids.append(app_id)
    return unit, app_ids


def _decide(api, app_id: str, decision: str, **extra) -> None:
    task = api.only_task("yz_water_1", application=app_id, name="level_review")
    data = {"decision": decision, "opinion": f"本级意见 {decision}", **extra}
    r = api.complete(task["id"], "yz_water_1", **(CHECKS | data if decision == "approve" else data))
    assert r.status == 200, r


def test_reviewer_finds_the_guides_menu_and_tabs_with_counts(app, api):
    _unit, app_ids = _at_first_level(api, 4)
    client = signed_in(app, "yz_water_1")
    html = text(client.get("/tasks"))
    assert "申报业务管理" in html and "职称评审资格审查" in html and "收费设定" in html
    html = text(client.get("/review/qualification"))
    assert _tab_counts(html) == {"待审查": 4, "审查通过": 0, "退回": 0, "评审不通过": 0}
    assert all(_link(app_id) in html for app_id in app_ids) and "收费设定" in html

    _decide(api, app_ids[0], "approve")
    _decide(api, app_ids[1], "approve")
    _decide(api, app_ids[2], "return", return_reason="继续教育证明不全")
    _decide(api, app_ids[3], "reject", reject_reason="资历不符合申报条件")
    html = text(client.get("/review/qualification"))
    counts = {"待审查": 0, "审查通过": 2, "退回": 1, "评审不通过": 1}
    assert _tab_counts(html) == counts
    for tab in ("approve", "return", "reject"):  # the same counts on every tab
        assert _tab_counts(text(client.get(f"/review/qualification?tab={tab}"))) == counts

    approved = text(client.get("/review/qualification?tab=approve"))
    assert 'class="select-all"' in approved and ">审核推荐</button>" in approved
    assert approved.count('name="task_ids"') == 2
    assert _link(app_ids[0]) in approved and _link(app_ids[2]) not in approved
    returned = text(client.get("/review/qualification?tab=return"))
    assert _link(app_ids[2]) in returned and "已退回待修改" in returned
    assert _link(app_ids[0]) not in returned
    rejected = text(client.get("/review/qualification?tab=reject"))
    assert _link(app_ids[3]) in rejected and "本级意见 reject" in rejected

    # 全选 then 审核推荐 from the 审查通过 tab sends both on; they stay listed as approved here
    ids = re.findall(r'name="task_ids" value="([^"]+)"', approved)
    r = client.post("/review/recommend", data={"task_ids": ids})
    assert r.status_code == 200 and "成功 2 项" in text(r)
    approved = text(client.get("/review/qualification?tab=approve"))
    assert 'name="task_ids"' not in approved and _link(app_ids[1]) in approved
    assert len(api.tasks("yz_hrss_1", name="level_review")) == 2


def test_decision_tabs_show_only_this_departments_decisions(app, api):
    _unit, app_ids = _at_first_level(api, 1)
    _decide(api, app_ids[0], "reject", reject_reason="资历不符合申报条件")
    other = text(signed_in(app, "bl_water_1").get("/review/qualification?tab=reject"))
    assert _tab_counts(other)["评审不通过"] == 0 and _link(app_ids[0]) not in other


def test_a_decision_tab_has_every_tabs_count_and_its_own_rows(app, api):
    _unit, app_ids = _at_first_level(api, 3)
    _decide(api, app_ids[0], "approve")
    _decide(api, app_ids[1], "return", return_reason="继续教育证明不全")
    _decide(api, app_ids[2], "approve")
    worklists = app.extensions["worklists"]
    rows_of = {}
    for tab in ("approve", "return", "reject", "pending"):
        counts, rows = worklists.level_decision_tab("yz-water", tab)
        assert counts == {"approve": 2, "return": 1, "reject": 0}
        rows_of[tab] = [r["application_id"] for r in rows]
    assert rows_of == {
        "approve": [app_ids[2], app_ids[0]],  # newest first
        "return": [app_ids[1]],
        "reject": [],
        "pending": [],  # not a decision: no rows read
    }


def test_qualification_page_is_for_reviewers_and_refuses_unknown_tabs(app, api):
    unit = flows.register_unit(api)
    assert signed_in(app, unit["username"]).get("/review/qualification").status_code == 403
    assert app.test_client().get("/review/qualification").status_code == 302  # to sign in
    r = signed_in(app, "yz_water_1").get("/review/qualification?tab=approved-all")
    assert r.status_code == 422 and "没有这个标签页" in text(r)


def test_unit_menus_use_the_guides_names(app, api):
    unit, _person, app_id = flows.application_at_unit_review(api)
    client = signed_in(app, unit["username"])
    html = text(client.get("/tasks"))
    assert "业绩档案审核" in html and "职称申报资格审查" in html
    html = text(client.get("/tasks?process=title_application"))
    assert "<h1>职称申报资格审查" in html and _link(app_id) in html
    html = text(client.get("/tasks?process=dossier_review"))
    assert "<h1>业绩档案审核" in html and _link(app_id) not in html


def test_review_form_labels_choices_and_shows_fields_with_their_decision(app, api):
    _at_first_level(api, 1)
    client = signed_in(app, "yz_water_1")
    task_id = only_task_id(client, name="level_review")
    html = text(client.get(f"/tasks/{task_id}"))
    for label in ("审查通过", "退回", "评审不通过"):
        assert f"> {label}</label>" in html
    assert 'data-show-when="[[&#34;decision&#34;, &#34;return&#34;]]"' in html
    assert "（退回时必填）" in html and "（评审不通过时必填）" in html
    # Without JavaScript every field is posted as it stands; the server still validates.
    r = client.post(f"/tasks/{task_id}", data={"decision": "reject", "opinion": "不符合"})
    assert r.status_code == 422
    assert field_error(text(r), "reject_reason") == "「评审不通过的理由」为必填项"


def test_unit_review_stars_publicity_fields_for_approval(app, api):
    unit, _person, _app_id = flows.application_at_unit_review(api)
    client = signed_in(app, unit["username"])
    task_id = only_task_id(client, name="unit_review")
    html = text(client.get(f"/tasks/{task_id}"))
    start = html.index('for="publicity_start"')
    assert "（通过时必填）" in html[start : start + 200]
    r = client.post(f"/tasks/{task_id}", data={"decision": "approve", "opinion": "同意"})
    assert r.status_code == 422
    assert field_error(text(r), "publicity_start") == "「公示开始日期」为必填项"


def test_api_validation_messages_are_chinese_with_the_field_title(app, api):
    unit = flows.register_unit(api)
    person = flows.register_applicant(api, unit)
    app_id = flows.file_application(api, person)
    task = api.only_task(person["username"], application=app_id)
    r = api.complete(task["id"], person["username"], **{**flows.APPLICATION_FORM, "pledge": False})
    assert r.status == 422 and r.json["error"]["code"] == "invalid_data"
    assert r.json["error"]["fields"]["pledge"].startswith("请勾选「本人承诺")
    assert r.json["error"]["message"] == "表单数据有误，请按提示修改"
    for message in [r.json["error"]["message"], *r.json["error"]["fields"].values()]:
        assert not ENGLISH.search(message), message


def test_timeline_names_urge_in_chinese(app, api):
    _unit, person, app_id = flows.application_at_unit_review(api)
    assert api.post(f"/applications/{app_id}/urge", person["username"]).status == 200
    html = text(signed_in(app, person["username"]).get(f"/applications/{app_id}"))
    assert ">催办</span>" in html and ">urge<" not in html


@pytest.mark.parametrize(
    ("path", "method", "status", "words"),
    [
        ("/no-such-page", "get", 404, "请求的资源不存在"),
        ("/logout", "get", 405, "不支持该请求方法"),
    ],
)
def test_error_pages_are_chinese(app, path, method, status, words):
    r = getattr(signed_in(app, "yz_water_1"), method)(path)
    assert r.status_code == status and words in text(r)
    assert "Not Found" not in text(r) and "Method Not Allowed" not in text(r)


@pytest.mark.own_app  # it adds routes
def test_limiter_and_werkzeug_english_descriptions_are_replaced(app):
    def too_many() -> None:
        raise TooManyRequests("10 per 1 minute")

    def not_allowed() -> None:
        raise MethodNotAllowed(description="The method is not allowed for the requested URL.")

    app.add_url_rule("/_test/too-many", "too_many", too_many)
    app.add_url_rule("/_test/not-allowed", "not_allowed", not_allowed)
    client = app.test_client()
    r = client.get("/_test/too-many")
    assert r.status_code == 429 and "请求过于频繁，请稍后再试" in text(r)
    assert "per 1 minute" not in text(r)
    r = client.get("/_test/not-allowed")
    assert r.status_code == 405 and "The method" not in text(r)


def test_holiday_names_are_chinese_on_the_page_and_the_command_line(app, database_url):
    from click.testing import CliRunner

    from web.cli_calendar import calendar_group

    shown = CliRunner().invoke(
        calendar_group, ["show", "2026"], env={"ZHIPING_DATABASE_URL": database_url}
    )
    assert shown.exit_code == 0, shown.output
    assert "国庆节" in shown.output and "春节" in shown.output
    assert "National Day" not in shown.output and "Spring Festival" not in shown.output
    page = text(signed_in(app, "admin").get("/admin/calendar?year=2026"))
    assert "国庆节" in page and "中秋节" in page and "National Day" not in page
    r = signed_in(app, "admin").post(
        "/admin/calendar/days", data={"day": "2026-12-31", "kind": "holiday"}, follow_redirects=True
    )
    assert "2026-12-31 已设为休息日（新增）" in text(r) and "added" not in text(r)
