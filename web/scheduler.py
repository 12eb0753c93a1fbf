"""APScheduler: fires due timers, delivers the SMS outbox, sends the daily reminders.

Jobs live in APScheduler's SQLAlchemy job store on the application database, with explicit
ids, ``replace_existing=True``, ``max_instances=1`` and ``coalesce=True``:

- ``zhiping.timers.sweep`` every SCHEDULER_SWEEP_SECONDS fires every due timer; it also runs
  at start, so timers that fell due while the service was down fire then;
- ``zhiping.timers.plan`` adds a one-off date job for each distinct due time in the next
  SCHEDULER_LOOKAHEAD_SECONDS, so a timer fires at its due time rather than up to a sweep
  later (0 turns date jobs off). Plan and date jobs are each process's own (a memory job
  store): every scheduler process wakes at a burst's due time and takes its share;
- a commit that creates a timer due within the lookahead gives it a date job at once
  (``plan_new_timers``): in this process's scheduler, or, from a process without one, in the
  shared job store, which every scheduler reads at its next wakeup (a sweep at most);
- ``zhiping.sms.deliver`` delivers pending SMS rows; ``zhiping.reminders.daily`` writes the
  reminders at REMINDER_HOUR, China time.

Every job body is one engine call. A sweep claims due timers SCHEDULER_CLAIM_BATCH at a time
and fires them in SCHEDULER_WORKERS threads (one on SQLite, whose writers queue anyway); two
scheduler processes share a burst and never fire a timer twice. A web process without a
scheduler reports "running" while the sweep job's next run time, kept in the job store by
whichever process runs it, is fresh.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.base import JobLookupError
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from flask import Flask
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from engine import EngineError
from web.config import calendar_policy, flag
from web.job_store import JOB_TABLE, JobStore, store_date_jobs
from web.notifier import sender_for

log = logging.getLogger(__name__)

SWEEP_ID = "zhiping.timers.sweep"
PLAN_ID = "zhiping.timers.plan"
DUE_PREFIX = "zhiping.timers.due."
SMS_ID = "zhiping.sms.deliver"
REMINDERS_ID = "zhiping.reminders.daily"
LOCAL = "local"  # this process's memory job store: the plan job and its date jobs


@dataclass
class _Running:
    app: Flask
    scheduler: BackgroundScheduler
    store: JobStore
    planned: dict[str, datetime] = field(default_factory=dict)  # date job id -> run time
    lock: threading.Lock = field(default_factory=threading.Lock)  # plan job and commit hooks


_lock = threading.Lock()
_current: _Running | None = None  # one scheduler per process; its jobs call this app


def init_app(app: Flask) -> None:
    """Report the scheduler state; start it when SCHEDULER_ENABLED (not in a reloader parent)."""
    app.extensions["scheduler_state"] = lambda: scheduler_state(app)
    if not flag(app.config["SCHEDULER_ENABLED"]):
        return
    if app.debug and os.environ.get("WERKZEUG_RUN_MAIN") != "true":
        log.info("scheduler not started in the reloader's parent process")
        return
    start(app)


def start(app: Flask) -> BackgroundScheduler:
    """Start the background scheduler for this process (a second call returns the first)."""
    global _current
    with _lock:
        if _current is not None:
            if _current.app is not app:
                log.warning("a scheduler already runs in this process; not starting another")
            return _current.scheduler
        store = JobStore(
            url=app.config["SQLALCHEMY_DATABASE_URI"],
            tablename=JOB_TABLE,
            engine_options=dict(app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {}),
        )
        scheduler = BackgroundScheduler(
            jobstores={"default": store, LOCAL: MemoryJobStore()},
            executors={"default": ThreadPoolExecutor(4)},
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 30},
            timezone="UTC",
        )
        logging.getLogger("apscheduler.executors.default").setLevel(logging.WARNING)
        _current = _Running(app, scheduler, store)
        try:
            scheduler.start()
            _add_jobs(scheduler, app.config)
        except BaseException:
            _current = None
            if scheduler.running:
                scheduler.shutdown(wait=False)
            store.engine.dispose()
            raise
    log.info("scheduler started (sweep every %ss)", app.config["SCHEDULER_SWEEP_SECONDS"])
    return scheduler


def _add_jobs(scheduler: BackgroundScheduler, config: Any) -> None:
    now = datetime.now(UTC)
    common: dict[str, Any] = {"replace_existing": True, "max_instances": 1, "coalesce": True}
    sweep = float(config["SCHEDULER_SWEEP_SECONDS"])
    scheduler.add_job(
        sweep_job, "interval", seconds=sweep, id=SWEEP_ID, next_run_time=now, **common
    )
    lookahead = float(config["SCHEDULER_LOOKAHEAD_SECONDS"])
    _remove(scheduler, PLAN_ID)  # releases before 0014 kept it in the shared job store
    if lookahead > 0:
        every = max(1.0, lookahead / 2)
        scheduler.add_job(
            plan_job,
            "interval",
            seconds=every,
            id=PLAN_ID,
            next_run_time=now,
            jobstore=LOCAL,
            **common,
        )
    notifier = float(config["NOTIFIER_INTERVAL_SECONDS"])
    scheduler.add_job(sms_job, "interval", seconds=notifier, id=SMS_ID, next_run_time=now, **common)
    daily = CronTrigger(hour=int(config["REMINDER_HOUR"]), minute=0, timezone="Asia/Shanghai")
    # A scheduler that was down at the reminder hour still sends them within six hours.
    scheduler.add_job(reminders_job, daily, id=REMINDERS_ID, misfire_grace_time=6 * 3600, **common)


def _remove(scheduler: BackgroundScheduler, job_id: str) -> None:
    try:
        scheduler.remove_job(job_id)
    except JobLookupError:
        return


def stop(*, wait: bool = True) -> None:
    """Shut this process's scheduler down (running jobs finish first when wait)."""
    global _current
    with _lock:
        running, _current = _current, None
    if running is not None and running.scheduler.running:
        running.scheduler.shutdown(wait=wait)  # joins the scheduler's thread
        running.store.engine.dispose()
        log.info("scheduler stopped")


def run_forever(app: Flask) -> None:
    """Run the scheduler in the foreground until SIGTERM or Ctrl-C, then stop cleanly."""
    start(app)
    stopping = threading.Event()

    def _stop(signum: int, _frame: Any) -> None:
        log.info("signal %s: stopping the scheduler", signum)
        stopping.set()

    previous = {sig: signal.signal(sig, _stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        while not stopping.wait(1.0):
            if _current is None:
                break
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        stop()


def scheduler_state(app: Flask) -> str:
    """ "running" when this process runs a scheduler or another one keeps its heartbeat fresh."""
    current = _current
    if current is not None and current.scheduler.running:
        return "running"
    return "running" if heartbeat_fresh(app) else "not running"


def heartbeat_fresh(app: Flask) -> bool:
    """Whether the sweep job's next run time in the job store is recent (another process)."""
    stale_after = max(10.0, 3 * float(app.config["SCHEDULER_SWEEP_SECONDS"]))
    query = text(f"SELECT next_run_time FROM {JOB_TABLE} WHERE id = :id")
    try:
        with app.app_context(), app.extensions["sqlalchemy"].engine.connect() as conn:
            next_run = conn.execute(query, {"id": SWEEP_ID}).scalar()
    except SQLAlchemyError:
        return False  # no job store yet: no scheduler has ever run on this database
    return next_run is not None and float(next_run) >= time.time() - stale_after


# ----- job bodies (module-level so the persistent job store can refer to them) --------------
def _run(name: str, call: Callable[[Flask, Any], Any], service: str) -> Any:
    """Call ``call(app, the app's <service>)``; the services need no app context."""
    current = _current
    if current is None:
        log.warning("%s: no scheduler app in this process; skipped", name)
        return None
    app = current.app
    try:
        return call(app, app.extensions[service])
    except EngineError as exc:
        log.warning("%s: %s", name, exc.message)
    except SQLAlchemyError as exc:
        log.warning("%s: database error: %s", name, str(exc).splitlines()[0])
    except Exception:
        log.exception("%s failed", name)  # the scheduler's boundary: log, run again later
    return None


def sweep_job() -> None:
    """Fire every due timer."""
    fired = _run(
        "timer sweep",
        lambda app, t: t.fire_due_timers(
            limit=int(app.config["SCHEDULER_BATCH"]),
            batch=_claim_batch(app),
            workers=_workers(app),
        ),
        "timers",
    )
    if fired:
        log.info("fired %s timer(s)", fired)


def due_job() -> None:
    """A date job at a known due time: the same sweep, on time."""
    sweep_job()


def plan_job() -> None:
    """Add a date job for each distinct due time of the next lookahead window."""
    upcoming = _run("timer plan", lambda app, t: t.upcoming_due_times(_lookahead(app)), "timers")
    current = _current
    if upcoming and current is not None:
        _plan(current, upcoming)


def plan_new_timers(app: Flask, upcoming: list[tuple[datetime, timedelta]]) -> None:
    """Give timers a commit just created, due within the lookahead, their date jobs now."""
    soon = [(due, delay) for due, delay in upcoming if timedelta(0) < delay <= _lookahead(app)]
    if not soon:
        return
    current = _current
    if current is not None and current.app is app and current.scheduler.running:
        _plan(current, soon)
    elif heartbeat_fresh(app):  # a scheduler process elsewhere: tell it through the job store
        store_date_jobs(app, soon, due_job, DUE_PREFIX)


def _plan(current: _Running, upcoming: list[tuple[datetime, timedelta]]) -> None:
    now = datetime.now(UTC)  # the engine's clock may differ: only the delay is used
    with current.lock:
        for due, delay in upcoming:
            job_id = f"{DUE_PREFIX}{due.timestamp():.6f}"
            if job_id in current.planned:
                continue
            run_at = now + delay
            current.scheduler.add_job(
                due_job,
                "date",
                run_date=run_at,
                id=job_id,
                jobstore=LOCAL,
                replace_existing=True,
                misfire_grace_time=None,
            )
            current.planned[job_id] = run_at
        cutoff = now - timedelta(minutes=1)
        current.planned = {j: t for j, t in current.planned.items() if t > cutoff}


def sms_job() -> None:
    """Deliver pending SMS rows through the gateway (or the log)."""
    _run(
        "sms delivery",
        lambda app, n: n.deliver_sms(
            sender_for(app.config["SMS_GATEWAY_URL"], float(app.config["SMS_TIMEOUT_SECONDS"])),
            max_attempts=int(app.config["SMS_MAX_ATTEMPTS"]),
        ),
        "notices",
    )


def reminders_job() -> None:
    """Write today's reminders for tasks waiting too long."""
    written = _run(
        "reminders",
        lambda app, n: n.send_reminders(
            after_workdays=int(app.config["REMINDER_AFTER_WORKDAYS"]),
            policy=calendar_policy(app.config),
        ),
        "notices",
    )
    log.info("reminders written: %s", written or 0)


def _sqlite(app: Flask) -> bool:
    return str(app.config["SQLALCHEMY_DATABASE_URI"]).startswith("sqlite")


def _claim_batch(app: Flask) -> int:
    """Timers per claim; at most 5 on SQLite, where a batch holds the database's write lock."""
    batch = max(1, int(app.config["SCHEDULER_CLAIM_BATCH"]))
    return min(batch, 5) if _sqlite(app) else batch


def _workers(app: Flask) -> int:
    """Firing threads per sweep: one on SQLite, where writers wait for each other anyway."""
    if _sqlite(app):
        return 1
    return max(1, int(app.config["SCHEDULER_WORKERS"]))


def _lookahead(app: Flask) -> timedelta:
    return timedelta(seconds=float(app.config["SCHEDULER_LOOKAHEAD_SECONDS"]))
