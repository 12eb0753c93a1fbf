"""Timer lag with the real scheduler, and catch-up after downtime.

    python bench/timer_lag.py [--database-url URL] [--timers 100] [--overdue 200] [--write]

Starts `timer_probe` instances (start -> timer -> script -> end) whose timers fall due over the
next seconds, runs the in-process APScheduler and measures fired_at - due_at for each timer:
with date jobs (the default) and with the 1 s sweep alone. Then lets timers fall due while no
scheduler runs and measures how long the next start takes to fire them all. --write appends
the results to bench/RESULTS.md. Uses a throw-away SQLite database unless --database-url.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from flask import Flask  # noqa: E402
from sqlalchemy import inspect, select, text  # noqa: E402

from storage import Timer, db  # noqa: E402
from tests.helpers import start_process  # noqa: E402
from tests.integration.test_scheduler_sweep import PROBE  # noqa: E402
from web import create_app, scheduler  # noqa: E402
from web.cli import upgrade_db  # noqa: E402

RESULTS = ROOT / "bench" / "RESULTS.md"
TABLES = ("audit_event", "notification", "human_task", "timer", "process_instance")


def make_app(url: str) -> Flask:
    app = create_app({"DATABASE_URL": url, "SCHEDULER_ENABLED": False})
    upgrade_db(app)
    xml = PROBE.replace("SCRIPT", "fired = True").encode()
    with app.app_context():
        app.extensions["deployments"].deploy({"timer_probe.bpmn": xml}, actor="bench")
    return app


def reset(app: Flask) -> None:
    with app.app_context():
        store = (scheduler.JOB_TABLE,) if inspect(db.engine).has_table(scheduler.JOB_TABLE) else ()
        for table in (*TABLES, *store):
            db.session.execute(text(f"DELETE FROM {table}"))
        db.session.commit()


def setup_seconds(n: int) -> float:
    """Time to start n instances, with margin: a timer already due on arrival never waits."""
    return 2 + 0.03 * n


def start_probes(app: Flask, dues: list[datetime]) -> None:
    for due in dues:
        start_process(app, "timer_probe", {"due": due.isoformat()})


def lags(app: Flask) -> list[float]:
    with app.app_context():
        rows = db.session.execute(select(Timer.due_at, Timer.fired_at)).all()
    out = []
    for due, fired in rows:
        if fired is None:
            continue
        due, fired = (v if v.tzinfo else v.replace(tzinfo=UTC) for v in (due, fired))
        out.append((fired - due).total_seconds())
    return out


def wait_all_fired(app: Flask, count: int, limit: float) -> float:
    started = time.monotonic()
    while time.monotonic() - started < limit:
        if len(lags(app)) >= count:
            return time.monotonic() - started
        time.sleep(0.02)
    raise SystemExit(f"only {len(lags(app))} of {count} timers fired within {limit} s")


def run_lag(app: Flask, n: int, *, lookahead: int, spread: float) -> dict[str, float]:
    reset(app)
    app.config.update(SCHEDULER_SWEEP_SECONDS=1, SCHEDULER_LOOKAHEAD_SECONDS=lookahead)
    t0 = datetime.now(UTC) + timedelta(seconds=setup_seconds(n))
    start_probes(app, [t0 + timedelta(seconds=spread * i / max(n - 1, 1)) for i in range(n)])
    scheduler.start(app)
    try:
        wait_all_fired(app, n, setup_seconds(n) + spread + 30)
    finally:
        scheduler.stop()
    values = sorted(lags(app))
    return {
        "p50": statistics.median(values),
        "p99": values[min(len(values) - 1, round(0.99 * (len(values) - 1)))],
        "max": values[-1],
    }


def run_catch_up(app: Flask, n: int) -> float:
    reset(app)
    due = datetime.now(UTC) + timedelta(seconds=setup_seconds(n))
    start_probes(app, [due] * n)
    time.sleep(max(0.0, (due - datetime.now(UTC)).total_seconds()) + 0.5)  # "down" until then
    began = time.monotonic()
    scheduler.start(app)
    try:
        wait_all_fired(app, n, 120)
    finally:
        scheduler.stop()
    return time.monotonic() - began


def report(url: str, n: int, overdue: int) -> str:
    app = make_app(url)
    dated = run_lag(app, n, lookahead=60, spread=10)
    burst = run_lag(app, n, lookahead=60, spread=0)
    swept = run_lag(app, n, lookahead=0, spread=10)
    catch_up = run_catch_up(app, overdue)
    backend = url.split("://", 1)[0]
    row = "| {} | {:.3f} | {:.3f} | {:.3f} |"
    return "\n".join(
        [
            f"## Timer lag and catch-up ({datetime.now(UTC):%Y-%m-%d %H:%M} UTC)",
            "",
            f"Machine: {os.cpu_count()} CPUs (nproc), Python {platform.python_version()}, "
            f"{platform.system()} {platform.machine()}; database {backend} on the same machine; "
            f"`python bench/timer_lag.py{' --database-url ...' if backend != 'sqlite' else ''}`.",
            f"{n} `timer_probe` timers per run (start -> timer -> script -> end), fired by the "
            "in-process APScheduler; lag = fired_at - due_at in seconds. Timers due at the same "
            "instant fire one after another, so the burst row is the drain rate.",
            "",
            "| run | p50 | p99 | max |",
            "|---|---|---|---|",
            row.format("date jobs + 1 s sweep, due times spread over 10 s", *dated.values()),
            row.format("date jobs + 1 s sweep, all due at the same instant", *burst.values()),
            row.format("1 s sweep only (SCHEDULER_LOOKAHEAD_SECONDS=0)", *swept.values()),
            "",
            f"Catch-up: {overdue} timers that fell due while no scheduler ran all fired "
            f"{catch_up:.2f} s after the scheduler started.",
            "",
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--timers", type=int, default=100)
    parser.add_argument("--overdue", type=int, default=200)
    parser.add_argument("--write", action="store_true", help="append to bench/RESULTS.md")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        os.environ.setdefault("ZHIPING_INSTANCE_DIR", str(Path(tmp) / "instance"))
        url = args.database_url or f"sqlite:///{Path(tmp) / 'bench.db'}"
        text_out = report(url, args.timers, args.overdue)
    print(text_out)
    if args.write:
        header = "" if RESULTS.exists() else "# Benchmark results\n\n"
        with RESULTS.open("a", encoding="utf-8") as fh:
            fh.write(header + text_out + "\n")


if __name__ == "__main__":
    main()
