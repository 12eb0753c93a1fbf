"""The sweep claims due timers in batches: disjoint claims, parallel workers, crash safety."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import sessionmaker

from engine import ConcurrentUpdateError, watch_new_timers
from engine.timer_batches import TimerBatches
from storage import ProcessInstance, Timer, db
from tests.integration.test_scheduler_sweep import (
    _fired_per_instance,
    deploy_probe,
    start_probes,
    sweep,
    sweep_twice_at_once,
)


def _record_claims(monkeypatch: pytest.MonkeyPatch) -> list[list[int]]:
    """Every batch any claimer takes from now on, as the list of timer ids it claimed."""
    claims: list[list[int]] = []
    real = TimerBatches._claim

    def claim(session, now, count):
        ids = real(session, now, count)
        claims.append(ids)
        return ids

    monkeypatch.setattr(TimerBatches, "_claim", staticmethod(claim))
    return claims


def _statuses(app) -> dict[str, int]:
    with app.app_context():
        rows = db.session.execute(select(Timer.status, func.count()).group_by(Timer.status))
        return dict(rows.all())


def test_two_sweeps_with_two_workers_each_claim_disjoint_batches(app, clock, monkeypatch):
    deploy_probe(app)
    ids = start_probes(app, 40, clock.now + timedelta(minutes=1))
    clock.advance(minutes=2)
    claims = _record_claims(monkeypatch)
    counts, leftover = sweep_twice_at_once(app, batch=5, workers=2)
    claimed = [i for batch in claims for i in batch]
    assert len(claimed) == len(set(claimed)) == 40  # no timer in two claims
    assert max(len(batch) for batch in claims) <= 5
    assert sum(counts) + leftover == 40
    assert _fired_per_instance(app) == {i: 1 for i in ids}
    assert _statuses(app) == {"fired": 40}


@pytest.mark.postgres
def test_a_claim_skips_the_rows_another_open_claim_holds(app, clock):
    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        pytest.skip("FOR UPDATE SKIP LOCKED: PostgreSQL only")
    deploy_probe(app)
    start_probes(app, 6, clock.now + timedelta(minutes=1))
    clock.advance(minutes=2)
    uow = app.extensions["unit_of_work"]
    with uow() as first, uow() as second:
        now = clock()
        held = TimerBatches._claim(first.session, now, 4)  # uncommitted: rows stay locked
        second.session.execute(select(1)).all()
        second.session.connection().exec_driver_sql("SET LOCAL lock_timeout = '2s'")
        rest = TimerBatches._claim(second.session, now, 4)  # would wait 2 s and fail if blocked
        assert len(held) == 4 and len(rest) == 2 and not set(held) & set(rest)
    assert _statuses(app) == {"pending": 6}  # neither committed: both claims went back


def test_a_crash_mid_batch_leaves_that_batch_pending_and_it_fires_once_later(
    app, clock, monkeypatch
):
    deploy_probe(app)
    ids = start_probes(app, 6, clock.now + timedelta(minutes=1))
    clock.advance(minutes=2)
    runtime = app.extensions["runtime"]
    real_fire = runtime.fire
    calls: list[int] = []

    def fire_then_crash(session, inst, timer, *args, **kwargs):
        calls.append(timer.id)
        if len(calls) == 4:  # the second timer of the second batch: the process dies here
            raise KeyboardInterrupt
        return real_fire(session, inst, timer, *args, **kwargs)

    monkeypatch.setattr(runtime, "fire", fire_then_crash)
    with pytest.raises(KeyboardInterrupt):
        app.extensions["timers"].fire_due_timers(batch=2, workers=1)
    assert _statuses(app) == {"fired": 2, "pending": 4}  # the first batch had committed
    assert sum(_fired_per_instance(app).values()) == 2
    monkeypatch.setattr(runtime, "fire", real_fire)
    assert sweep(app) == 4
    assert _fired_per_instance(app) == {i: 1 for i in ids}


def test_a_timer_of_an_instance_held_after_planning_is_left_pending(app, clock):
    deploy_probe(app)
    running, suspended = start_probes(app, 2, clock.now + timedelta(minutes=1))
    with app.app_context():
        row = db.session.get(ProcessInstance, suspended)
        row.status = "suspended"
        db.session.commit()
    clock.advance(minutes=2)
    assert app.extensions["timers"].fire_due_timers(batch=10) == 1
    assert _fired_per_instance(app) == {running: 1}
    with app.app_context():
        status = db.session.scalars(select(Timer.status).where(Timer.instance_id == suspended))
        assert status.one() == "pending"


@pytest.mark.parametrize(
    "error",
    [
        ConcurrentUpdateError("该事项已被他人处理，请刷新后重试"),
        OperationalError("UPDATE process_instance", {}, Exception("deadlock detected")),
    ],
    ids=["instance-changed", "database-error"],
)
def test_a_timer_that_cannot_fire_now_goes_back_to_pending_and_the_batch_goes_on(
    app, clock, monkeypatch, error
):
    deploy_probe(app)
    first, second, third = start_probes(app, 3, clock.now + timedelta(minutes=1))
    clock.advance(minutes=2)
    runtime = app.extensions["runtime"]
    real_fire = runtime.fire

    def fire(session, inst, timer, *args, **kwargs):
        if inst.id == second:
            raise error
        return real_fire(session, inst, timer, *args, **kwargs)

    monkeypatch.setattr(runtime, "fire", fire)
    assert app.extensions["timers"].fire_due_timers(batch=10) == 2
    assert _fired_per_instance(app) == {first: 1, third: 1}
    assert _statuses(app) == {"fired": 2, "pending": 1}
    monkeypatch.setattr(runtime, "fire", real_fire)
    assert sweep(app) == 1  # the next sweep fires it
    with app.app_context():
        assert db.session.get(ProcessInstance, second).status == "completed"


def test_a_claim_that_fails_stops_the_sweep_and_leaves_every_timer_pending(
    app, clock, monkeypatch, caplog
):
    deploy_probe(app)
    start_probes(app, 2, clock.now + timedelta(minutes=1))
    clock.advance(minutes=2)

    def claim(session, now, count):
        raise OperationalError("SELECT timer.id", {}, Exception("database is locked"))

    monkeypatch.setattr(TimerBatches, "_claim", staticmethod(claim))
    with caplog.at_level("WARNING", logger="engine.timers"):
        assert app.extensions["timers"].fire_due_timers() == 0
    assert "retried next sweep" in caplog.text
    assert _statuses(app) == {"pending": 2}


def test_a_failing_commit_hook_is_logged_and_the_commit_stands(app, clock, caplog):
    uow = app.extensions["unit_of_work"]
    with uow() as probe:
        sessions = probe.session  # a session of the app's factory: the hook's events are on it
    factory = sessionmaker(bind=sessions.get_bind())
    seen: list[list] = []

    def notify(upcoming: list) -> None:
        seen.append(upcoming)
        raise RuntimeError("scheduler gone")

    watch_new_timers(factory, clock, notify)
    deploy_probe(app)
    (inst,) = start_probes(app, 1, clock.now + timedelta(days=1))
    with caplog.at_level("ERROR", logger="engine.timers"), factory() as session:
        due = clock.now + timedelta(seconds=20)
        session.add(
            Timer(instance_id=inst, task_id="t-hook", name="hook", due_at=due, created_at=due)
        )
        session.commit()
    assert seen == [[(due, timedelta(seconds=20))]]
    assert "planning their date jobs failed" in caplog.text
    with app.app_context():
        assert db.session.scalar(select(Timer.status).where(Timer.task_id == "t-hook")) == "pending"
