"""Benchmark P4 (issue 15): batch recommend (审核推荐) of 500 tasks in one request against a
single completion of the same step, measured in the same run. Run by hand:

    .venv/bin/python bench/batch.py [--batch 500] [--singles 20]

Fills a department's worklist with ``batch + singles`` applications waiting for its
recommendation (each filed, submitted, approved by the unit after publicity and approved at
the first level, through the API), then times ``singles`` recommendations one request each
(``POST /api/v1/tasks/<id>/complete``) and the rest in one ``POST /api/v1/tasks/batch-complete``.
Reports the per-item cost of the batch (its time over its items: a mean) against the mean of
the single completions, half of them timed before the batch and half after. Uses a temporary
SQLite database, or ZHIPING_BENCH_DATABASE_URL (an empty PostgreSQL database).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

REVIEWER = "yz_water_1"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument(
        "--batch", type=int, default=500, help="tasks in the one batch request (at most 500)"
    )
    parser.add_argument(
        "--singles", type=int, default=20, help="single completions timed for comparison"
    )
    args = parser.parse_args()

    from _setup import bench_api

    from tests import flows

    api = bench_api()
    unit = flows.register_unit(api)
    total = args.batch + args.singles
    started = time.perf_counter()
    for i in range(total):
        person = flows.register_applicant(api, unit)
        app_id = flows.file_application(api, person)
        flows.submit(api, person, app_id)
        flows.unit_approves(api, unit, app_id)
        task = api.only_task(REVIEWER, application=app_id, name="level_review")
        r = api.complete(task["id"], REVIEWER, decision="approve", opinion="同意", **flows.CHECKS)
        assert r.status == 200, r
        if (i + 1) % 100 == 0:
            print(
                f"  {i + 1} applications at 审核推荐 ({time.perf_counter() - started:.0f} s)",
                flush=True,
            )
    ids: list[str] = []
    while len(ids) < total:
        page = api.tasks(REVIEWER, name="recommend", limit="500", offset=str(len(ids)))
        assert page, len(ids)
        ids += [t["id"] for t in page]
    assert len(ids) == total, len(ids)
    singles: list[float] = []

    def single(task_id: str) -> None:
        start = time.perf_counter()
        r = api.complete(task_id, REVIEWER, note="推荐")
        singles.append(time.perf_counter() - start)
        assert r.status == 200, r

    # Half the single completions before the batch and half after, so a drift of the
    # machine's load during the run weighs on both sides alike.
    half = args.singles // 2
    for task_id in ids[:half]:
        single(task_id)
    rest = ids[half : len(ids) - (args.singles - half)]
    start = time.perf_counter()
    r = api.post(
        "/tasks/batch-complete", REVIEWER, json={"task_ids": rest, "data": {"note": "推荐"}}
    )
    batch = time.perf_counter() - start
    assert r.status == 200 and all(x["ok"] for x in r.json["results"]), r
    for task_id in ids[len(ids) - (args.singles - half) :]:
        single(task_id)
    mean, median = statistics.mean(singles) * 1000, statistics.median(singles) * 1000
    per_item = batch / len(rest) * 1000
    print(
        f"single recommendation (HTTP, {len(singles)}): mean {mean:.2f} ms, median {median:.2f} ms"
    )
    print(
        f"batch of {len(rest)} in one request: {batch:.2f} s, {per_item:.2f} ms per item (a mean)"
    )
    print(f"ratio per item / single (means): {per_item / mean:.2f}x")


if __name__ == "__main__":
    main()
