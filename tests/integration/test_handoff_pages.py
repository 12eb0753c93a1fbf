"""The hand-off forms as people use them: 转办 on a task page, 我的委派, 抄送, 抄送我的."""

from __future__ import annotations

from tests.integration.test_handoffs import DEPT_1, DEPT_2, at_first_level
from tests.page_helpers import signed_in, task_links, text


def test_transfer_form_on_the_task_page_moves_the_task(api, app):
    _unit, person, app_id, task = at_first_level(api)
    page = signed_in(app, DEPT_1)
    html = text(page.get(f"/tasks/{task['id']}"))
    assert 'id="transfer-button"' in html and 'value="yz_water_2"' in html
    # a missing reason is refused and said so; the task stays
    r = page.post(
        f"/tasks/{task['id']}/transfer",
        data={"to": "bl_water_1", "reason": "出差"},
        follow_redirects=True,
    )
    assert "不是本单位可办理该任务的在岗同事" in text(r) and ">出差</textarea>" in text(r)
    assert task["id"] in task_links(text(page.get("/tasks")))
    r = page.post(
        f"/tasks/{task['id']}/transfer",
        data={"to": DEPT_2, "reason": "出差"},
        follow_redirects=True,
    )
    assert "已转办给张四" in text(r)
    assert task["id"] not in task_links(text(page.get("/tasks")))
    other = signed_in(app, DEPT_2)
    html = text(other.get("/tasks"))
    assert task["id"] in task_links(html) and "已转办（张三转来）" in html
    assert "由张三转办给张四" in text(other.get(f"/tasks/{task['id']}"))
    # the applicant's page shows 转办 in the timeline, with whom
    html = text(signed_in(app, person["username"]).get(f"/applications/{app_id}"))
    assert "转办给 张四" in html and "已转办给张四" in html  # timeline and current step
    # the applicant's own task page offers no transfer
    assert 'id="cc-button"' not in html


def test_stand_in_page_sets_shows_and_ends(api, app):
    page = signed_in(app, DEPT_2)
    html = text(page.get("/me/stand-in"))
    assert "未设置委派" in html and 'value="yz_water_1"' in html
    r = page.post("/me/stand-in", data={"to": DEPT_1, "from": "2026-11-27", "until": "2026-11-25"})
    assert r.status_code == 422 and "结束日期不能早于开始日期" in text(r)
    assert 'value="2026-11-27"' in text(r)  # what was typed is kept
    r = page.post(
        "/me/stand-in",
        data={"to": DEPT_1, "from": "2026-11-26", "until": "2026-11-28"},
        follow_redirects=True,
    )
    assert "委派已设置" in text(r) and "生效中" in text(r)
    assert "张四" in text(signed_in(app, DEPT_1).get("/me/stand-in"))  # 我为他人代办
    r = page.post("/me/stand-in/end", follow_redirects=True)
    assert "委派已结束" in text(r) and "未设置委派" in text(r)
    assert "我的委派" in text(page.get("/tasks"))  # in the menu


def test_copy_form_and_the_copied_to_me_page(api, app):
    _unit, _person, app_id, _task = at_first_level(api)
    page = signed_in(app, DEPT_1)
    html = text(page.get(f"/applications/{app_id}"))
    assert 'id="cc-button"' in html and 'value="nb_water_1"' in html
    r = page.post(
        f"/applications/{app_id}/cc",
        data={"to": ["bl_water_1"], "note": "请阅"},
        follow_redirects=True,
    )
    assert "不能抄送给：bl_water_1" in text(r) and ">请阅</textarea>" in text(r)
    r = page.post(
        f"/applications/{app_id}/cc",
        data={"to": ["nb_water_1"], "note": "请知悉"},
        follow_redirects=True,
    )
    assert "已抄送 1 人" in text(r) and "抄送给 赵六" in text(r)
    reader = signed_in(app, "nb_water_1")
    html = text(reader.get("/cc"))
    assert "抄送我的" in html and f"/applications/{app_id}" in html and "请知悉" in html
    assert "抄送" in text(reader.get("/messages"))
