"""Benchmark: start-up (process start to the first GET /api/v1/health answer of `run.py serve`
on an already migrated and deployed database) and the command line's --help (`run.py --help`
and the --help of every command and subcommand); also `serve --no-scheduler` (as web
workers start: no scheduler in the process). Run by hand:

    .venv/bin/python bench/startup.py [--runs 7] [--compare /tmp/before]

--compare adds other checkouts (each with its .venv, e.g. a `git worktree` of an older commit
with .venv symlinked): the runs of all checkouts are interleaved, so that the ratios are taken
within one run on the same machine load. Each checkout serves its own temporary SQLite
database, migrated and deployed by its own `run.py bpmn deploy` before the timed runs; the
server listens on --port (58110 by default) and is stopped after its first answer.
"""

from __future__ import annotations

import argparse
import http.client
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _setup import stop_group

ROOT = Path(__file__).resolve().parent.parent


def _env(tree: Path, workdir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ZHIPING_")}
    env["ZHIPING_INSTANCE_DIR"] = str(workdir / "instance")
    env["ZHIPING_DATABASE_URL"] = f"sqlite:///{workdir / 'startup.db'}"
    return env


def _python(tree: Path) -> str:
    return str(tree / ".venv" / "bin" / "python")


def _run(tree: Path, env: dict[str, str], *args: str) -> tuple[float, str]:
    start = time.perf_counter()
    done = subprocess.run(
        [_python(tree), str(tree / "run.py"), *args],
        cwd=tree,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return time.perf_counter() - start, done.stdout


def _commands(help_text: str) -> list[str]:
    """The command names a click --help lists under "Commands:"."""
    lines = help_text.split("Commands:", 1)[1].splitlines() if "Commands:" in help_text else []
    return [line.split()[0] for line in lines if line.startswith("  ") and line.strip()]


def help_invocations(tree: Path, env: dict[str, str]) -> list[tuple[str, ...]]:
    """Every --help the command line has: the top level, each command, each subcommand."""
    found: list[tuple[str, ...]] = [()]
    _seconds, top = _run(tree, env, "--help")
    for name in _commands(top):
        found.append((name,))
        _seconds, text = _run(tree, env, name, "--help")
        found += [(name, sub) for sub in _commands(text)]
    return found


def _health(port: int) -> bool:
    try:
        sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    except OSError:
        return False
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    conn.sock = sock
    try:
        # The port is in the kernel's ephemeral range: a connect may pick it as its own source
        # port and reach itself (TCP simultaneous open) while nothing listens there yet.
        if sock.getsockname()[1] == port:
            return False
        conn.request("GET", "/api/v1/health")
        return conn.getresponse().status == 200
    except (OSError, http.client.HTTPException):
        return False
    finally:
        conn.close()


def time_to_first_answer(tree: Path, env: dict[str, str], port: int, *extra: str) -> float:
    """Seconds from starting `run.py serve` to its first 200 from /api/v1/health."""
    start = time.perf_counter()
    proc = subprocess.Popen(
        [_python(tree), str(tree / "run.py"), "serve", "--port", str(port), *extra],
        cwd=tree,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        while not _health(port):
            if proc.poll() is not None:
                raise SystemExit(f"{tree}: serve exited with {proc.returncode}")
            if time.perf_counter() - start > 60:
                raise SystemExit(f"{tree}: no answer within 60 s")
            time.sleep(0.005)
        return time.perf_counter() - start
    finally:
        stop_group(proc, timeout=10)


def _ms(samples: list[float]) -> str:
    return f"median {statistics.median(samples) * 1000:.0f} ms (min {min(samples) * 1000:.0f})"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=7, help="start-ups per checkout")
    parser.add_argument("--help-runs", type=int, default=3, help="timings of each --help")
    parser.add_argument("--port", type=int, default=58110)
    parser.add_argument(
        "--compare", type=Path, nargs="*", default=[], help="other checkouts to time alike"
    )
    args = parser.parse_args()
    trees = [ROOT, *(p.resolve() for p in args.compare)]
    workdir = Path(tempfile.mkdtemp(prefix="zp-startup-"))
    envs = {}
    for n, tree in enumerate(trees):
        (workdir / str(n)).mkdir()
        envs[tree] = _env(tree, workdir / str(n))
        _run(tree, envs[tree], "bpmn", "deploy")  # migrates first
    load_before = os.getloadavg()
    helps = {tree: help_invocations(tree, envs[tree]) for tree in trees}
    help_times: dict[Path, dict[tuple[str, ...], list[float]]] = {t: {} for t in trees}
    for _ in range(args.help_runs):
        for tree in trees:
            for invocation in helps[tree]:
                seconds, _out = _run(tree, envs[tree], *invocation, "--help")
                help_times[tree].setdefault(invocation, []).append(seconds)
    starts: dict[Path, list[float]] = {t: [] for t in trees}
    alone: dict[Path, list[float]] = {t: [] for t in trees}
    for _ in range(args.runs):
        for tree in trees:
            starts[tree].append(time_to_first_answer(tree, envs[tree], args.port))
            alone[tree].append(time_to_first_answer(tree, envs[tree], args.port, "--no-scheduler"))
    load_after = os.getloadavg()

    print(f"load average (1/5/15 min) before {load_before}, after {load_after}")
    for tree in trees:
        times = help_times[tree]
        per_command = {inv: statistics.median(s) for inv, s in times.items()}
        slowest = max(per_command, key=lambda inv: per_command[inv])
        print(f"\n{tree}")
        print(f"  run.py --help: {_ms(times[()])}")
        print(
            f"  {len(per_command)} --help invocations: median of medians "
            f"{statistics.median(per_command.values()) * 1000:.0f} ms, slowest "
            f"`{' '.join(slowest) or '(top)'} --help` {per_command[slowest] * 1000:.0f} ms"
        )
        print(f"  serve to first health answer ({args.runs} runs): {_ms(starts[tree])}")
        print(f"  serve --no-scheduler, the same: {_ms(alone[tree])}")
    if len(trees) > 1:
        base = trees[1]
        print(f"\nratios, this checkout / {base}:")
        print(
            "  run.py --help "
            f"{statistics.median(help_times[ROOT][()]) / statistics.median(help_times[base][()]):.2f}"
            ", start-up "
            f"{statistics.median(starts[ROOT]) / statistics.median(starts[base]):.2f}"
            ", start-up without the scheduler "
            f"{statistics.median(alone[ROOT]) / statistics.median(alone[base]):.2f}"
        )


if __name__ == "__main__":
    sys.exit(main())
