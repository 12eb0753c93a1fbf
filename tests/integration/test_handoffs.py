"""转办 / 委派 / 抄送 through the API on the real diagram: who sees, who may act, who is told."""

from __future__ import annotations

from sqlalchemy import select

from storage import ApplicationCopy, AuditEvent, Notification, TaskTransfer, User, db
from tests.flows import (
    CHAIN,
    CHECKS,
    application_at_first_level,
    application_at_unit_review,
    level,
    unit_approves,
)
from tests.page_helpers import signed_in, text

DEPT_1, DEPT_2 = "yz_water_1", "yz_water_2"  # 张三, 张四 of yz-water, the chain's first level


def at_first_level(api):
    unit, person, app_id = application_at_first_level(api)
    task = api.only_task(DEPT_1, application=app_id, name="level_review")
    return unit, person, app_id, task


def transfer(api, task_id, as_user=DEPT_1, to=DEPT_2, reason="本人出差，请张四审核"):
    return api.post(f"/tasks/{task_id}/transfer", as_user, json={"to": to, "reason": reason})


def audit(app, action):
    with app.app_context():
        return db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)).all()


def messages(api, username, kind):
    r = api.get("/me/messages", username)
    assert r.status == 200, r
    return [m for m in r.json["items"] if m["kind"] == kind]


# ----- 转办 --------------------------------------------------------------------------------


def test_transfer_gives_the_task_to_the_colleague_only(api, app):
    _unit, person, app_id, task = at_first_level(api)
    r = transfer(api, task["id"])
    assert r.status == 200, r
    assert r.json["to"] == {"username": DEPT_2, "name": "张四"}
    # the colleague sees it marked; the transferor no longer does, nor may open or complete it
    (mine,) = api.tasks(DEPT_2, application=app_id)
    assert mine["handoff"]["from"] == "张三" and mine["handoff"]["reason"] == "本人出差，请张四审核"
    assert mine["handoff"]["stand_in_for"] is None
    assert api.tasks(DEPT_1, application=app_id) == []
    assert api.get(f"/tasks/{task['id']}", DEPT_1).status == 403
    r = api.complete(task["id"], DEPT_1, decision="approve", opinion="同意")
    assert r.status == 403, r
    # the colleague was told, with the application to open
    (note,) = messages(api, DEPT_2, "task_transferred")
    assert "张三" in note["text"] and note["application_id"] == app_id
    # audited, and on the timeline as 转办 with who to whom and why
    (event,) = audit(app, "task_transferred")
    assert event.actor_name == "张三" and event.detail["to"] == DEPT_2
    assert event.reason == "本人出差，请张四审核" and event.application_id == int(app_id)
    timeline = api.get(f"/applications/{app_id}", person["username"]).json["timeline"]
    (entry,) = [e for e in timeline if e["action"] == "task_transferred"]
    assert entry["note"] == "转办给 张四" and entry["actor"] == "张三"
    # the holder completes it; the assignment ends with the task
    r = api.complete(mine["id"], DEPT_2, decision="approve", opinion="同意", **CHECKS)
    assert r.status == 200, r
    with app.app_context():
        assert db.session.scalars(select(TaskTransfer)).all() == []
    (rec,) = api.tasks(DEPT_1, application=app_id)  # the next step is the org's again
    assert rec["name"] == "recommend" and rec["handoff"] is None


def test_the_holder_may_transfer_again_and_back(api):
    _unit, _person, app_id, task = at_first_level(api)
    assert transfer(api, task["id"]).status == 200
    # the transferor may no longer pass it on; the holder may, even back
    assert transfer(api, task["id"], as_user=DEPT_1, to=DEPT_2).status == 403
    r = transfer(api, task["id"], as_user=DEPT_2, to=DEPT_1, reason="已回岗，交还")
    assert r.status == 200, r
    assert [t["id"] for t in api.tasks(DEPT_1, application=app_id)] == [task["id"]]
    assert api.tasks(DEPT_2, application=app_id) == []


def test_transfer_refuses_bad_targets_and_input(api):
    _unit, _person, _app_id, task = at_first_level(api)
    cases = [
        ({"to": DEPT_2}, "reason"),
        ({"reason": "出差"}, "to"),
        ({"to": DEPT_1, "reason": "出差"}, "to"),  # oneself
        ({"to": "bl_water_1", "reason": "出差"}, "to"),  # another org
        ({"to": "yz_hrss_1", "reason": "出差"}, "to"),  # another org and role
        ({"to": "nobody_here", "reason": "出差"}, "to"),
        ({"to": ["yz_water_2"], "reason": "出差"}, "to"),
        ({"to": DEPT_2, "reason": "长" * 2001}, "reason"),
    ]
    for body, field in cases:
        r = api.post(f"/tasks/{task['id']}/transfer", DEPT_1, json=body)
        assert r.status == 422, (body, r)
        assert field in r.json["error"]["fields"], (body, r)
    r = api.post(f"/tasks/{task['id']}/transfer", DEPT_1, data="[", content_type="application/json")
    assert r.status == 400, r
    # nothing was transferred
    assert api.tasks(DEPT_1)[0]["handoff"] is None


def test_transfer_authorisation_and_unknown_or_done_tasks(api):
    _unit, _person, app_id, task = at_first_level(api)
    body = {"to": DEPT_2, "reason": "出差"}
    assert api.post(f"/tasks/{task['id']}/transfer", json=body).status == 401
    assert api.post(f"/tasks/{task['id']}/transfer", "bl_water_1", json=body).status == 403
    assert api.post("/tasks/no-such-task/transfer", DEPT_1, json=body).status == 404
    # candidates: the colleagues who may act on it
    r = api.get(f"/tasks/{task['id']}/transfer", DEPT_1)
    assert r.status == 200 and [c["username"] for c in r.json] == [DEPT_2], r
    assert api.get(f"/tasks/{task['id']}/transfer", "bl_water_1").status == 403
    # once done: 409
    level(api, CHAIN[0], app_id)
    r = api.post(f"/tasks/{task['id']}/transfer", DEPT_1, json=body)
    assert r.status == 409, r


def test_an_applicants_task_is_not_transferable(api, app):
    unit, person, app_id = application_at_unit_review(api)
    unit_approves(api, unit, app_id)
    level(api, CHAIN[0], app_id, decision="return")
    (task,) = api.tasks(person["username"], application=app_id)
    r = transfer(api, task["id"], as_user=person["username"], to=DEPT_2)
    assert r.status == 403, r
    assert api.get(f"/tasks/{task['id']}/transfer", person["username"]).json == []


# ----- 委派 --------------------------------------------------------------------------------


def next_day(api, clock):
    clock.advance(days=1)
    api.tokens.clear()  # tokens last hours, not days


def set_stand_in(api, as_user=DEPT_2, to=DEPT_1, start="2026-11-26", until="2026-11-30"):
    return api.put("/me/stand-in", as_user, json={"to": to, "from": start, "until": until})


def test_a_stand_in_sees_and_completes_within_the_range_only(api, app, clock):
    _unit, person, app_id, task = at_first_level(api)
    assert transfer(api, task["id"]).status == 200  # now 张四's
    r = set_stand_in(api, start="2026-11-27", until="2026-11-28")
    assert r.status == 200, r
    assert r.json["stand_in"] == {
        "username": DEPT_1,
        "name": "张三",
        "from": "2026-11-27",
        "until": "2026-11-28",
        "active": False,
    }
    # before the range: 张三 neither sees nor may complete 张四's task
    assert api.tasks(DEPT_1, application=app_id) == []
    assert api.complete(task["id"], DEPT_1, decision="approve", opinion="同意").status == 403
    next_day(api, clock)  # 2026-11-27 in China
    assert api.get("/me/stand-in", DEPT_1).json["standing_in_for"][0]["active"] is True
    (mine,) = api.tasks(DEPT_1, application=app_id)
    assert mine["handoff"]["stand_in_for"] == "张四"
    # a message to 张四 reaches 张三 too, marked for whom
    (note,) = messages(api, DEPT_1, "task_transferred")
    assert note["for"] == "张四"
    assert api.post(f"/me/messages/{note['id']}/read", DEPT_1).status == 200
    r = api.complete(task["id"], DEPT_1, decision="approve", opinion="同意", **CHECKS)
    assert r.status == 200, r
    (event,) = [e for e in audit(app, "approve") if e.task_name == "level_review"]
    assert event.actor_name == "张三" and event.detail["on_behalf_of"] == DEPT_2
    timeline = api.get(f"/applications/{app_id}", person["username"]).json["timeline"]
    (entry,) = [e for e in timeline if e["action"] == "approve" and e["task"] == "level_review"]
    assert entry["note"] == "代 张四 办理（委派）"


def test_a_stand_in_no_longer_acts_after_the_range_or_once_ended(api, app, clock):
    _unit, _person, app_id, task = at_first_level(api)
    assert transfer(api, task["id"]).status == 200
    assert set_stand_in(api, until="2026-11-26").status == 200
    assert [t["id"] for t in api.tasks(DEPT_1, application=app_id)] == [task["id"]]
    next_day(api, clock)
    assert api.tasks(DEPT_1, application=app_id) == []
    assert api.complete(task["id"], DEPT_1, decision="approve", opinion="同意").status == 403
    assert messages(api, DEPT_1, "task_transferred") == []
    assert api.get("/me/stand-in", DEPT_2).json["stand_in"] is None  # expired
    # ended early: gone at once
    assert set_stand_in(api, start="2026-11-27", until="2026-11-29").status == 200
    assert len(api.tasks(DEPT_1, application=app_id)) == 1
    r = api.call("DELETE", "/me/stand-in", DEPT_2)
    assert r.status == 200 and r.json["stand_in"] is None, r
    assert api.tasks(DEPT_1, application=app_id) == []
    assert api.call("DELETE", "/me/stand-in", DEPT_2).status == 404
    actions = [e.action for e in audit(app, "stand_in_set") + audit(app, "stand_in_ended")]
    assert actions == ["stand_in_set", "stand_in_set", "stand_in_ended"]
    assert [m["kind"] for m in messages(api, DEPT_1, "stand_in_ended")] == ["stand_in_ended"]


def test_stand_in_refuses_bad_input_and_chains(api):
    cases = [
        ({"to": DEPT_1, "from": "2026-11-26"}, "until"),
        ({"from": "2026-11-26", "until": "2026-11-27"}, "to"),
        ({"to": DEPT_1, "from": "26/11/2026", "until": "2026-11-27"}, "from"),
        ({"to": DEPT_1, "from": "2026-11-28", "until": "2026-11-27"}, "until"),
        ({"to": DEPT_1, "from": "2026-11-20", "until": "2026-11-25"}, "until"),  # past
        ({"to": DEPT_2, "from": "2026-11-26", "until": "2026-11-27"}, "to"),  # oneself
        ({"to": "bl_water_1", "from": "2026-11-26", "until": "2026-11-27"}, "to"),
        ({"to": "nobody_here", "from": "2026-11-26", "until": "2026-11-27"}, "to"),
        ({"to": 7, "from": "2026-11-26", "until": "2026-11-27"}, "to"),
    ]
    for body, field in cases:
        r = api.put("/me/stand-in", DEPT_2, json=body)
        assert r.status == 422 and field in r.json["error"]["fields"], (body, r)
    assert api.get("/me/stand-in", DEPT_2).json == {"stand_in": None, "standing_in_for": []}
    assert api.put("/me/stand-in", DEPT_2, data="x", content_type="application/json").status == 400
    # no chains: 张三 away, so not a stand-in then; and 张三 standing in cannot leave too
    assert set_stand_in(api, as_user=DEPT_1, to=DEPT_2, until="2026-11-27").status == 200
    r = set_stand_in(api, as_user=DEPT_2, to=DEPT_1)
    assert r.status == 422 and "to" in r.json["error"]["fields"], r
    r = set_stand_in(api, as_user=DEPT_2, to=DEPT_1, start="2026-11-28", until="2026-11-29")
    assert r.status == 200, r  # after 张三 is back
    r = set_stand_in(api, as_user=DEPT_1, to=DEPT_2, start="2026-11-28", until="2026-11-28")
    assert r.status == 422, r  # 张四 is away on the 28th


def test_stand_in_authorisation(api):
    body = {"to": DEPT_1, "from": "2026-11-26", "until": "2026-11-27"}
    assert api.put("/me/stand-in", json=body).status == 401
    assert api.get("/me/stand-in").status == 401
    assert api.call("DELETE", "/me/stand-in").status == 401
    _unit, person, _app_id = application_at_unit_review(api)
    r = api.put("/me/stand-in", person["username"], json=body)
    assert r.status == 403, r  # an applicant has no org tasks to hand over
    assert api.put("/me/stand-in", "designer_1", json=body).status == 403


def add_colleague(app, username="yz_water_3", name="张五"):
    """A third account of yz-water (same role and password as 张四)."""
    with app.app_context():
        like = db.session.scalars(select(User).where(User.username == DEPT_2)).one()
        db.session.add(
            User(
                username=username,
                password_hash=like.password_hash,
                role=like.role,
                org_id=like.org_id,
                name=name,
                active=True,
                created_at=like.created_at,
            )
        )
        db.session.commit()


def test_a_stand_in_may_not_name_a_stand_in_of_its_own_meanwhile(api, app):
    add_colleague(app)
    assert set_stand_in(api, as_user=DEPT_1, to=DEPT_2).status == 200  # 张四 stands in for 张三
    r = api.put(
        "/me/stand-in",
        DEPT_2,
        json={"to": "yz_water_3", "from": "2026-11-28", "until": "2026-12-02"},
    )
    assert r.status == 409 and r.json["error"]["code"] == "stand_in_chain", r
    assert "张三" in r.json["error"]["message"]
    r = api.put(
        "/me/stand-in",
        DEPT_2,
        json={"to": "yz_water_3", "from": "2026-12-01", "until": "2026-12-02"},
    )
    assert r.status == 200, r  # once 张三 is back


# ----- 抄送 --------------------------------------------------------------------------------


def test_copy_lets_recipients_read_but_not_act(api, app):
    _unit, person, app_id, _task = at_first_level(api)
    r = api.post(
        f"/applications/{app_id}/cc", DEPT_1, json={"to": ["nb_water_1"], "note": "请知悉"}
    )
    assert r.status == 200, r
    assert r.json["to"] == ["nb_water_1"] and r.json["note"] == "请知悉"
    # the recipient reads it, with no task on it
    r = api.get(f"/applications/{app_id}", "nb_water_1")
    assert r.status == 200, r
    assert api.tasks("nb_water_1", application=app_id) == []
    # a non-recipient of the same org level still cannot read it
    assert api.get(f"/applications/{app_id}", "bl_water_1").status == 403
    (note,) = messages(api, "nb_water_1", "application_cc")
    assert note["application_id"] == app_id and "请知悉" in note["text"]
    r = api.get("/me/cc", "nb_water_1")
    assert r.status == 200 and r.json["total"] == 1, r
    assert r.json["items"][0]["application_id"] == app_id and r.json["items"][0]["by"] == "张三"
    (event,) = audit(app, "application_cc")
    assert event.detail["to"] == ["nb_water_1"] and event.opinion == "请知悉"
    timeline = api.get(f"/applications/{app_id}", person["username"]).json["timeline"]
    (entry,) = [e for e in timeline if e["action"] == "application_cc"]
    assert entry["note"] == "抄送给 赵六"


def test_copy_refuses_outsiders_and_bad_input(api, app):
    _unit, person, app_id, _task = at_first_level(api)
    cases = [
        ({}, "to"),
        ({"to": []}, "to"),
        ({"to": [1]}, "to"),
        ({"to": ["bl_water_1"]}, "to"),  # not the unit, caller's org or chain
        ({"to": ["nobody_here"]}, "to"),
        ({"to": [person["username"]]}, "to"),  # an applicant: no
        ({"to": [DEPT_1]}, "to"),  # oneself
        ({"to": ["nb_water_1"], "note": 3}, "note"),
    ]
    for body, field in cases:
        r = api.post(f"/applications/{app_id}/cc", DEPT_1, json=body)
        assert r.status == 422 and field in r.json["error"]["fields"], (body, r)
    r = api.post(f"/applications/{app_id}/cc", DEPT_1, json={"to": ["bl_water_1", "nb_water_1"]})
    assert "bl_water_1" in r.json["error"]["fields"]["to"]
    assert "nb_water_1" not in r.json["error"]["fields"]["to"]
    assert audit(app, "application_cc") == []
    with app.app_context():
        assert (
            db.session.scalars(
                select(Notification).where(Notification.kind == "application_cc")
            ).all()
            == []
        )


def test_copy_authorisation_and_unknown_application(api):
    unit, person, app_id, _task = at_first_level(api)
    body = {"to": ["nb_water_1"]}
    assert api.post(f"/applications/{app_id}/cc", json=body).status == 401
    assert api.get("/me/cc").status == 401
    assert api.post(f"/applications/{app_id}/cc", "bl_water_1", json=body).status == 403
    # the applicant sees the application but may not copy it
    assert api.post(f"/applications/{app_id}/cc", person["username"], json=body).status == 403
    assert api.post("/applications/999999/cc", DEPT_1, json=body).status == 404
    assert api.get(f"/applications/{app_id}/cc", "bl_water_1").status == 403
    r = api.get(f"/applications/{app_id}/cc", DEPT_1)
    names = [c["username"] for c in r.json]
    assert unit["username"] in names and "nb_water_1" in names and DEPT_2 in names
    assert "bl_water_1" not in names and person["username"] not in names


def test_urging_a_transferred_task_reminds_its_holder_only(api):
    _unit, person, app_id, task = at_first_level(api)
    assert transfer(api, task["id"]).status == 200
    r = api.post(f"/applications/{app_id}/urge", person["username"])
    assert r.status == 200 and r.json["urged"] == 1, r
    assert len(messages(api, DEPT_2, "urge")) == 1
    assert messages(api, DEPT_1, "urge") == []  # no longer the org's
    # the holder has nobody to urge; the colleague who handed it on may urge the holder
    assert api.get(f"/applications/{app_id}", DEPT_2).json["can_urge"] is False
    assert api.post(f"/applications/{app_id}/urge", DEPT_2).status == 409
    assert api.get(f"/applications/{app_id}", DEPT_1).json["can_urge"] is True


def test_a_copy_alone_opens_the_application_for_reading(api, app):
    """Every recipient the API accepts also sees the application by its role today; a copy row
    still opens it on its own (for reading only), as for an org that left the chain."""
    _unit, _person, app_id, _task = at_first_level(api)
    assert api.get(f"/applications/{app_id}", "bl_water_1").status == 403
    with app.app_context():
        reader = db.session.scalars(select(User).where(User.username == "bl_water_1")).one()
        by = db.session.scalars(select(User).where(User.username == DEPT_1)).one()
        db.session.add(
            ApplicationCopy(
                application_id=int(app_id), user_id=reader.id, by_id=by.id, at=by.created_at
            )
        )
        db.session.commit()
    r = api.get(f"/applications/{app_id}", "bl_water_1")
    assert r.status == 200 and r.json["can_urge"] is False, r
    assert api.post(f"/applications/{app_id}/urge", "bl_water_1").status == 403
    assert api.post(f"/applications/{app_id}/cc", "bl_water_1", json={"to": [DEPT_2]}).status == 403
    assert api.get("/me/cc", "bl_water_1").json["total"] == 1
    page = signed_in(app, "bl_water_1")
    r = page.get(f"/applications/{app_id}")
    html = text(r)
    assert r.status_code == 200 and "办理记录" in html
    assert 'id="withdraw-button"' not in html and 'id="cc-button"' not in html
