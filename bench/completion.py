"""Benchmark P1 (issue 15): one task completion through the HTTP API against a raw
SpiffWorkflow step of the same diagram, measured in the same run, plus the SQL statements a
completion sends and where its time goes. Run by hand:

    .venv/bin/python bench/completion.py [--rounds 200] [--profile]

Both sides do the applicant's step ``submit_application`` of ``title_application`` (load the
instance, complete the form, run forward to the unit's review, serialize). The raw step uses
the project's cached-spec serializer and script sandbox with no database and no HTTP; the API
side is ``POST /api/v1/tasks/<id>/complete`` through the Flask test client (no network), with
the unit's return in between (not timed) to bring the form back. Uses a temporary SQLite
database, or ZHIPING_BENCH_DATABASE_URL (an empty PostgreSQL database).
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import re
import statistics
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

LAYERS = (
    ("SpiffWorkflow", "/SpiffWorkflow/"),
    ("SQLAlchemy", "/sqlalchemy/"),
    ("database driver", "/psycopg/"),
    ("Flask/Werkzeug", "/flask/"),
    ("Flask/Werkzeug", "/werkzeug/"),
    ("project", str(ROOT / "engine")),
    ("project", str(ROOT / "web")),
    ("project", str(ROOT / "storage")),
)


def _kind(statement: str) -> str:
    """``SELECT human_task``, ``UPDATE application`` ...: the verb and the first table."""
    verb = statement.split(None, 1)[0].upper()
    table = re.search(r"\b(?:FROM|INTO|UPDATE)\s+(\w+)", statement, re.IGNORECASE)
    return f"{verb} {table.group(1) if table else ''}".strip()


def _ms(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(samples) * 1000, ordered[int(len(ordered) * 0.95) - 1] * 1000


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=200, help="timed completions (default 200)")
    parser.add_argument(
        "--profile", action="store_true", help="also profile 100 completions by layer"
    )
    args = parser.parse_args()

    from _setup import bench_api
    from raw_spiff import raw_samples
    from sqlalchemy import event

    from storage import db
    from tests import flows

    api = bench_api()
    unit = flows.register_unit(api)
    person = flows.register_applicant(api, unit)
    app_id = flows.file_application(api, person)
    with api.app.app_context():
        engine = db.engine
    statements: list[str] = []

    @event.listens_for(engine, "before_cursor_execute")
    def _count(_conn: Any, _cur: Any, statement: str, *_rest: Any) -> None:
        statements.append(_kind(statement))

    def submit() -> float:
        task = api.only_task(person["username"], application=app_id, name="submit_application")
        statements.clear()
        start = time.perf_counter()
        r = api.complete(task["id"], person["username"], **flows.APPLICATION_FORM)
        elapsed = time.perf_counter() - start
        assert r.status == 200, r
        return elapsed

    def give_back() -> None:
        r = flows.unit_returns(api, unit, app_id)
        assert r.status == 200, r

    for _ in range(5):
        submit()
        give_back()
    api_samples: list[float] = []
    raw: list[float] = []
    counts: list[int] = []
    kinds: Counter[str] = Counter()
    for i in range(args.rounds):
        api_samples.append(submit())
        counts.append(len(statements))
        if i == 0:
            kinds.update(statements)
        give_back()
        if i % 10 == 0:
            raw += raw_samples(10)  # the raw step, as bench/raw_spiff.py does it
    api_med, api_p95 = _ms(api_samples)
    raw_med, raw_p95 = _ms(raw)
    dialect = engine.dialect.name
    print(f"database: {dialect}")
    print(f"raw SpiffWorkflow step: median {raw_med:.2f} ms, p95 {raw_p95:.2f} ms (n={len(raw)})")
    print(
        f"HTTP task completion:   median {api_med:.2f} ms, p95 {api_p95:.2f} ms (n={len(api_samples)})"
    )
    print(f"ratio (medians): {api_med / raw_med:.1f}x")
    print(
        f"SQL statements per completion: {statistics.median(counts):.0f} (the driver's BEGIN/COMMIT not counted)"
    )
    for kind, n in sorted(kinds.items()):
        print(f"  {n} x {kind}")
    if args.profile:
        prof = cProfile.Profile()
        prof.enable()
        for _ in range(100):
            submit()
            give_back()
        prof.disable()
        stats = pstats.Stats(prof)
        by_layer: Counter[str] = Counter()
        total = 0.0
        for (filename, _line, _name), (_cc, _nc, tottime, _ct, _callers) in stats.stats.items():  # type: ignore[attr-defined]
            total += tottime
            layer = next(
                (name for name, part in LAYERS if part in filename), "other (stdlib, json, ...)"
            )
            by_layer[layer] += tottime
        print("own time by layer over 100 submits and 100 returns (profiled):")
        for layer, spent in by_layer.most_common():
            print(f"  {layer:28} {spent / total * 100:5.1f} %")


if __name__ == "__main__":
    main()
