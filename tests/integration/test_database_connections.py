"""Connections: a lone read runs outside a transaction without leaking autocommit into the
pool, and a connection the server dropped answers 503 with nothing written."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from storage import ApiToken, SqlUnitOfWork, db, read_first, session_factory


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
