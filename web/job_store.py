"""APScheduler's SQLAlchemy job store as the scheduler processes share it, and the date jobs a
process without a scheduler writes into it (web/scheduler.py runs the jobs)."""

from __future__ import annotations

import contextlib
import logging
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from apscheduler.job import Job
from apscheduler.jobstores.base import ConflictingIdError, JobLookupError
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.date import DateTrigger
from flask import Flask
from sqlalchemy.exc import SQLAlchemyError

log = logging.getLogger("web.scheduler")

JOB_TABLE = "apscheduler_jobs"


class JobStore(SQLAlchemyJobStore):
    """The SQLAlchemy job store, whose engine stop() disposes once the scheduler's thread ended.

    APScheduler disposes it while its main loop may still hold a connection, which then leaks.
    """

    def shutdown(self) -> None:
        return

    def update_job(self, job: Job) -> None:
        """Store a job's next run time; on a database error it runs again at the next wakeup.

        APScheduler lets this error out of its loop, which then stops for good (SQLite
        answers "database is locked" when other writers hold it past the busy timeout).
        """
        try:
            super().update_job(job)
        except SQLAlchemyError as exc:
            log.warning("job store: %s not updated: %s", job.id, str(exc).splitlines()[0])

    def remove_job(self, job_id: str) -> None:
        """Remove a job; one another scheduler process already ran and removed is gone too."""
        try:
            super().remove_job(job_id)
        except JobLookupError:
            return  # else the scheduler's loop dies on a date job both processes ran


@dataclass
class _SharedStore:
    """A process without a scheduler writes date jobs into the shared job store through this."""

    store: JobStore
    owner: BackgroundScheduler  # never started: a Job needs its scheduler's time zone
    written: dict[str, datetime] = field(default_factory=dict)  # job id -> run time


_shared: weakref.WeakKeyDictionary[Flask, _SharedStore] = weakref.WeakKeyDictionary()


def store_date_jobs(
    app: Flask,
    upcoming: list[tuple[datetime, timedelta]],
    func: Callable[[], None],
    prefix: str,
) -> None:
    """Write a date job calling ``func`` per due time into the shared job store, for the
    scheduler processes to run (from a process that runs none)."""
    now = datetime.now(UTC)
    with app.app_context():
        shared = _shared.get(app)
        if shared is None:
            engine = app.extensions["sqlalchemy"].engine
            store = JobStore(engine=engine, tablename=JOB_TABLE)
            shared = _shared[app] = _SharedStore(store, BackgroundScheduler(timezone="UTC"))
    for due, delay in upcoming:
        job_id = f"{prefix}{due.timestamp():.6f}"
        if job_id in shared.written:
            continue
        run_at = now + delay
        job = Job(
            shared.owner,
            id=job_id,
            func=func,
            trigger=DateTrigger(run_at, timezone=UTC),
            executor="default",
            args=(),
            kwargs={},
            name=func.__name__,
            misfire_grace_time=None,
            coalesce=True,
            max_instances=1,
            next_run_time=run_at,
        )
        with contextlib.suppress(ConflictingIdError):  # planned already, by another process
            shared.store.add_job(job)
        shared.written[job_id] = run_at
    cutoff = now - timedelta(minutes=1)
    shared.written = {j: t for j, t in shared.written.items() if t > cutoff}
