"""The committee's review on the real diagram: panel, recusal, quorum, secret ballot, tally,
results publicity with objections, certificate (issue 13, DOMAIN.md §8)."""

from __future__ import annotations

from tests.committee_flows import attend, form_session, load_experts, to_expert_review, vote
from tests.flows import OFFICE, credit_code, pdf_bytes, status_of, upload_pdf
from tests.helpers import Api

PANEL = [f"exp_{n}" for n in range(1, 8)]


def test_paper_received_waits_for_the_committee(app, api):
    _, person, app_id = to_expert_review(api)
    detail = api.get(f"/applications/{app_id}", person["username"]).json
    assert detail["status"] == "expert_review" and detail["current_tasks"] == []


def test_seven_present_five_four_agree_passes_three_does_not(app, api):
    _, p1, app1 = to_expert_review(api)
    _, p2, app2 = to_expert_review(api)
    load_experts(app, 7)
    r = form_session(api, PANEL)
    assert r.status == 201, r
    assert {a["application_id"] for a in r.json["applications"]} == {app1, app2}
    session_id = r.json["session_id"]
    present = PANEL[:5]
    r = attend(api, session_id, present)
    assert r.status == 200 and r.json["status"] == "voting", r
    # absent experts get no ballot; present ones one per application
    assert api.tasks("exp_6", name="expert_vote") == []
    assert len(api.tasks("exp_1", name="expert_vote")) == 2
    for i, expert in enumerate(present):
        assert vote(api, expert, app1, "agree" if i < 4 else "disagree").status == 200
        assert vote(api, expert, app2, "agree" if i < 3 else "abstain").status == 200
    tallies = {
        t["application_id"]: t for t in api.get(f"/sessions/{session_id}", OFFICE).json["tallies"]
    }
    assert tallies[app1] | {"comments": []} == tallies[app1]
    assert (tallies[app1]["agree"], tallies[app1]["present"], tallies[app1]["passed"]) == (
        4,
        5,
        True,
    )
    assert (tallies[app2]["agree"], tallies[app2]["abstain"], tallies[app2]["passed"]) == (
        3,
        2,
        False,
    )
    assert status_of(api, p1, app1) == "result_publicity"
    detail = api.get(f"/applications/{app2}", p2["username"]).json
    assert detail["status"] == "not_passed"
    assert any("同意 3 票" in (e.get("opinion") or "") for e in detail["timeline"])


def test_fewer_than_two_thirds_present_cannot_vote(app, api):
    to_expert_review(api)
    load_experts(app, 7)
    session_id = form_session(api, PANEL).json["session_id"]
    r = attend(api, session_id, PANEL[:4])  # 4/7 < 2/3
    assert r.status == 422 and r.json["error"]["code"] == "no_quorum"
    assert "present" in r.json["error"]["fields"]
    assert api.tasks("exp_1", name="expert_vote") == []
    assert api.get(f"/sessions/{session_id}", OFFICE).json["status"] == "formed"
    assert attend(api, session_id, PANEL[:5]).status == 200


def test_no_vote_is_visible_before_the_tally_nor_any_voter_after(app, api):
    _, person, app_id = to_expert_review(api)
    load_experts(app, 5)
    session_id = form_session(api, PANEL[:5]).json["session_id"]
    attend(api, session_id, PANEL[:5])
    vote(api, "exp_1", app_id, "disagree", comment="论文创新性不足")
    seen = api.get(f"/sessions/{session_id}", OFFICE).json
    assert seen["tallies"] is None and seen["progress"] == {"cast": 1, "expected": 5}
    for who in (OFFICE, "admin", person["username"]):
        for path in (f"/applications/{app_id}", f"/sessions/{session_id}"):
            r = api.get(path, who)
            assert "disagree" not in str(r.json) and "论文创新性不足" not in str(r.json), (
                who,
                path,
            )
    ops = api.get(f"/ops/instances/{status_instance(api, person, app_id)}", "admin").json
    assert "disagree" not in str(ops) and "论文创新性不足" not in str(ops)
    for expert in PANEL[1:5]:
        vote(api, expert, app_id, "agree")
    after = api.get(f"/sessions/{session_id}", OFFICE).json
    assert after["tallies"][0]["disagree"] == 1
    assert after["tallies"][0]["comments"] == ["论文创新性不足"]
    assert "exp_1" not in str(after["tallies"])
    audit = api.get(f"/applications/{app_id}", "admin").json["timeline"]
    assert "disagree" not in str([e for e in audit if e.get("task") == "expert_vote"])


def status_instance(api: Api, person, app_id: str) -> str:
    return api.get(f"/applications/{app_id}", person["username"]).json["instance_id"]


def test_conflicted_expert_never_receives_the_ballot(app, api):
    unit, person, app_id = to_expert_review(api)
    unit_code = api.get(f"/applications/{app_id}", person["username"]).json
    load_experts(
        app,
        6,
        conflicts={
            1: {"unit_credit_code": unit["credit_code"]},
            2: {"relations": [person["id_number"]]},
        },
    )
    r = form_session(api, PANEL[:6])
    assert r.status == 201
    reasons = {x["expert"]: x["reason"] for x in r.json["recusals"]}
    assert set(reasons) == {"exp_1", "exp_2"} and "同属一个单位" in reasons["exp_1"]
    assert "利害关系" in reasons["exp_2"]
    attend(api, r.json["session_id"], PANEL[:6])
    assert api.tasks("exp_1", name="expert_vote") == []
    assert api.tasks("exp_2", name="expert_vote") == []
    assert len(api.tasks("exp_3", name="expert_vote")) == 1
    # an expert reads the application put before them, and only that one
    assert api.get(f"/applications/{app_id}", "exp_3").status == 200
    assert api.get(f"/applications/{app_id}", "exp_1").status == 403
    assert api.get("/applications", "exp_3").json["total"] == 0
    page = api.client.get(f"/tasks/{api.only_task('exp_3', name='expert_vote')['id']}")
    assert page.status_code in (302, 401)  # pages need a signed-in session
    timeline = api.get(f"/applications/{app_id}", "admin").json["timeline"]
    assert sum(1 for e in timeline if e["action"] == "expert_recused") == 2
    assert unit_code["status"] == "expert_review"


def test_results_publicity_waits_five_working_days_then_certifies(app, api, clock):
    _, person, app_id = to_expert_review(api)
    load_experts(app, 5)
    session_id = form_session(api, PANEL[:5]).json["session_id"]
    attend(api, session_id, PANEL[:5])
    for expert in PANEL[:5]:
        vote(api, expert, app_id, "agree")
    assert status_of(api, person, app_id) == "result_publicity"
    timers = api.get("/ops/timers?status=pending", "admin").json["items"]
    mine = [t for t in timers if t["instance_id"] == status_instance(api, person, app_id)]
    assert len(mine) == 1
    # 2026-11-26 (Thu) + 5 working days counted from the start: ends 2026-12-02 at the earliest
    assert mine[0]["due_at"] >= "2026-12-02T16:00"
    clock.advance(days=3)
    api.tokens.clear()  # sign in again after days
    app.extensions["timers"].fire_due_timers()
    assert status_of(api, person, app_id) == "result_publicity"
    clock.advance(days=5)
    api.tokens.clear()
    app.extensions["timers"].fire_due_timers()
    detail = api.get(f"/applications/{app_id}", person["username"]).json
    assert detail["status"] == "certified"
    assert detail["certificate"]["number"]


def test_objection_sends_the_result_to_the_office(app, api):
    _, person, app_id = to_expert_review(api)
    load_experts(app, 5)
    session_id = form_session(api, PANEL[:5]).json["session_id"]
    attend(api, session_id, PANEL[:5])
    for expert in PANEL[:5]:
        vote(api, expert, app_id, "agree")
    r = api.post(
        f"/applications/{app_id}/result-objections", person["username"], json={"objection": "x"}
    )
    assert r.status == 403
    r = api.post(f"/applications/{app_id}/result-objections", OFFICE, json={"objection": " "})
    assert r.status == 422 and "objection" in r.json["error"]["fields"]
    r = api.post(
        f"/applications/{app_id}/result-objections", OFFICE, json={"objection": "反映论文抄袭"}
    )
    assert r.status == 200, r
    task = api.only_task(OFFICE, application=app_id, name="review_objection")
    r = api.complete(
        task["id"], OFFICE, decision="reject", opinion="经核查属实", reject_reason="论文抄袭属实"
    )
    assert r.status == 200, r
    detail = api.get(f"/applications/{app_id}", person["username"]).json
    assert detail["status"] == "not_passed"
    r = api.post(f"/applications/{app_id}/result-objections", OFFICE, json={"objection": "再次"})
    assert r.status == 409 and r.json["error"]["code"] == "not_in_result_publicity"


def test_session_calls_need_the_office_and_good_input(app, api):
    to_expert_review(api)
    load_experts(app, 5)
    from tests.flows import open_cycle_of

    cycle = open_cycle_of(api)
    path = f"/cycles/{cycle['cycle_id']}/sessions"
    assert api.client.post(f"/api/v1{path}", json={}).status_code == 401
    assert (
        api.post(path, "yz_water_1", json={"date": "2026-12-10", "experts": PANEL[:5]}).status
        == 403
    )
    r = api.post(path, OFFICE, json={"date": "明天", "experts": PANEL[:5]})
    assert r.status == 422 and "date" in r.json["error"]["fields"]
    r = api.post(path, OFFICE, json={"date": "2026-12-10", "experts": PANEL[:3]})
    assert r.status == 422 and "experts" in r.json["error"]["fields"]  # below min_panel_size 5
    r = api.post(path, OFFICE, json={"date": "2026-12-10", "experts": ["nb_office_1", *PANEL[:4]]})
    assert r.status == 422
    r = api.post(path, OFFICE, json={"date": "2026-12-10", "draw": {"size": 9}})
    assert r.status == 422 and "draw.size" in r.json["error"]["fields"]
    r = api.post(
        path, OFFICE, json={"date": "2026-12-10", "draw": {"size": 5, "specialty": "水利工程"}}
    )
    assert r.status == 201 and len(r.json["experts"]) == 5
    assert set(r.json["experts"]) <= set(PANEL)
    assert all(e["chosen_by"] == "draw" for e in r.json["panel"])
    sid = r.json["session_id"]
    assert api.get(f"/sessions/{sid}", "exp_1").status == 403
    assert (
        api.post(f"/sessions/{sid}/attendance", "yz_water_1", json={"present": PANEL[:5]}).status
        == 403
    )
    assert attend(api, sid, ["nobody", *PANEL[:4]]).status == 422
    assert attend(api, sid, "exp_1").status == 422
    assert api.get("/sessions/99999", OFFICE).status == 404


def test_experts_load_with_orgs_load_and_bad_fields_are_refused(app):
    import pytest

    from engine.errors import InvalidDataError

    load_experts(app, 1, conflicts={1: {"unit_credit_code": credit_code(99)}})
    with pytest.raises(InvalidDataError) as err:
        app.extensions["accounts"].load_orgs(
            {
                "orgs": [],
                "users": [
                    {
                        "username": "exp_bad",
                        "password": "exp-Bad-Pass-9",
                        "role": "expert",
                        "org": "nb-office",
                        "unit_credit_code": "123",
                        "relations": ["not-an-id"],
                    }
                ],
            }
        )
    assert set(err.value.fields) == {"users[0].unit_credit_code", "users[0].relations"}


def test_concurrent_last_votes_tally_exactly_once(app, api):
    """Every present expert votes at the same moment (PostgreSQL: real concurrency): all votes
    count, the session is tallied once, and the application moves on once."""
    import threading

    from sqlalchemy import func, select

    from storage import AuditEvent

    _, person, app_id = to_expert_review(api)
    load_experts(app, 5)
    session_id = form_session(api, PANEL[:5]).json["session_id"]
    attend(api, session_id, PANEL[:5])
    accounts, tasks = app.extensions["accounts"], app.extensions["tasks"]
    jobs = []
    for expert in PANEL[:5]:
        actor = accounts.login(expert, f"exp-Pass-{expert[4:]}")
        task = api.only_task(expert, application=app_id, name="expert_vote")
        jobs.append((actor, task["id"]))
    barrier = threading.Barrier(len(jobs), timeout=30)
    errors: list[BaseException] = []

    def cast(actor, task_id: str) -> None:
        try:
            barrier.wait()
            tasks.complete(task_id, {"vote": "agree"}, actor=actor)
        except BaseException as exc:  # reported below, in the test's thread
            errors.append(exc)

    workers = [threading.Thread(target=cast, args=job) for job in jobs]
    for w in workers:
        w.start()
    for w in workers:
        w.join(120)
    assert errors == []
    seen = api.get(f"/sessions/{session_id}", OFFICE).json
    assert seen["status"] == "tallied" and seen["tallies"][0]["agree"] == 5
    with app.app_context():
        uow = app.extensions["unit_of_work"]
        with uow() as work:
            tallied = work.session.scalar(
                select(func.count())
                .select_from(AuditEvent)
                .where(AuditEvent.action == "ballot_tallied")
            )
    assert tallied == 1
    assert status_of(api, person, app_id) == "result_publicity"


def test_a_seated_expert_downloads_the_applicants_files_and_no_other_expert_does(app, api):
    _unit, person, _app_id = to_expert_review(api)
    file_id = upload_pdf(api, person["username"])
    load_experts(app, 8)
    assert api.get(f"/files/{file_id}", "exp_1").status == 403  # not seated yet
    r = form_session(api, PANEL)  # exp_1..exp_7; exp_8 sits on no panel
    assert r.status == 201, r
    assert attend(api, r.json["session_id"], PANEL[:5]).status == 200
    got = api.get(f"/files/{file_id}", "exp_1")
    assert got.status == 200 and got.json == pdf_bytes()
    assert api.get(f"/files/{file_id}", "exp_8").status == 403
    assert api.get(f"/files/{file_id}", "exp_6").status == 403  # chosen, absent: no ballot
