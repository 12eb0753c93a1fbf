"""The sweep claims due timers in batches: disjoint claims, parallel workers, crash safety."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from engine.timer_batches import TimerBatches
from storage import ProcessInstance, Timer, db
from tests.integration.test_scheduler_sweep import (
    _fired_per_instance,
    deploy_probe,
    start_probes,
    sweep,
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
    barrier = threading.Barrier(2)
    counts: list[int] = []

    def run() -> None:
        barrier.wait()
        counts.append(app.extensions["timers"].fire_due_timers(batch=5, workers=2))

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    leftover = sweep(app)  # SQLite may have answered "busy" to a claim: retried, never doubled
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
