"""The audit trail is hash-chained: every writer goes through the chain, concurrent appends
stay in one chain, and `audit verify` names the first broken link."""

from __future__ import annotations

import io
import itertools
import threading
from datetime import timedelta

import pytest
from click.testing import CliRunner
from flask import Flask
from sqlalchemy import delete, func, select, text, update

from engine.audit import audit_event
from run import cli
from storage import GENESIS, AuditAppendOnlyError, AuditChainHead, AuditEvent, db, row_hash
from tests.flows import DOSSIER, register_applicant, register_unit
from tests.samples import process


def _some_history(api) -> None:
    """Deploys, a promote, a dossier review, operator actions: writers all over the engine."""
    for script in ("x = 1", "x = 2"):
        data = {"files": [(io.BytesIO(process(script=script)), "sample.bpmn")]}
        api.post("/specs/deploy", "designer_1", data=data, content_type="multipart/form-data")
    api.post("/specs/sample/1/promote", "designer_1", json={"reason": "回退"})
    unit = register_unit(api)
    person = register_applicant(api, unit, approve_dossier=False)
    api.put("/me/dossier", person["username"], json=DOSSIER)
    api.post("/me/dossier/submit", person["username"])
    inst = api.post(
        "/specs/sample/instances", "admin", json={"data": {"unit_org_id": unit["unit_id"]}}
    ).json["instance_id"]
    api.post(f"/ops/instances/{inst}/suspend", "admin", json={"reason": "核查"})
    api.post(f"/ops/instances/{inst}/terminate", "admin", json={"reason": "测试结束"})


def _verify(app: Flask):
    with app.app_context():
        return app.extensions["audit_log"].verify_audit()


def _ids(app: Flask) -> list[int]:
    with app.app_context():
        return db.session.scalars(select(AuditEvent.id).order_by(AuditEvent.seq)).all()


def _sql(app: Flask, statement) -> None:
    with app.app_context():
        db.session.execute(statement)
        db.session.commit()


@pytest.fixture
def verify_cli(database_url, monkeypatch):
    monkeypatch.setenv("ZHIPING_DATABASE_URL", database_url)

    def run():
        return CliRunner().invoke(cli, ["audit", "verify"])

    return run


def test_normal_flows_leave_an_intact_chain(app, api, verify_cli):
    _some_history(api)
    check = _verify(app)
    with app.app_context():
        rows = db.session.scalars(select(AuditEvent).order_by(AuditEvent.seq)).all()
        head = db.session.get(AuditChainHead, 1)
        actions = {r.action for r in rows}
    assert {"deploy", "promote", "start", "suspend", "terminate"} <= actions
    assert check.intact and check.count == len(rows) > 10
    assert [r.seq for r in rows] == list(range(1, len(rows) + 1))
    assert rows[0].prev_hash == GENESIS
    assert all(b.prev_hash == a.hash for a, b in itertools.pairwise(rows))
    assert (head.seq, head.last_hash) == (len(rows), rows[-1].hash)
    result = verify_cli()
    assert result.exit_code == 0, result.output
    assert f"audit chain intact: {len(rows)} events, head {rows[-1].hash}" in result.output


def test_the_hash_covers_every_field_in_canonical_json(app, api):
    _some_history(api)
    with app.app_context():
        row = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "promote")).one()
        values = {c.key: getattr(row, c.key) for c in AuditEvent.__table__.columns}
    assert row_hash(values) == row.hash
    for column in ("reason", "actor_name", "action", "seq", "prev_hash", "at", "detail"):
        changed = dict(values)
        changed[column] = (
            values[column] + timedelta(seconds=1)
            if column == "at"
            else {**values[column], "to_version": 2}
            if column == "detail"
            else values[column] + 1
            if column == "seq"
            else values[column] + "x"
        )
        assert row_hash(changed) != row.hash, column
    assert row_hash({**values, "id": 999}) == row.hash  # the id only locates the row


def test_a_field_changed_in_sql_is_named(app, api, verify_cli):
    _some_history(api)
    target = _ids(app)[4]
    _sql(app, update(AuditEvent).where(AuditEvent.id == target).values(reason="篡改"))
    check = _verify(app)
    assert not check.intact and check.broken_row == target and check.count == 4
    assert "altered" in check.problem
    result = verify_cli()
    assert result.exit_code == 1
    assert f"audit chain broken at row id {target} (after 4 intact events)" in result.output


def test_a_row_rewritten_with_a_fresh_hash_breaks_the_next_link(app, api):
    _some_history(api)
    ids = _ids(app)
    with app.app_context():
        row = db.session.get(AuditEvent, ids[3])
        values = {c.key: getattr(row, c.key) for c in AuditEvent.__table__.columns}
    values["actor_name"] = "别人"
    _sql(
        app,
        update(AuditEvent)
        .where(AuditEvent.id == ids[3])
        .values(actor_name="别人", hash=row_hash(values)),
    )
    check = _verify(app)
    assert check.broken_row == ids[4] and "prev_hash" in check.problem


def test_a_deleted_row_is_named_as_a_gap(app, api, verify_cli):
    _some_history(api)
    ids = _ids(app)
    _sql(app, delete(AuditEvent).where(AuditEvent.id == ids[6]))
    check = _verify(app)
    assert check.broken_row == ids[7]
    assert "gap: seq 7 missing" in check.problem
    result = verify_cli()
    assert result.exit_code == 1 and f"row id {ids[7]}" in result.output and "gap" in result.output


def test_deleting_the_last_rows_is_noticed_at_the_head(app, api, verify_cli):
    _some_history(api)
    ids = _ids(app)
    _sql(app, delete(AuditEvent).where(AuditEvent.id.in_(ids[-2:])))
    check = _verify(app)
    assert check.broken_row is None and check.count == len(ids) - 2
    assert f"head records seq {len(ids)}" in check.problem
    result = verify_cli()
    assert result.exit_code == 1 and "chain end" in result.output


def test_stored_events_cannot_be_changed_or_deleted_through_the_orm(app, api):
    _some_history(api)
    with app.app_context():
        row = db.session.scalars(select(AuditEvent).limit(1)).one()
        row.reason = "改一下"
        with pytest.raises(AuditAppendOnlyError):
            db.session.flush()
        db.session.rollback()
        db.session.delete(db.session.scalars(select(AuditEvent).limit(1)).one())
        with pytest.raises(AuditAppendOnlyError):
            db.session.flush()
        db.session.rollback()
    assert _verify(app).intact


def test_concurrent_appends_stay_in_one_chain(app):
    """Eight transactions flush and commit audit rows at the same moment (PostgreSQL: real
    concurrency; the head row lock makes them queue, so no two take the same place)."""
    threads_n, per_thread = 8, 5
    barrier = threading.Barrier(threads_n, timeout=30)
    errors: list[BaseException] = []

    def append(n: int) -> None:
        try:
            with app.app_context():
                now = app.extensions["runtime"].clock()
                for i in range(per_thread):
                    db.session.add(audit_event(now, None, "probe", reason=f"{n}-{i}"))
                barrier.wait()
                db.session.commit()
        except BaseException as exc:  # reported below, in the test's thread
            errors.append(exc)

    workers = [threading.Thread(target=append, args=(n,)) for n in range(threads_n)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(60)
    assert errors == []
    check = _verify(app)
    assert check.intact, check
    with app.app_context():
        probes = db.session.scalar(
            select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "probe")
        )
        per_writer = db.session.execute(
            text("SELECT reason, seq FROM audit_event WHERE action = 'probe' ORDER BY seq")
        ).all()
    assert probes == threads_n * per_thread
    # Each transaction's rows are consecutive in the chain: appends did not interleave.
    writers = [reason.split("-")[0] for reason, _seq in per_writer]
    assert all(writers[i] == writers[i - i % per_thread] for i in range(len(writers)))


def test_upgrade_chains_existing_rows_and_keeps_the_newest_version_current(tmp_path):
    """Rows written before the chain existed are chained by the migration, in id order."""
    from flask_migrate import upgrade

    from web import MIGRATIONS_DIR, create_app

    app = create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'old.db'}", "TESTING": True})
    with app.app_context():
        upgrade(directory=str(MIGRATIONS_DIR), revision="0001")
        for n, (at, detail) in enumerate(
            [
                ("2026-11-20 01:02:03.000004", None),
                ("2026-11-21 09:00:00.000000", '{"b": [1, "二"], "a": null}'),
                ("2026-11-22 10:30:00.500000", "{}"),
            ],
            1,
        ):
            db.session.execute(
                text(
                    "INSERT INTO audit_event (id, at, actor_name, action, reason, detail) "
                    "VALUES (:id, :at, '系统', 'old', :reason, :detail)"
                ),
                {"id": n * 10, "at": at, "reason": f"旧记录{n}", "detail": detail},
            )
        for version in (1, 2):
            db.session.execute(
                text(
                    "INSERT INTO process_version (process_id, version, sha256, bpmn_xml, files, "
                    "deployed_at) VALUES ('p', :v, :sha, '<x/>', '{}', '2026-11-20 00:00:00')"
                ),
                {"v": version, "sha": str(version) * 64},
            )
        db.session.commit()
        upgrade(directory=str(MIGRATIONS_DIR))
        check = app.extensions["audit_log"].verify_audit()
        assert check.intact and check.count == 3, check
        seqs = db.session.execute(text("SELECT id, seq FROM audit_event ORDER BY id")).all()
        assert [tuple(r) for r in seqs] == [(10, 1), (20, 2), (30, 3)]
        current = db.session.execute(
            text(
                "SELECT v.number FROM process_current c "
                "JOIN process_version v ON v.id = c.process_version_id WHERE c.process_id = 'p'"
            )
        ).scalar_one()
        assert current == 2
        db.session.add(audit_event(app.extensions["runtime"].clock(), None, "new"))
        db.session.commit()
        assert app.extensions["audit_log"].verify_audit().count == 4
        db.session.remove()
        db.engine.dispose()


def test_sign_in_events_join_the_chain(app, api):
    # Failed sign-ins (with the lockout), a revoked token and a page sign-out are audited
    # by the accounts code; they must extend the same chain.
    for _ in range(5):
        api.app.test_client().post(
            "/api/v1/auth/token", json={"username": "yz_water_2", "password": "wrong"}
        )
    token = api.login("yz_water_1")
    r = api.app.test_client().delete(
        "/api/v1/auth/token", headers={"Authorization": f"Bearer {token}"}
    )
    assert r.status_code == 204
    check = _verify(app)
    with app.app_context():
        actions = set(db.session.scalars(select(AuditEvent.action)).all())
    assert {"login_failed", "account_locked", "login", "token_revoked"} <= actions
    assert check.intact, check
