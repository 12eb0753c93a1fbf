"""Timer lag with real scheduler processes: a burst due at one instant, and near-due timers.

    python bench/timer_lag.py [--database-url URL] [--timers 1000] [--processes 2]
                              [--near 50] [--write]

Starts --processes scheduler processes (real OS processes, each `scheduler.run_forever` on
the app of this checkout, default settings), then `timer_probe` instances (start -> timer ->
script -> end) all due at the same instant, a few seconds after the last is created, and
measures, per timer, the lag of fired_at - due_at and the lag until the firing was visible to a reader
polling every 20 ms. Checks that every timer fired exactly once (one `timer_fired` audit
event per instance, none twice, every instance completed): the bench fails otherwise. It also
reports the machine's busy CPU time during the burst (/proc/stat) per timer, and that work
spread over every CPU: the shortest the burst could take on this machine. Then,
with the schedulers running, starts --near timers due 3 s after they are created (less than
the planning interval) and measures their lag the same way. --write appends the results to
bench/RESULTS.md. Uses a throw-away SQLite database unless --database-url (an empty or
throw-away database: the bench empties the timer tables).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from _setup import cpu_busy_seconds, process_cpu_seconds, stop_group  # noqa: E402
from flask import Flask  # noqa: E402
from sqlalchemy import func, inspect, select, text  # noqa: E402

from storage import AuditEvent, ProcessInstance, Timer, db  # noqa: E402
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


def run_scheduler(url: str, ready: Path) -> None:
    """The child: one scheduler process on ``url`` until SIGTERM; ``ready`` once it runs."""
    app = create_app(
        {
            "DATABASE_URL": url,
            "SCHEDULER_ENABLED": False,
            "LOG_LEVEL": os.environ.get("BENCH_CHILD_LOG", "WARNING"),
        }
    )
    scheduler.start(app)
    ready.touch()
    scheduler.run_forever(app)  # the scheduler started above, until SIGTERM


class Schedulers:
    """``count`` scheduler processes running this script with --child, started and ready."""

    def __init__(self, url: str, count: int, tmp: Path) -> None:
        me = str(Path(__file__).resolve())
        ready = [tmp / f"ready-{i}" for i in range(count)]
        self.procs = [
            subprocess.Popen(
                [sys.executable, me, "--child", str(flag), "--database-url", url],
                cwd=ROOT,
                start_new_session=True,  # stop_group ends it with its script workers
            )
            for flag in ready
        ]
        deadline = time.monotonic() + 120
        while not all(flag.exists() for flag in ready):
            if time.monotonic() > deadline:
                self.stop()
                raise SystemExit("the scheduler processes did not start within 120 s")
            time.sleep(0.1)

    def cpu_seconds(self) -> float:
        """CPU time the scheduler processes have used so far (not their script workers)."""
        return sum(process_cpu_seconds(proc.pid) for proc in self.procs)

    def stop(self) -> None:
        for proc in self.procs:
            stop_group(proc)


class Poller(threading.Thread):
    """Counts fired timers every 20 ms: when each k-th firing became visible."""

    def __init__(self, app: Flask) -> None:
        super().__init__(daemon=True)
        self.app, self.seen = app, [(time.time(), 0)]
        self.stopping = threading.Event()

    def run(self) -> None:
        with self.app.app_context():
            while not self.stopping.wait(0.02):
                count = db.session.scalar(
                    select(func.count()).select_from(Timer).where(Timer.status == "fired")
                )
                db.session.rollback()
                if count != self.seen[-1][1]:
                    self.seen.append((time.time(), int(count or 0)))

    def visible_at(self, k: int) -> float:
        """Wall time (epoch s) when at least k timers were seen fired (waits for the poll)."""
        while self.seen[-1][1] < k:
            time.sleep(0.02)
        return next(t for t, n in self.seen if n >= k)


def start_probes(app: Flask, dues: list[datetime]) -> list[int]:
    return [start_process(app, "timer_probe", {"due": due.isoformat()}) for due in dues]


def fired_lags(app: Flask, ids: list[int]) -> list[float]:
    with app.app_context():
        rows = db.session.execute(
            select(Timer.due_at, Timer.fired_at).where(
                Timer.instance_id.in_(ids), Timer.status == "fired"
            )
        ).all()
    return sorted(
        (_utc(fired) - _utc(due)).total_seconds() for due, fired in rows if fired is not None
    )


def _utc(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def wait_all_fired(poller: Poller, count: int, limit: float) -> None:
    """Until the poller has seen ``count`` timers fired in all (it polls anyway, so waiting
    adds no reads of its own to the burst being measured)."""
    deadline = time.monotonic() + limit
    while poller.seen[-1][1] < count:
        if time.monotonic() > deadline:
            raise SystemExit(f"only {poller.seen[-1][1]} of {count} timers fired in {limit} s")
        time.sleep(0.02)


def check_exactly_once(app: Flask, ids: list[int]) -> None:
    """Every instance's timer fired once (one audit event) and none twice; all completed."""
    with app.app_context():
        per_instance = dict(
            db.session.execute(
                select(AuditEvent.instance_id, func.count())
                .where(AuditEvent.action == "timer_fired", AuditEvent.instance_id.in_(ids))
                .group_by(AuditEvent.instance_id)
            ).all()
        )
        completed = db.session.scalar(
            select(func.count()).where(
                ProcessInstance.id.in_(ids), ProcessInstance.status == "completed"
            )
        )
    twice = [i for i, n in per_instance.items() if n > 1]
    assert not twice, f"{len(twice)} timers fired more than once"
    assert len(per_instance) == len(ids), f"{len(ids) - len(per_instance)} timers never fired"
    assert completed == len(ids), f"{len(ids) - completed} instances not completed"


def pct(values: list[float], q: float) -> float:
    return values[min(len(values) - 1, round(q * (len(values) - 1)))]


def summary(fired: list[float], visible: list[float]) -> dict[str, float]:
    return {
        "fired p50": statistics.median(fired),
        "fired p99": pct(fired, 0.99),
        "fired max": fired[-1],
        "visible p50": statistics.median(visible),
        "visible p99": pct(visible, 0.99),
        "visible max": visible[-1],
    }


def visible_lags(poller: Poller, due: list[datetime], before: int = 0) -> list[float]:
    """The k-th earliest due time against the moment the k-th firing (after ``before``
    earlier ones) became visible."""
    dues = sorted(d.timestamp() for d in due)
    return sorted(poller.visible_at(before + k + 1) - d for k, d in enumerate(dues))


def run(url: str, args: argparse.Namespace, tmp: Path) -> tuple[dict, dict]:
    n, near = args.timers, args.near
    app = make_app(url)
    reset(app)
    procs = Schedulers(url, args.processes, tmp)
    poller = Poller(app)
    poller.start()
    try:
        due = datetime.now(UTC) + timedelta(seconds=3 + n * args.setup_ms_per_timer / 1000)
        ids = start_probes(app, [due] * n)
        if datetime.now(UTC) > due - timedelta(seconds=1):
            raise SystemExit("creating the timers took too long: raise --setup-ms-per-timer")
        time.sleep(max(0.0, (due - datetime.now(UTC)).total_seconds()))
        busy, own = cpu_busy_seconds(), procs.cpu_seconds()
        wait_all_fired(poller, n, 120)
        busy, own = cpu_busy_seconds() - busy, procs.cpu_seconds() - own
        burst = summary(fired_lags(app, ids), visible_lags(poller, [due] * n))
        # The machine's busy CPU time from the due instant until every timer was seen fired
        # (schedulers, database, this poller): spread over every CPU, the shortest the burst
        # could take with this much work per timer.
        burst["cpu per timer"] = busy / n
        burst["scheduler cpu per timer"] = own / n
        burst["cpu floor"] = busy / (os.cpu_count() or 1)
        check_exactly_once(app, ids)
        base = len(ids)
        near_dues, near_ids = [], []
        for _ in range(near):
            near_dues.append(datetime.now(UTC) + timedelta(seconds=3))
            near_ids += start_probes(app, near_dues[-1:])
        wait_all_fired(poller, base + len(near_ids), 30)
        check_exactly_once(app, near_ids)
        close = summary(fired_lags(app, near_ids), visible_lags(poller, near_dues, base))
    finally:
        procs.stop()
        poller.stopping.set()
    return burst, close


def report(url: str, args: argparse.Namespace, burst: dict, close: dict) -> str:
    backend = url.split("://", 1)[0]
    load = os.getloadavg()
    row = "| {} | " + " | ".join(["{:.3f}"] * 6) + " |"
    cmd = f"python bench/timer_lag.py --timers {args.timers} --processes {args.processes}"
    cmd += f" --near {args.near}" + (" --database-url ..." if backend != "sqlite" else "")
    return "\n".join(
        [
            f"## Timer bursts ({datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {backend}, "
            f"{args.label or ROOT.name})",
            "",
            f"Machine: {os.cpu_count()} CPUs (nproc), Python {platform.python_version()}, "
            f"{platform.system()} {platform.machine()}; database {backend} on the same machine; "
            f"load average after the run {load[0]:.1f} / {load[1]:.1f} (1 / 5 min); `{cmd}`.",
            f"{args.processes} scheduler process(es) with the default settings; lag in seconds: "
            "fired_at - due_at, and until a reader polling every 20 ms saw the firing "
            "committed. Every timer fired exactly once (checked).",
            "",
            "| run | fired p50 | fired p99 | fired max | visible p50 | visible p99 | visible max |",
            "|---|---|---|---|---|---|---|",
            row.format(f"{args.timers} timers due at the same instant", *list(burst.values())[:6]),
            row.format(f"{args.near} timers created 3 s before they fall due", *close.values()),
            "",
            f"The machine's busy CPU time during the burst: {burst['cpu per timer'] * 1000:.2f} ms "
            f"per timer (schedulers, database, script workers and the poller together; "
            f"the scheduler processes alone {burst['scheduler cpu per timer'] * 1000:.2f} ms); "
            f"spread over "
            f"{os.cpu_count()} CPUs, the burst's work takes at least {burst['cpu floor']:.2f} s.",
            "",
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--timers", type=int, default=1000, help="timers in the burst")
    parser.add_argument("--processes", type=int, default=2, help="scheduler processes")
    parser.add_argument("--near", type=int, default=50, help="timers created 3 s before due")
    parser.add_argument(
        "--setup-ms-per-timer", type=float, default=40, help="time allowed to start each probe"
    )
    parser.add_argument("--label", default="", help="names the code measured (RESULTS.md)")
    parser.add_argument("--write", action="store_true", help="append to bench/RESULTS.md")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)  # its ready file
    args = parser.parse_args()
    if args.child:
        run_scheduler(args.database_url, args.child)
        return
    with tempfile.TemporaryDirectory() as tmp:
        os.environ.setdefault("ZHIPING_INSTANCE_DIR", str(Path(tmp) / "instance"))
        url = args.database_url or f"sqlite:///{Path(tmp) / 'bench.db'}"
        burst, close = run(url, args, Path(tmp))
        text_out = report(url, args, burst, close)
    print(text_out)
    if args.write:
        header = "" if RESULTS.exists() else "# Benchmark results\n\n"
        with RESULTS.open("a", encoding="utf-8") as fh:
            fh.write(header + text_out + "\n")


if __name__ == "__main__":
    main()
