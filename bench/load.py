"""Benchmark: task completions per second under gunicorn on PostgreSQL, by worker and client
count (issue 15, P6: `gunicorn -w 4` at 32 clients >= 2.5x `gunicorn -w 1`). Run by hand:

    .venv/bin/python bench/load.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/zp_load

The database named in --database-url is DROPPED and made anew (its server's `postgres`
database is used to do so). It is migrated and deployed, the tests' organisations are loaded
and --applications applicants (one unit) each file an application: every application then
waits at its own ready task, the applicant's `submit_application`.

Then, for each --workers count, gunicorn serves `web:create_app()` as the README's production
sketch does (`-w N`, sync workers unless --worker-class / --threads say otherwise, the same
settings for every count) on 127.0.0.1:--port, and for each --clients count that many threads
complete tasks for --seconds after a --warmup: a client takes an application nobody else holds,
completes its ready task over HTTP (`POST /api/v1/tasks/<id>/complete`, a new connection
each, as a sync worker closes it) and puts it back with the next ready task from the answer:
the applicant's form is followed by the unit's return (退回), which is followed by the form
again (an instance is compacted when it loops back, so its cost stays flat). Every request
completes a distinct task. Reported per worker and client count: completions/s, p50 and p99
latency, errors (any answer but 200, or a failed connection: there must be none), and the
ratio of each worker count's completions/s to the first's at the same client count.
Also reported: how many of the machine's CPUs were busy while each was measured (/proc/stat:
workers, database and load generator together), and the ceiling that sets for the ratio, the
CPUs over the CPUs busy with the first worker count. --rounds repeats the whole sweep, alternating the worker counts, so that a change in the
machine's load (it is shared) shows as a difference between rounds.

gunicorn must be importable by this Python (`pip install gunicorn`, as in the README), or give
--gunicorn-path, a directory holding the gunicorn package (e.g. `pip install --target DIR`).
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import queue
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from _setup import cpu_busy_seconds, stop_group  # noqa: E402

RETURN = {"decision": "return", "opinion": "补充材料", "return_reason": "补充"}


@dataclass
class Case:
    """One application: who acts at its ready task, and that task."""

    app_id: str
    applicant_token: str
    unit_token: str
    task_id: str
    task_name: str = "submit_application"


@dataclass
class Sample:
    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def recreate_database(url: str) -> None:
    """Drop and create the database of url (through the server's `postgres` database)."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    target = make_url(url)
    name = target.database or ""
    if not name:
        raise SystemExit("--database-url names no database")
    admin = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()


def prepare(url: str, count: int) -> list[Case]:
    """Migrate, deploy, load the organisations; count applicants each file an application."""
    os.environ["ZHIPING_BENCH_DATABASE_URL"] = url
    from _setup import bench_api

    from tests import flows

    api = bench_api()
    unit = flows.register_unit(api)
    unit_token = api.login(unit["username"])
    cases = []
    for n in range(count):
        person = flows.register_applicant(api, unit, name=f"压测{n}")
        app_id = flows.file_application(api, person)
        task = api.only_task(person["username"], application=app_id, name="submit_application")
        cases.append(Case(app_id, api.login(person["username"]), unit_token, task["id"]))
    with api.app.app_context():
        api.app.extensions["sqlalchemy"].engine.dispose()
    return cases


def _connect(port: int) -> http.client.HTTPConnection:
    sock = socket.create_connection(("127.0.0.1", port), timeout=30)
    if sock.getsockname()[1] == port:  # reached itself (simultaneous open): not a server
        sock.close()
        raise ConnectionRefusedError("connected to itself")
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.sock = sock
    return conn


def _request(port: int, method: str, path: str, token: str | None, body: Any = None) -> Any:
    conn = _connect(port)
    try:
        headers = {"Content-Type": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        payload = json.dumps(body).encode() if body is not None else None
        conn.request(method, path, body=payload, headers=headers)
        response = conn.getresponse()
        data = response.read()
        return response.status, json.loads(data) if data else None
    finally:
        conn.close()


def complete(port: int, case: Case) -> tuple[int, Any]:
    """Complete the case's ready task; on 200 the case moves on to its next task."""
    if case.task_name == "submit_application":
        token, data = case.applicant_token, flows_form()
    else:
        token, data = case.unit_token, RETURN
    status, body = _request(
        port, "POST", f"/api/v1/tasks/{case.task_id}/complete", token, {"data": data}
    )
    if status == 200:
        wanted = "unit_review" if case.task_name == "submit_application" else "submit_application"
        nxt = next(t for t in body["next_tasks"] if t["name"] == wanted)
        case.task_id, case.task_name = nxt["id"], wanted
    return status, body


@cache
def flows_form() -> dict[str, Any]:
    """The applicant's form the tests submit (imported once, on first use)."""
    from tests import flows

    return flows.APPLICATION_FORM


def resync(port: int, case: Case) -> None:
    """After an error: read the application's ready task again (as its two actors)."""
    for token in (case.applicant_token, case.unit_token):
        status, body = _request(port, "GET", f"/api/v1/tasks?application={case.app_id}", token)
        if status == 200 and body["items"]:
            case.task_id, case.task_name = body["items"][0]["id"], body["items"][0]["name"]
            return


def drive(port: int, cases: list[Case], clients: int, seconds: float) -> tuple[Sample, float]:
    """clients threads completing distinct tasks for `seconds`; (samples, elapsed)."""
    free: queue.Queue[Case] = queue.Queue()
    for case in cases:
        free.put(case)
    sample = Sample()
    lock = threading.Lock()
    stop_at = time.perf_counter() + seconds

    def client() -> None:
        while time.perf_counter() < stop_at:
            case = free.get()
            start = time.perf_counter()
            try:
                status, body = complete(port, case)
                error = None if status == 200 else f"{status} {body}"
            except (OSError, http.client.HTTPException, ValueError, StopIteration) as exc:
                error = f"{type(exc).__name__}: {exc}"
            elapsed = time.perf_counter() - start
            with lock:
                if error is None:
                    sample.latencies.append(elapsed)
                else:
                    sample.errors.append(error)
            if error is not None:
                with contextlib.suppress(OSError, http.client.HTTPException, ValueError, KeyError):
                    resync(port, case)
            free.put(case)

    started = time.perf_counter()
    threads = [threading.Thread(target=client) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sample, time.perf_counter() - started


def start_gunicorn(args: argparse.Namespace, workers: int, env: dict[str, str]) -> Any:
    cmd = [
        sys.executable,
        "-m",
        "gunicorn",
        "-w",
        str(workers),
        "-b",
        f"127.0.0.1:{args.port}",
        "--worker-class",
        args.worker_class,
        "--threads",
        str(args.threads),
        "--backlog",
        "2048",
        "--timeout",
        "120",
        "web:create_app()",
    ]
    if args.no_control_socket:  # gunicorn 24+: else every run shares ~/.gunicorn/gunicorn.ctl
        cmd.insert(-1, "--no-control-socket")
    proc = subprocess.Popen(
        cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, start_new_session=True
    )
    deadline = time.perf_counter() + 120
    up = 0
    while up < workers * 3:  # a few answers, so that every worker has likely booted
        if proc.poll() is not None or time.perf_counter() > deadline:
            raise SystemExit(f"gunicorn -w {workers} did not start")
        try:
            status, _body = _request(args.port, "GET", "/api/v1/health", None)
            up += status == 200
        except (OSError, http.client.HTTPException, ValueError):
            time.sleep(0.05)
    return proc


def _gunicorn_env(args: argparse.Namespace) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ZHIPING_")}
    if args.gunicorn_path:
        env["PYTHONPATH"] = os.pathsep.join([str(args.gunicorn_path), str(ROOT)])
    return env


def _pct(latencies: list[float], q: float) -> float:
    ordered = sorted(latencies)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))] * 1000 if ordered else 0.0


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url", required=True, help="PostgreSQL; dropped and remade")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 4])
    parser.add_argument("--clients", type=int, nargs="+", default=[8, 32, 64])
    parser.add_argument("--seconds", type=float, default=15.0, help="measured, per client count")
    parser.add_argument("--warmup", type=float, default=4.0, help="unmeasured, per client count")
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--applications", type=int, default=0, help="default: 2x most clients")
    parser.add_argument("--port", type=int, default=58120)
    parser.add_argument("--worker-class", default="sync", help="gunicorn --worker-class")
    parser.add_argument("--threads", type=int, default=1, help="gunicorn --threads")
    parser.add_argument("--gunicorn-path", type=Path, help="a directory holding gunicorn")
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a ZHIPING_* setting for the server, e.g. "
        "SQLALCHEMY_ENGINE_OPTIONS='{\"pool_pre_ping\": false}' (repeatable)",
    )
    args = parser.parse_args()
    count = args.applications or 2 * max(args.clients)
    if count < max(args.clients):
        raise SystemExit("--applications must be at least the largest client count")

    probe = subprocess.run(
        [sys.executable, "-m", "gunicorn", "--help"],
        env=_gunicorn_env(args),
        capture_output=True,
        text=True,
    )
    if probe.returncode != 0:
        raise SystemExit("gunicorn is not importable: pip install gunicorn, or --gunicorn-path")
    args.no_control_socket = "--no-control-socket" in probe.stdout
    recreate_database(args.database_url)
    started = time.perf_counter()
    cases = prepare(args.database_url, count)
    print(f"prepared {len(cases)} applications in {time.perf_counter() - started:.0f} s")

    env = _gunicorn_env(args)
    env["ZHIPING_DATABASE_URL"] = args.database_url
    env["ZHIPING_INSTANCE_DIR"] = tempfile.mkdtemp(prefix="zp-load-")
    env["ZHIPING_SECRET_KEY"] = "bench-load"
    env["ZHIPING_LOG_LEVEL"] = "WARNING"
    for item in args.set:
        name, _, value = item.partition("=")
        env[f"ZHIPING_{name}"] = value

    results: dict[tuple[int, int], list[tuple[float, Sample]]] = {}
    busy_cpus: dict[tuple[int, int], list[float]] = {}  # the whole machine's, while measured
    loads = [os.getloadavg()]
    for _round in range(args.rounds):
        for workers in args.workers:
            proc = start_gunicorn(args, workers, env)
            try:
                for clients in args.clients:
                    drive(args.port, cases, clients, args.warmup)
                    busy = cpu_busy_seconds()
                    sample, elapsed = drive(args.port, cases, clients, args.seconds)
                    cpus = (cpu_busy_seconds() - busy) / elapsed
                    rate = len(sample.latencies) / elapsed
                    results.setdefault((workers, clients), []).append((rate, sample))
                    busy_cpus.setdefault((workers, clients), []).append(cpus)
                    print(
                        f"round {_round + 1} -w {workers} {clients:>3} clients: {rate:6.1f}/s "
                        f"p50 {_pct(sample.latencies, 0.5):5.0f} ms "
                        f"p99 {_pct(sample.latencies, 0.99):5.0f} ms "
                        f"errors {len(sample.errors)} load {os.getloadavg()[0]:.1f} "
                        f"CPUs busy {cpus:.2f} of {os.cpu_count()}",
                        flush=True,
                    )
                    for error in sample.errors[:3]:
                        print(f"    {error[:200]}")
            finally:
                stop_group(proc)
            loads.append(os.getloadavg())

    print(f"\nload average (1 min) along the run: {', '.join(f'{x[0]:.1f}' for x in loads)}")
    print(f"worker class {args.worker_class}, threads {args.threads}, settings {args.set or '-'}")
    print(
        "| workers | clients | completions/s (median of rounds) | p50 ms | p99 ms | errors "
        "| CPUs busy |"
    )
    print("|---|---|---|---|---|---|---|")
    medians: dict[tuple[int, int], float] = {}
    for (workers, clients), runs in sorted(results.items()):
        medians[workers, clients] = statistics.median(rate for rate, _s in runs)
        lat = [x for _rate, s in runs for x in s.latencies]
        errors = sum(len(s.errors) for _rate, s in runs)
        print(
            f"| {workers} | {clients} | {medians[workers, clients]:.1f} | "
            f"{_pct(lat, 0.5):.0f} | {_pct(lat, 0.99):.0f} | {errors} | "
            f"{statistics.median(busy_cpus[workers, clients]):.2f} |"
        )
    base = args.workers[0]
    for workers in args.workers[1:]:
        ratios = ", ".join(
            f"{c} clients {medians[workers, c] / medians[base, c]:.2f}x" for c in args.clients
        )
        print(f"-w {workers} / -w {base}: {ratios}")
    # With the load generator, the workers and the database on the same CPUs, more workers
    # can at most fill the CPUs that one worker's run left idle.
    ceilings = ", ".join(
        f"{c} clients {(os.cpu_count() or 1) / statistics.median(busy_cpus[base, c]):.2f}x"
        for c in args.clients
    )
    print(f"ceiling on this machine (CPUs / CPUs busy at -w {base}): {ceilings}")


if __name__ == "__main__":
    main()
