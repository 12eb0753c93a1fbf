"""The suite's starting state (tests/dbstate.py): what a test writes is gone for the next."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from storage import AuditEvent, Org, ProcessCurrent, ProcessVersion, User, db
from tests.dbstate import ALL, written_table
from tests.samples import process


@pytest.mark.parametrize(
    ("statement", "table"),
    [
        ('INSERT INTO "app_user" (username) VALUES (?)', "app_user"),
        ("insert or replace into org (id) values (?)", "org"),
        ("UPDATE audit_chain_head SET seq=(audit_chain_head.seq + ?)", "audit_chain_head"),
        ("DELETE FROM public.timer WHERE timer.id = %(id)s", "timer"),
        ("SELECT app_user.id FROM app_user", None),
        ("PRAGMA foreign_keys=ON", None),
        ("CREATE TABLE x (id integer)", ALL),
        ("WITH moved AS (DELETE FROM timer RETURNING id) SELECT 1", ALL),
    ],
)
def test_a_statement_names_the_table_it_writes(statement, table):
    assert written_table(statement) == table


def test_what_a_test_deploys_and_writes_is_put_back(app, seed):
    def state():
        with app.app_context():
            s = db.session
            return {
                "versions": s.scalars(select(ProcessVersion.id).order_by(ProcessVersion.id)).all(),
                "current": s.scalars(
                    select(ProcessCurrent.process_id).order_by(ProcessCurrent.process_id)
                ).all(),
                "audit": s.scalar(select(func.count()).select_from(AuditEvent)),
                "users": s.scalars(select(User.name).order_by(User.id)).all(),
                "orgs": s.scalar(select(func.count()).select_from(Org)),
            }

    before = state()
    assert len(before["versions"]) == 3 and before["users"]
    deploy = app.extensions["deployments"].deploy
    with app.app_context():
        deploy({"sample.bpmn": process("sample")}, actor="tests")
        db.session.execute(db.update(User).values(name="改名"))
        db.session.commit()
    changed = state()
    assert changed != before and "sample" in changed["current"]
    with app.app_context(), db.engine.begin() as conn:
        seed.baseline.restore(conn, seed.written.tables)
    assert state() == before
    with app.app_context():  # the next ids are the same again
        deploy({"sample.bpmn": process("sample")}, actor="tests")
    assert state()["versions"] == changed["versions"]
