"""Browser sessions live on the server: logout, rotation at sign-in, idle and absolute limits."""

from __future__ import annotations

import json
import re

import pytest
from sqlalchemy import select

from storage import AuditEvent, WebSession, db
from tests.conftest import FIXTURES
from tests.page_helpers import signed_in, text

COOKIE = "session"
OPAQUE_ID = re.compile(r"[A-Za-z0-9_-]{43}")


def _cookie(client) -> str | None:
    cookie = client.get_cookie(COOKIE)
    return cookie.value if cookie else None


def _with_cookie(app, value: str):
    client = app.test_client()
    client.set_cookie(COOKIE, value)
    return client


def _csrf(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def _actions(app) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


def test_a_cookie_copied_before_logout_opens_nothing_after_it(app):
    person = signed_in(app, "yz_water_1")
    copied = _cookie(person)
    thief = _with_cookie(app, copied)
    assert thief.get("/tasks").status_code == 200

    r = person.post("/logout")
    assert r.status_code == 302 and r.location.endswith("/login")
    assert _cookie(person) is None
    for client in (thief, _with_cookie(app, copied)):
        r = client.get("/tasks")
        assert r.status_code == 302 and "/login" in r.location
    assert "logout" in _actions(app)


def test_the_cookie_is_only_an_opaque_id_that_names_no_user(app):
    person = signed_in(app, "yz_water_1")
    value = _cookie(person)
    assert OPAQUE_ID.fullmatch(value), value
    assert "yz_water_1" not in value and "_user_id" not in value


@pytest.mark.app_config(WTF_CSRF_ENABLED=True)
def test_the_session_id_rotates_at_sign_in(app):
    client = app.test_client()
    token = _csrf(text(client.get("/login")))
    before = _cookie(client)
    assert before and OPAQUE_ID.fullmatch(before)

    r = client.post(
        "/login", data={"username": "yz_water_1", "password": "yzw-Pass-1", "csrf_token": token}
    )
    assert r.status_code == 302
    after = _cookie(client)
    assert after and OPAQUE_ID.fullmatch(after) and after != before
    assert client.get("/tasks").status_code == 200
    # The pre-login id never becomes a signed-in session.
    r = _with_cookie(app, before).get("/tasks")
    assert r.status_code == 302 and "/login" in r.location


def test_a_planted_session_id_is_replaced_at_sign_in(app):
    planted = "A" * 43
    victim = _with_cookie(app, planted)
    r = victim.post("/login", data={"username": "yz_water_1", "password": "yzw-Pass-1"})
    assert r.status_code == 302
    assert _cookie(victim) != planted
    assert _with_cookie(app, planted).get("/tasks").status_code == 302


def test_idle_timeout_sends_the_page_user_to_login_with_a_message(app, clock):
    person = signed_in(app, "yz_water_1")
    for _ in range(3):  # activity keeps the session alive past 30 minutes in total
        clock.advance(minutes=29)
        assert person.get("/tasks").status_code == 200

    clock.advance(minutes=31)
    r = person.get("/tasks?name=level_review")
    assert r.status_code == 302 and "/login" in r.location and "next=" in r.location
    page = text(person.get(r.location))
    assert "您已超过 30 分钟未操作，登录已失效，请重新登录" in page
    assert person.get("/tasks").status_code == 302  # the old id stays dead
    assert "session_expired" in _actions(app)


@pytest.mark.app_config(SESSION_IDLE_MINUTES=5)
def test_idle_timeout_follows_the_setting(app, clock):
    person = signed_in(app, "yz_water_1")
    clock.advance(minutes=4)
    assert person.get("/tasks").status_code == 200
    clock.advance(minutes=6)
    r = person.get("/tasks")
    assert r.status_code == 302 and "5 分钟未操作" in text(person.get(r.location))


def test_a_busy_session_still_ends_after_its_absolute_lifetime(app, clock):
    person = signed_in(app, "yz_water_1")
    for _ in range(35):  # 11 h 40 min of steady work
        clock.advance(minutes=20)
        assert person.get("/tasks").status_code == 200
    clock.advance(minutes=20)
    r = person.get("/tasks")
    assert r.status_code == 302
    assert "登录已超过 12 小时，请重新登录" in text(person.get(r.location))
    assert signed_in(app, "yz_water_1").get("/tasks").status_code == 200


@pytest.mark.app_config(WTF_CSRF_ENABLED=True)
def test_csrf_still_guards_sign_in_and_forms(app):
    client = app.test_client()
    token = _csrf(text(client.get("/login")))
    form = {"username": "yz_water_1", "password": "yzw-Pass-1"}
    assert client.post("/login", data=form).status_code == 400
    assert client.post("/login", data={**form, "csrf_token": token}).status_code == 302
    assert client.post("/logout").status_code == 400  # no token: still signed in
    assert client.get("/tasks").status_code == 200
    token = _csrf(text(client.get("/tasks")))
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302
    assert client.get("/tasks").status_code == 302


def test_a_new_password_from_the_org_file_ends_sessions_and_tokens(app, api):
    person = signed_in(app, "yz_water_1")
    api.login("yz_water_1")
    assert api.get("/me", "yz_water_1").status == 200
    doc = json.loads((FIXTURES / "orgs.json").read_text())
    for user in doc["users"]:
        if user["username"] == "yz_water_1":
            user["password"] = "New-yzw-Pass-2"
    with app.app_context():
        app.extensions["accounts"].load_orgs(doc)
    assert person.get("/tasks").status_code == 302
    assert api.get("/me", "yz_water_1").status == 401
    assert signed_in(app, "yz_water_1", "New-yzw-Pass-2").get("/tasks").status_code == 200


def _rows(app) -> int:
    with app.app_context():
        return len(db.session.scalars(select(WebSession.id)).all())


def test_unused_and_ended_rows_are_swept(app, clock):
    app.test_client().get("/login")  # a visitor who never signs in
    person = signed_in(app, "yz_water_1")
    person.post("/logout")
    assert _rows(app) == 2
    clock.advance(minutes=31)
    app.test_client().get("/login")  # the idle pre-login row goes; the ended one stays a day
    assert _rows(app) == 2
    clock.advance(days=1)
    app.test_client().get("/login")
    assert _rows(app) == 1


@pytest.mark.app_config(WTF_CSRF_ENABLED=True)
def test_a_form_posted_after_the_timeout_leads_to_login_not_a_csrf_error(app, clock):
    client = app.test_client()
    token = _csrf(text(client.get("/login")))
    form = {"username": "yz_water_1", "password": "yzw-Pass-1", "csrf_token": token}
    assert client.post("/login", data=form).status_code == 302
    token = _csrf(text(client.get("/tasks")))
    clock.advance(minutes=45)
    r = client.post("/logout", data={"csrf_token": token})
    assert r.status_code == 302 and r.location.endswith("/login")
    assert "30 分钟未操作" in text(client.get(r.location))
