"""Connections: a lone read runs outside a transaction without leaking autocommit into the
pool, a connection the server dropped answers 503 with nothing written, and a duplicate the
database's unique constraint refused answers 409."""

from __future__ import annotations

import threading

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError, OperationalError

from engine import ConflictError
from storage import ApiToken, SqlUnitOfWork, User, db, read_first, session_factory
from tests.flows import id_number, register_unit


def test_a_lone_read_leaves_its_connection_transactional(app, api):
    api.login("admin")  # a token to look up
    with app.app_context():
        engine = db.engine
    with SqlUnitOfWork(session_factory(engine)) as uow:
        row = read_first(uow.session, select(ApiToken.user_id))
        raw = uow.session.connection().connection.dbapi_connection
        if engine.dialect.name == "postgresql":
            assert raw.autocommit is True  # no BEGIN / ROLLBACK for this read
    assert row is not None
    # back in the pool, the connection opens transactions again for the next unit of work
    if engine.dialect.name == "postgresql":
        assert raw.autocommit is False
    else:
        assert raw.isolation_level is not None


def test_a_dropped_connection_answers_503_and_any_other_database_error_500(app, api, monkeypatch):
    def dropped(*args, **kwargs):
        raise OperationalError(
            "SELECT human_task ...",
            {},
            Exception("server closed the connection unexpectedly"),
            connection_invalidated=True,
        )

    monkeypatch.setattr(app.extensions["tasks"], "list_tasks", dropped)
    r = api.get("/tasks", "admin")
    assert r.status == 503
    assert r.json["error"] == {
        "code": "database_unavailable",
        "message": "数据库连接中断，本次操作未保存，请重试",
    }

    def broken(*args, **kwargs):
        raise OperationalError("SELECT 1", {}, Exception("syntax error"))

    monkeypatch.setattr(app.extensions["tasks"], "list_tasks", broken)
    r = api.get("/tasks", "admin")
    assert r.status == 500 and r.json["error"]["code"] == "internal_error"


def _applicant_body(unit: dict, n: int) -> dict:
    return {
        "name": "两次",
        "id_number": id_number(n),
        "phone": "13800138000",
        "unit_id": unit["unit_id"],
        "username": f"twice_{n}",
        "password": f"Twice-Pass-{n}",
    }


def test_a_duplicate_the_database_refused_answers_409_in_chinese(app, api, monkeypatch):
    # What the loser of two registrations at once meets: the unique constraint.
    def duplicate(*args, **kwargs):
        raise IntegrityError(
            "INSERT INTO app_user ...", {}, Exception("UNIQUE constraint failed: app_user.username")
        )

    monkeypatch.setattr(app.extensions["applicants"], "register_applicant", duplicate)
    r = api.post("/applicants/register", json=_applicant_body(register_unit(api), 9001))
    assert r.status == 409
    assert r.json["error"] == {
        "code": "conflict",
        "message": "该内容已存在，或刚被他人同时提交，本次操作未保存，请刷新后查看",
    }


def test_two_registrations_at_once_leave_one_account(app, api):
    body = _applicant_body(register_unit(api), 9002)
    applicants = app.extensions["applicants"]
    start, outcomes = threading.Barrier(2), []

    def register() -> None:
        start.wait()
        try:
            applicants.register_applicant(dict(body))
            outcomes.append("registered")
        except (ConflictError, IntegrityError):  # the check, or the constraint behind it
            outcomes.append("refused")

    threads = [threading.Thread(target=register) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(outcomes) == ["refused", "registered"], outcomes
    with app.app_context():
        assert db.session.scalar(select(func.count()).where(User.username == "twice_9002")) == 1
