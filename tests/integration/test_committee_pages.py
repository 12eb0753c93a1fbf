"""The office's 评审会 pages: form a session, see recusals, record attendance, read tallies;
an expert votes on the task page; the office records an objection on the application page."""

from __future__ import annotations

from tests.committee_flows import load_experts, to_expert_review
from tests.flows import open_cycle_of
from tests.page_helpers import signed_in, text

PANEL = [f"exp_{n}" for n in range(1, 6)]


def test_office_runs_a_session_through_the_pages(app, api):
    unit, _person, app_id = to_expert_review(api)
    load_experts(app, 5, conflicts={5: {"unit_credit_code": unit["credit_code"]}})
    cycle_id = open_cycle_of(api)["cycle_id"]
    office = signed_in(app, "nb_office_1")
    page = office.get(f"/review-sessions/cycle/{cycle_id}")
    assert page.status_code == 200 and "组建评审会" in text(page)
    bad = office.post(
        f"/review-sessions/cycle/{cycle_id}",
        data={"date": "2026-12-10", "how": "draw", "size": "3"},
    )
    assert bad.status_code == 422 and "不得少于 5 人" in text(bad)
    r = office.post(
        f"/review-sessions/cycle/{cycle_id}",
        data={"date": "2026-12-10", "how": "pick", "experts": ",".join(PANEL)},
    )
    assert r.status_code == 302
    shown = office.get(r.headers["Location"])
    body = text(shown)
    assert "回避" in body and "同属一个单位" in body and "exp_5" in body
    session_path = r.headers["Location"]
    few = office.post(f"{session_path}/attendance", data={"present": PANEL[:3]})
    assert few.status_code == 422 and "不能表决" in text(few)
    ok = office.post(f"{session_path}/attendance", data={"present": PANEL})
    assert ok.status_code == 302
    assert "投票中" in text(office.get(session_path))
    for n, expert in enumerate(PANEL[:4], 1):
        client = signed_in(app, expert, f"exp-Pass-{n}")
        task_id = api.only_task(expert, application=app_id, name="expert_vote")["id"]
        form = client.get(f"/tasks/{task_id}")
        assert form.status_code == 200 and "表决意见" in text(form)
        done = client.post(f"/tasks/{task_id}", data={"vote": "agree"})
        assert done.status_code == 302, text(done)
    final = text(office.get(session_path))
    assert "已计票" in final and "通过" in final
    detail = office.get(f"/applications/{app_id}")
    assert "登记异议" in text(detail)
    form = office.post(f"/review-sessions/objection/{app_id}", data={"objection": ""})
    assert form.status_code == 422
    sent = office.post(f"/review-sessions/objection/{app_id}", data={"objection": "反映材料不实"})
    assert sent.status_code == 302
    assert api.only_task("nb_office_1", application=app_id, name="review_objection")
    assert signed_in(app, "yz_water_1").get(session_path).status_code == 403
