"""Benchmark: task completion through the HTTP API, before and after 20 return rounds,
and worklist cost against the number of instances. Run by hand:

    .venv/bin/python bench/task_api.py [--rounds 20] [--instances 200]

Uses a temporary SQLite database (set ZHIPING_BENCH_DATABASE_URL for PostgreSQL).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _median_ms(samples: list[float]) -> str:
    ordered = sorted(samples)
    p95 = ordered[int(len(ordered) * 0.95) - 1] if len(ordered) >= 20 else ordered[-1]
    return f"median {statistics.median(samples) * 1000:.1f} ms, p95 {p95 * 1000:.1f} ms (n={len(samples)})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--instances", type=int, default=200)
    args = parser.parse_args()
    from _setup import bench_api

    from tests import flows

    api = bench_api()
    unit = flows.register_unit(api)
    person = flows.register_applicant(api, unit)
    app_id = flows.file_application(api, person)

    def timed_submit() -> float:
        task = api.only_task(person["username"], application=app_id, name="submit_application")
        start = time.perf_counter()
        r = api.complete(task["id"], person["username"], **flows.APPLICATION_FORM)
        elapsed = time.perf_counter() - start
        assert r.status == 200, r
        return elapsed

    def timed_return() -> float:
        task = api.only_task(unit["username"], application=app_id, name="unit_review")
        start = time.perf_counter()
        r = api.complete(
            task["id"],
            unit["username"],
            decision="return",
            opinion="补充材料",
            return_reason="补充",
        )
        elapsed = time.perf_counter() - start
        assert r.status == 200, r
        return elapsed

    fresh = [timed_submit()]
    fresh.append(timed_return())
    for _ in range(4):
        fresh += [timed_submit(), timed_return()]
    late: list[float] = []
    for i in range(args.rounds):
        s, r = timed_submit(), timed_return()
        if i >= args.rounds - 5:
            late += [s, r]
    print(f"task completion via HTTP API, first rounds: {_median_ms(fresh)}")
    print(f"task completion via HTTP API, after {args.rounds} returns: {_median_ms(late)}")

    def worklist_time() -> float:
        samples = []
        for _ in range(30):
            start = time.perf_counter()
            api.tasks(person["username"])
            samples.append(time.perf_counter() - start)
        return statistics.median(samples)

    small = worklist_time()
    for _ in range(args.instances):
        other = flows.register_applicant(api, unit)
        other_app = flows.file_application(api, other)
        flows.submit(api, other, other_app)
    large = worklist_time()
    print(
        f"an applicant's worklist (one task) with few instances: {small * 1000:.1f} ms; "
        f"with {args.instances} more applications: {large * 1000:.1f} ms"
    )


if __name__ == "__main__":
    main()
