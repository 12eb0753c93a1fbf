"""The real APScheduler in-process: punctual firing, catch-up at start, clean start and stop."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from apscheduler.events import EVENT_JOB_EXECUTED, JobExecutionEvent
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from flask import Flask
from sqlalchemy import func, select, text
from sqlalchemy.exc import OperationalError

from engine import UnknownYearError
from storage import AuditEvent, Timer, db
from tests.integration.test_scheduler_sweep import deploy_probe, start_probes
from web import create_app, scheduler


@pytest.fixture
def make_app(database_url: str, tmp_path: Path) -> Iterator[Callable[..., Flask]]:
    """Apps on the test database with the scheduler enabled; stopped and cleaned up after."""
    made: list[Flask] = []

    def make(**overrides: Any) -> Flask:
        config = {
            "DATABASE_URL": database_url,
            "TESTING": True,
            "FILES_DIR": str(tmp_path / "files"),
            "RATELIMIT_ENABLED": False,
            "PASSWORD_SCRYPT_N": 2**8,
            "SCHEDULER_ENABLED": True,
            **overrides,
        }
        made.append(create_app(config))
        return made[-1]

    yield make
    scheduler.stop()
    for app in made:
        with app.app_context():
            db.session.execute(text(f"DELETE FROM {scheduler.JOB_TABLE}"))
            db.session.commit()
            db.session.remove()
            db.engine.dispose()


def _wait_until(check: Callable[[], bool], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.05)
    return check()


def _timer(app: Flask, instance_id: int) -> Timer:
    with app.app_context():
        row = db.session.scalars(select(Timer).where(Timer.instance_id == instance_id)).one()
        db.session.expunge(row)
        return row


def _lag(row: Timer) -> float:
    due = row.due_at.replace(tzinfo=row.due_at.tzinfo or UTC)
    fired = row.fired_at.replace(tzinfo=row.fired_at.tzinfo or UTC)
    return (fired - due).total_seconds()


def _fired(app: Flask) -> int:
    with app.app_context():
        return db.session.scalar(
            select(func.count(AuditEvent.id)).where(AuditEvent.action == "timer_fired")
        )


def test_sweep_fires_a_timer_due_in_half_a_second_then_stops_cleanly(app, make_app):
    deploy_probe(app)
    # Sweep only, four times a second (the setting is in seconds; a fraction is fine).
    live = make_app(SCHEDULER_LOOKAHEAD_SECONDS=0, SCHEDULER_SWEEP_SECONDS=0.25)
    assert live.test_client().get("/api/v1/health").get_json()["scheduler"] == "running"
    (inst,) = start_probes(live, 1, datetime.now(UTC) + timedelta(seconds=0.5))
    assert _timer(live, inst).status == "pending"
    assert _wait_until(lambda: _timer(live, inst).status == "fired", 4)
    assert _lag(_timer(live, inst)) >= 0  # never early; fired within the wait above
    threads_before = {t.name for t in threading.enumerate()}
    assert "APScheduler" in threads_before
    scheduler.stop()
    assert _wait_until(lambda: "APScheduler" not in {t.name for t in threading.enumerate()}, 3)
    assert _fired(app) == 1


def test_date_job_fires_on_time_without_waiting_for_a_sweep(app, make_app):
    deploy_probe(app)
    (inst,) = start_probes(app, 1, datetime.now(UTC) + timedelta(seconds=1.5))
    # The sweep runs at start and then only every 30 s: only the planned date job can fire it.
    live = make_app(SCHEDULER_SWEEP_SECONDS=30, SCHEDULER_LOOKAHEAD_SECONDS=60)
    assert _wait_until(lambda: _timer(live, inst).status == "fired", 4)
    # never before its due time; fired within the wait above while the next sweep is 30 s
    # away, so by its date job (how late it ran is the benchmark's to say, not a test's)
    assert _lag(_timer(live, inst)) >= 0
    assert _fired(app) == 1


def test_timers_due_while_stopped_fire_once_at_the_next_start(app, make_app, clock):
    deploy_probe(app)
    ids = start_probes(app, 3, clock.now + timedelta(hours=1))
    clock.advance(days=3)  # the service was down over a long weekend
    live = make_app(CLOCK=clock, SCHEDULER_SWEEP_SECONDS=0.2)
    assert _wait_until(lambda: _fired(app) == 3, 5)
    sweeps = _sweeps_from_now()
    assert _wait_until(lambda: len(sweeps) >= 2, 5)  # two more sweeps: nothing fires twice
    assert _fired(app) == 3
    assert {_timer(app, i).status for i in ids} == {"fired"}
    assert live.extensions["scheduler_state"]() == "running"


def _sweeps_from_now() -> list[datetime]:
    """The run times of the sweeps this process's scheduler finishes from now on."""
    finished: list[datetime] = []
    running = scheduler._current
    assert running is not None

    def on_executed(event: JobExecutionEvent) -> None:
        if event.job_id == scheduler.SWEEP_ID:
            finished.append(event.scheduled_run_time)

    running.scheduler.add_listener(on_executed, EVENT_JOB_EXECUTED)
    return finished


def test_a_web_process_reads_the_heartbeat_of_another_scheduler(app, make_app):
    assert app.extensions["scheduler_state"]() == "not running"  # no scheduler ever ran
    live = make_app()
    assert _wait_until(lambda: app.extensions["scheduler_state"]() == "running", 3)
    scheduler.stop()
    with live.app_context():
        db.session.execute(
            text(f"UPDATE {scheduler.JOB_TABLE} SET next_run_time = :t WHERE id = :id"),
            {"t": time.time() - 60, "id": scheduler.SWEEP_ID},
        )
        db.session.commit()
    assert app.extensions["scheduler_state"]() == "not running"
    assert app.test_client().get("/api/v1/health").get_json()["scheduler"] == "not running"


def test_one_scheduler_per_process_and_none_in_the_reloader_parent(make_app, monkeypatch):
    first = make_app()
    running = scheduler.start(first)
    second = make_app()
    assert scheduler.start(second) is running
    scheduler.stop()
    monkeypatch.delenv("WERKZEUG_RUN_MAIN", raising=False)
    make_app(DEBUG=True)
    assert scheduler._current is None
    monkeypatch.setenv("WERKZEUG_RUN_MAIN", "true")
    make_app(DEBUG=True)
    assert scheduler._current is not None


def test_run_forever_stops_on_a_signal_and_restores_the_handler(make_app):
    live = make_app(SCHEDULER_ENABLED=False)
    before = signal.getsignal(signal.SIGINT)

    def interrupt_once_running() -> None:
        # Ctrl-C once run_forever has started the scheduler and put its own handler in place.
        _wait_until(lambda: scheduler._current is not None, 5)
        _wait_until(lambda: signal.getsignal(signal.SIGINT) is not before, 5)
        os.kill(os.getpid(), signal.SIGINT)

    killer = threading.Thread(target=interrupt_once_running)
    killer.start()
    started = time.monotonic()
    scheduler.run_forever(live)
    killer.join()
    assert time.monotonic() - started < 5
    assert scheduler._current is None
    assert signal.getsignal(signal.SIGINT) is before


def _raise(exc: BaseException) -> Callable[..., Any]:
    def call(_app: Flask, _service: Any) -> Any:
        raise exc

    return call


def test_job_bodies_log_errors_and_keep_the_scheduler_alive(make_app, caplog):
    live = make_app(SCHEDULER_SWEEP_SECONDS=30)
    with caplog.at_level("INFO", logger="web.scheduler"):
        scheduler.reminders_job()
        scheduler.sms_job()
        assert scheduler._run("calendar", _raise(UnknownYearError(2027)), "notices") is None
        assert (
            scheduler._run(
                "db", _raise(OperationalError("SELECT 1", {}, Exception("gone"))), "timers"
            )
            is None
        )
        assert scheduler._run("bug", _raise(ZeroDivisionError("boom")), "timers") is None
    assert "reminders written: 0" in caplog.text
    assert "calendar: 2027 年的节假日安排尚未录入" in caplog.text
    assert "db: database error" in caplog.text
    assert "bug failed" in caplog.text and "ZeroDivisionError" in caplog.text
    assert live.extensions["scheduler_state"]() == "running"
    scheduler.stop()
    caplog.clear()
    with caplog.at_level("WARNING", logger="web.scheduler"):
        scheduler.sweep_job()
    assert "no scheduler app in this process" in caplog.text


def test_a_timer_created_close_to_its_due_time_gets_its_date_job_at_commit(app, make_app):
    deploy_probe(app)
    # Sweep and plan run at start and then only every 30 s: the commit must plan the job.
    live = make_app(SCHEDULER_SWEEP_SECONDS=30, SCHEDULER_LOOKAHEAD_SECONDS=60)
    running = scheduler._current
    assert running is not None
    assert _wait_until(lambda: _planned_once(running), 3)
    due = datetime.now(UTC) + timedelta(seconds=1.5)
    (inst,) = start_probes(live, 1, due)
    job = running.scheduler.get_job(f"{scheduler.DUE_PREFIX}{due.timestamp():.6f}")
    assert job is not None and job._jobstore_alias == scheduler.LOCAL
    assert _wait_until(lambda: _timer(live, inst).status == "fired", 4)
    # never before its due time; fired within the wait above while the next sweep is 30 s
    # away, so by its date job (how late it ran is the benchmark's to say, not a test's)
    assert _lag(_timer(live, inst)) >= 0


def _planned_once(running: Any) -> bool:
    """The plan job ran at start (its next run is a whole interval away)."""
    job = running.scheduler.get_job(scheduler.PLAN_ID)
    return job is not None and job.next_run_time.timestamp() > time.time() + 10


def test_a_process_without_a_scheduler_hands_a_near_due_timer_to_the_job_store(
    app, make_app, clock
):
    deploy_probe(app)
    make_app(SCHEDULER_SWEEP_SECONDS=30)  # a scheduler elsewhere keeps the heartbeat fresh
    due = clock.now + timedelta(seconds=20)
    start_probes(app, 1, due)  # `app` runs no scheduler of its own
    job_id = f"{scheduler.DUE_PREFIX}{due.timestamp():.6f}"
    with app.app_context():
        ids = db.session.scalars(text(f"SELECT id FROM {scheduler.JOB_TABLE}")).all()
        # Planned on the travelled clock, it is overdue for the live scheduler: take it out.
        db.session.execute(
            text(f"DELETE FROM {scheduler.JOB_TABLE} WHERE id = :id"), {"id": job_id}
        )
        db.session.commit()
    assert job_id in ids


def test_a_date_job_another_scheduler_removed_first_is_gone_without_an_error(make_app):
    make_app(SCHEDULER_SWEEP_SECONDS=30)
    running = scheduler._current
    assert running is not None
    running.store.remove_job("zhiping.timers.due.none")  # no JobLookupError


def test_a_job_store_update_that_fails_is_logged_and_the_loop_lives_on(
    make_app, monkeypatch, caplog
):
    make_app(SCHEDULER_SWEEP_SECONDS=30)
    running = scheduler._current
    assert running is not None
    job = running.scheduler.get_job(scheduler.SWEEP_ID)

    def locked(_store: Any, _job: Any) -> None:
        raise OperationalError("UPDATE apscheduler_jobs", {}, Exception("database is locked"))

    monkeypatch.setattr(SQLAlchemyJobStore, "update_job", locked)
    with caplog.at_level("WARNING", logger="web.scheduler"):
        running.store.update_job(job)  # no error out of it: APScheduler's loop would stop
    assert (
        f"{scheduler.SWEEP_ID} not updated: (builtins.Exception) database is locked" in caplog.text
    )
