"""Account lockout, failure-only address limits, revocable tokens, registration limits."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from engine import InvalidDataError
from storage import AuditEvent, db
from tests import flows
from tests.conftest import START
from tests.helpers import PASSWORDS, Api
from tests.page_helpers import signed_in, text
from web import create_app

OTHER_ADDRESS = {"REMOTE_ADDR": "10.0.0.2"}


def _token(api: Api, username: str, password: str, **kw):
    return api.post("/auth/token", json={"username": username, "password": password}, **kw)


def _audit(app, action: str) -> list[AuditEvent]:
    with app.app_context():
        rows = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
        ).all()
        db.session.expunge_all()
        return list(rows)


# ----- API tokens ----------------------------------------------------------------------------
def test_a_token_says_when_it_expires(api):
    r = _token(api, "yz_water_1", "yzw-Pass-1")
    assert r.status == 200 and set(r.json) >= {"token", "expires_at", "user"}
    expires = datetime.fromisoformat(r.json["expires_at"])
    assert expires.tzinfo is not None and expires == START + timedelta(hours=12)


def test_delete_revokes_the_calling_token_only(app, api):
    first = _token(api, "yz_water_1", "yzw-Pass-1").json["token"]
    second = _token(api, "yz_water_1", "yzw-Pass-1").json["token"]
    bearer = {"Authorization": f"Bearer {first}"}
    assert api.get("/me", headers=dict(bearer)).status == 200

    r = api.call("DELETE", "/auth/token", headers=dict(bearer))
    assert r.status == 204 and r.json == b""
    r = api.get("/me", headers=dict(bearer))
    assert r.status == 401 and r.json["error"]["code"] == "unauthorized"
    assert api.call("DELETE", "/auth/token", headers=dict(bearer)).status == 401
    assert api.get("/me", headers={"Authorization": f"Bearer {second}"}).status == 200
    [event] = _audit(app, "token_revoked")
    assert event.actor_name == "张三"


def test_delete_token_needs_a_valid_token(api):
    assert api.call("DELETE", "/auth/token").status == 401
    r = api.call("DELETE", "/auth/token", headers={"Authorization": "Bearer forged"})
    assert r.status == 401 and r.json["error"]["code"] == "unauthorized"


# ----- lockout ---------------------------------------------------------------------------------
def test_five_wrong_passwords_lock_the_account_for_15_minutes(app, api, clock):
    for _ in range(4):
        r = _token(api, "yz_water_1", "wrong-Pass-1")
        assert r.status == 401 and r.json["error"]["code"] == "bad_credentials"
    r = _token(api, "yz_water_1", "wrong-Pass-1")
    assert r.status == 429 and r.json["error"]["code"] == "account_locked"
    assert "15 分钟后再试" in r.json["error"]["message"]

    clock.advance(minutes=10)
    r = api.client.post(
        "/api/v1/auth/token", json={"username": "yz_water_1", "password": "yzw-Pass-1"}
    )
    assert r.status_code == 429 and r.headers["Retry-After"] == "300"
    assert "账户已锁定，请 5 分钟后再试" in r.get_json()["error"]["message"]
    assert _token(api, "yz_water_2", "yzw-Pass-2").status == 200  # per account

    clock.advance(minutes=5)
    assert _token(api, "yz_water_1", "yzw-Pass-1").status == 200
    # The count starts again from zero after the lock.
    for _ in range(4):
        assert _token(api, "yz_water_1", "wrong-Pass-1").status == 401
    assert len(_audit(app, "account_locked")) == 1
    assert len(_audit(app, "login_failed")) == 5 + 1 + 4


def test_a_successful_sign_in_resets_the_count(api):
    for _ in range(4):
        assert _token(api, "yz_water_1", "wrong-Pass-1").status == 401
    assert _token(api, "yz_water_1", "yzw-Pass-1").status == 200
    for _ in range(4):
        assert _token(api, "yz_water_1", "wrong-Pass-1").status == 401
    assert _token(api, "yz_water_1", "wrong-Pass-1").status == 429  # five in a row


def test_the_login_page_tells_a_locked_account_the_time_left(app, clock):
    client = app.test_client()
    for _ in range(4):
        r = client.post("/login", data={"username": "yz_hrss_1", "password": "nope-Nope-1"})
        assert r.status_code == 401 and "用户名或密码错误" in text(r)
    r = client.post("/login", data={"username": "yz_hrss_1", "password": "nope-Nope-1"})
    assert r.status_code == 429 and "账户已锁定，请 15 分钟后再试" in text(r)
    clock.advance(minutes=1, seconds=30)
    r = client.post("/login", data={"username": "yz_hrss_1", "password": PASSWORDS["yz_hrss_1"]})
    assert r.status_code == 429 and "请 14 分钟后再试" in text(r)
    assert r.headers["Retry-After"] == str(13 * 60 + 30)
    clock.advance(minutes=14)
    assert signed_in(app, "yz_hrss_1").get("/tasks").status_code == 200


def test_workers_share_the_failure_count(app, api):
    """Two app processes on one database (as gunicorn workers) count into the same lock."""
    keys = ("DATABASE_URL", "TESTING", "CLOCK", "FILES_DIR", "PASSWORD_SCRYPT_N")
    other = Api(create_app({**{k: app.config[k] for k in keys}, "RATELIMIT_ENABLED": False}))
    for client in (api, other, api, other):
        assert _token(client, "nb_water_1", "wrong-Pass-1").status == 401
    assert _token(other, "nb_water_1", "wrong-Pass-1").status == 429
    assert _token(api, "nb_water_1", PASSWORDS["nb_water_1"]).status == 429
    with other.app.app_context():
        db.engine.dispose()


# ----- per-address limits ------------------------------------------------------------------------
@pytest.mark.app_config(RATELIMIT_ENABLED=True)
def test_an_office_behind_one_address_signs_in_freely(app, api):
    """Eleven colleagues behind one address sign in within a minute, on the page and by API."""
    users = [*list(PASSWORDS)[:9], "admin", "yz_water_1"]
    for username in users:
        assert signed_in(app, username).get("/tasks").status_code == 200
    for username in users:
        assert _token(api, username, PASSWORDS[username]).status == 200


@pytest.mark.app_config(RATELIMIT_ENABLED=True)
def test_failures_from_one_address_are_limited(app, api):
    for i in range(10):  # two wrong guesses at each of five accounts: none is locked
        username = list(PASSWORDS)[i // 2]
        assert _token(api, username, "guess-Pass-1").status == 401
    r = _token(api, "yz_water_1", "yzw-Pass-1")
    assert r.status == 429 and r.json["error"]["code"] == "rate_limited"
    assert r.json["error"]["message"] == "登录失败次数过多，请稍后再试"
    r = app.test_client().post("/login", data={"username": "admin", "password": "x"})
    assert r.status_code == 429 and "登录失败次数过多" in text(r)
    # Another address, and the accounts themselves, are not affected.
    assert _token(api, "yz_water_1", "yzw-Pass-1", environ_base=OTHER_ADDRESS).status == 200


@pytest.mark.app_config(RATELIMIT_ENABLED=True, REGISTER_RATE_LIMIT="5 per hour")
def test_registration_is_rate_limited_per_address(app, api):
    body = {"name": "某单位", "credit_code": "bad", "dept_org_id": "yz-water"}
    for _ in range(3):
        assert api.post("/units/register", json=body).status == 422
    page = app.test_client()
    assert page.post("/register/applicant", data={"name": "王五"}).status_code == 422
    assert page.post("/register/unit", data={"name": "某单位"}).status_code == 422
    r = api.post("/applicants/register", json=body)
    assert r.status == 429 and r.json["error"]["code"] == "rate_limited"
    assert r.json["error"]["message"] == "注册过于频繁，请稍后再试"
    r = page.post("/register/unit", data={"name": "某单位"})
    assert r.status_code == 429 and "注册过于频繁" in text(r)
    other = api.post("/units/register", json=body, environ_base=OTHER_ADDRESS)
    assert other.status == 422


# ----- password policy ---------------------------------------------------------------------------
def _unit_body(n: int, **changes: str) -> dict[str, str]:
    return {
        "name": f"宁波策略测试院{n}",
        "credit_code": flows.credit_code(700 + n),
        "dept_org_id": "yz-water",
        "contact": "陈工",
        "phone": "0574-87654321",
        "username": f"policy_unit{n}",
        "password": "Zp-review-7",
        **changes,
    }


@pytest.mark.parametrize(
    ("password", "why"),
    [
        ("Ab1-xyz", "至少 8 位"),
        ("abcdefgh1", "至少三类"),
        ("policy_unit1-X", "用户名"),
        ("Passw0rd!", "常见"),
        ("Aa123456", "常见"),
    ],
)
def test_registration_refuses_weak_passwords(api, password, why):
    r = api.post("/units/register", json=_unit_body(1, password=password))
    assert r.status == 422 and why in r.json["error"]["fields"]["password"]


def test_the_register_page_refuses_a_weak_password_next_to_the_field(app, api):
    unit = flows.register_unit(api)
    form = {
        "name": "周页面",
        "id_number": flows.id_number(705),
        "phone": "13800138000",
        "unit_id": unit["unit_id"],
        "username": "page_weak",
        "password": "qwer1234",
    }
    r = app.test_client().post("/register/applicant", data=form)
    assert r.status_code == 422 and 'id="password-error"' in text(r)
    r = app.test_client().post("/register/applicant", data={**form, "password": "Qz-river-88"})
    assert r.status_code == 302


@pytest.mark.parametrize(
    ("user", "org_name", "field", "why"),
    [
        ({"password": "weakpass1"}, "鄞州区水利", "users[0].password", "至少三类"),
        ({"password": "Yz3-pass-9"}, "鄞州区水利", "users[0].password", "用户名"),
        ({"password": 12345678}, "鄞州区水利", "users[0].password", "文字"),
        ({"name": "张\u200b三"}, "鄞州区水利", "users[0].name", "不可见"),
        ({"username": "yz\u202e3"}, "鄞州区水利", "users[0].username", "不可见"),
        ({}, "鄞州区\u200d水利", "orgs[0].name", "不可见"),
    ],
)
def test_org_files_meet_the_same_rules(app, user, org_name, field, why):
    doc = {
        "orgs": [{"id": "yz-water", "name": org_name, "kind": "dept", "parent": "yz-hrss"}],
        "users": [
            {
                "username": "yz3",
                "password": "Qz-river-88",
                "role": "dept",
                "org": "yz-water",
                **user,
            }
        ],
    }
    with app.app_context(), pytest.raises(InvalidDataError) as caught:
        app.extensions["accounts"].load_orgs(doc)
    assert why in caught.value.fields[field]


def test_org_files_load_names_in_canonical_form(app, api):
    user = {
        "username": " ＹＺ_Three ",
        "password": "Qz-river-88",
        "role": "dept",
        "org": "yz-water",
    }
    with app.app_context():
        app.extensions["accounts"].load_orgs({"orgs": [], "users": [user]})
        again = app.extensions["accounts"].load_orgs({"orgs": [], "users": [user]})
    assert again["users_created"] == again["users_updated"] == 0
    r = _token(api, "yz_three", "Qz-river-88")
    assert r.status == 200 and r.json["user"]["username"] == "yz_three"


# ----- account-name hygiene -------------------------------------------------------------------
def test_look_alike_usernames_cannot_make_a_second_account(api):
    assert api.post("/units/register", json=_unit_body(2, username="lookalike")).status == 201
    for n, twin in enumerate(
        [" lookalike ", "ＬＯＯＫＡＬＩＫＥ", "LookAlike", "lookalike\u3000"], 3
    ):
        r = api.post("/units/register", json=_unit_body(n, username=twin))
        assert r.status == 409 and r.json["error"]["code"] == "username_taken", twin
    r = _token(api, "  ＬｏｏｋＡｌｉｋｅ ", "Zp-review-7")
    assert r.status == 200 and r.json["user"]["username"] == "lookalike"


def test_padded_and_full_width_names_are_stored_in_canonical_form(api):
    body = _unit_body(8, username="  ｐａｄｄｅｄ_unit ", name=" 宁波　规范测试院（甬江） ")
    assert api.post("/units/register", json=body).status == 201
    r = _token(api, "padded_unit", "Zp-review-7")
    assert r.status == 200 and r.json["user"]["username"] == "padded_unit"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("username", "look\u200balike"),
        ("username", "\ufeffbomuser"),
        ("username", "rtl\u202euser"),
        ("name", "宁波\u200d设计院"),
        ("name", "宁波\u202e院计设"),
        ("contact", "陈\u2066工"),
        ("name", "宁波\u200e设计院"),
    ],
)
def test_invisible_and_bidi_characters_are_refused_on_the_field(api, field, value):
    r = api.post("/units/register", json=_unit_body(9, **{field: value}))
    assert r.status == 422 and "不可见" in r.json["error"]["fields"][field]


def test_applicant_names_are_checked_the_same_way(api):
    unit = flows.register_unit(api)
    body = {
        "name": "张\u200b三",
        "id_number": flows.id_number(706),
        "phone": "13800138000",
        "unit_id": unit["unit_id"],
        "username": "applicant_zw",
        "password": "Qz-river-88",
    }
    r = api.post("/applicants/register", json=body)
    assert r.status == 422 and "不可见" in r.json["error"]["fields"]["name"]
    r = api.post(
        "/applicants/register", json={**body, "name": "张三", "username": unit["username"].upper()}
    )
    assert r.status == 409 and r.json["error"]["code"] == "username_taken"


@pytest.mark.parametrize("username", ["yz_water_1\\u0000", "\\ud800yz"])
def test_nul_and_lone_surrogates_in_a_sign_in_name_are_refused_before_sign_in(app, api, username):
    # The input guard refuses them for every request; no sign-in is attempted or audited.
    body = '{"username": "' + username + '", "password": "yzw-Pass-1"}'
    r = api.post("/auth/token", data=body, content_type="application/json")
    assert r.status == 400 and r.json["error"]["code"] == "bad_request"
    assert _audit(app, "login_failed") == []
    if "ud800" not in username:  # a form cannot carry a lone surrogate
        typed = json.loads(f'"{username}"')
        r = app.test_client().post("/login", data={"username": typed, "password": "yzw-Pass-1"})
        assert r.status_code == 400


def test_invisible_characters_in_a_sign_in_name_are_just_wrong_credentials(app, api):
    body = '{"username": "yz_water_1\\u200b", "password": "yzw-Pass-1"}'
    r = api.post("/auth/token", data=body, content_type="application/json")
    assert r.status == 401
    assert _audit(app, "login_failed")[0].detail["username"].isascii()
    r = app.test_client().post(
        "/login", data={"username": "yz_water_1\u200b", "password": "yzw-Pass-1"}
    )
    assert r.status_code == 401
