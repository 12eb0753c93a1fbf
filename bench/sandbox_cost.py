"""Benchmark: what the script sandbox costs. Run by hand:

    .venv/bin/python bench/sandbox_cost.py [--n 2000] [--rounds 15]

1. One gateway condition and one script (with a registered-function call), run in the
   server process with plain exec (no limits: what main did before the sandbox) and in
   the sandbox's worker process.
2. A task completion through the HTTP API (submit + unit return of a title application,
   which runs scripts, gateway conditions and status expressions), with the sandbox and
   with the in-process environment patched in, in the same run.

Uses a temporary SQLite database (set ZHIPING_BENCH_DATABASE_URL for PostgreSQL).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _in_process_engine(functions: Any, limits: Any = None) -> Any:
    """The pre-sandbox shape: exec in the server process, safe builtins, no limits."""
    from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine, TaskDataEnvironment

    from engine.script_policy import safe_builtins

    return PythonScriptEngine(
        environment=TaskDataEnvironment({"__builtins__": safe_builtins(), **functions})
    )


def _per_call_us(fn: Any, n: int) -> float:
    fn()
    start = time.perf_counter()
    for _ in range(n):
        fn()
    return (time.perf_counter() - start) / n * 1e6


def micro(n: int) -> None:
    from engine.scripts import script_engine

    functions = {"review_chain_for": lambda org: ["a", "b", org]}
    data = {"decision": "approve", "unit_org_id": "u", "level_index": 0, "name": "张三" * 20}
    cond = 'decision == "approve"'
    script = "review_chain = review_chain_for(unit_org_id)\nlevel_index = level_index + 1"
    for label, engine in (
        ("in process (before)", _in_process_engine(functions)),
        ("sandbox worker", script_engine(functions)),
    ):
        env = engine.environment
        e = _per_call_us(lambda env=env: env.evaluate(cond, dict(data)), n)
        s = _per_call_us(lambda env=env: env.execute(script, dict(data)), n)
        print(f"| {label} | {e:.0f} µs | {s:.0f} µs |")


def completion(rounds: int) -> None:
    from _setup import bench_api

    import engine.process_runtime as service
    from tests import flows

    api = bench_api()
    unit = flows.register_unit(api)
    person = flows.register_applicant(api, unit)
    app_id = flows.file_application(api, person)

    def one_round() -> list[float]:
        out = []
        task = api.only_task(person["username"], application=app_id, name="submit_application")
        start = time.perf_counter()
        assert api.complete(task["id"], person["username"], **flows.APPLICATION_FORM).status == 200
        out.append(time.perf_counter() - start)
        task = api.only_task(unit["username"], application=app_id, name="unit_review")
        start = time.perf_counter()
        r = api.complete(
            task["id"], unit["username"], decision="return", opinion="补充", return_reason="补充"
        )
        assert r.status == 200, r
        out.append(time.perf_counter() - start)
        return out

    sandboxed = service.script_engine
    results: dict[str, list[float]] = {"sandbox worker": [], "in process (before)": []}
    one_round()
    for _ in range(rounds):  # interleaved, so load on the machine hits both alike
        for label in results:
            service.script_engine = sandboxed if label == "sandbox worker" else _in_process_engine
            results[label] += one_round()
    service.script_engine = sandboxed
    for label, samples in results.items():
        print(f"| {label} | {statistics.median(samples) * 1000:.2f} ms | n={len(samples)} |")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--n", type=int, default=2000, help="calls per micro benchmark")
    parser.add_argument("--rounds", type=int, default=15, help="submit+return rounds per side")
    args = parser.parse_args()
    print("| environment | gateway condition | script with a function call |\n|---|---|---|")
    micro(args.n)
    print("\n| environment | task completion via HTTP API (median) | samples |\n|---|---|---|")
    completion(args.rounds)


if __name__ == "__main__":
    main()
