"""Benchmark: worklists and application filing against the number of open instances.

Fills two databases fast with bulk inserts shaped like real rows (an org tree of 10 cities,
5 districts each, 500 units; one applicant, application, instance and task-index row per
instance, spread over the stages of title_application and dossier_review), one to the
smaller count of open instances, the other to the larger, and times through the JSON API
(Flask test client), the two in turn. The measured orgs get 120-180 tasks among the first
instances, so that their pages are full (50 rows) at both counts and a page costs the same
to render: what grows is their queues, everyone else's and the tables.

- ``GET /api/v1/tasks`` for a unit, a department (yz-water), a district hrss (yz-hrss), the
  city's office (nb-office) and an applicant: the whole list, a name filter (the tabs'
  counts: level_review, recommend), a process filter and a later page (offset);
- ``POST /api/v1/applications`` (a fresh applicant each time).

p50 / p95 per request, and the ratio large / small. With ``--explain`` the SQL of each
worklist request is captured and its plan printed (PostgreSQL: EXPLAIN (ANALYZE, BUFFERS)).

    .venv/bin/python bench/worklist_scale.py [--small 1000] [--large 100000] [--explain]

Two apps in one process, one per count (SQLite in temporary folders; for PostgreSQL set ZHIPING_BENCH_DATABASE_URL and ZHIPING_BENCH_DATABASE_URL_LARGE
to two empty databases), timed in turn so that the machine's load falls on both alike.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import re
import shutil
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# The review page whose tabs (待审查 / 审查通过 / 退回 / 评审不通过) carry counts, signed in.
PAGE = "/review/qualification?tab=pending"
PAGES = [("yz_water_1", "dept yz-water"), ("nb_office_1", "office nb-office")]
QUEUE = re.compile(r'id="tab-pending"[^>]*>[^<]*<span class="count">（(\d+)）')


def pct(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] * 1000


def requests_for(t: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(label, user, query) of the worklist requests timed."""
    unit, person = t["unit"]["username"], t["person"]["username"]
    out = [("unit: all", unit, ""), ("unit: review_dossier", unit, "name=review_dossier")]
    for who, user in (
        ("dept yz-water", "yz_water_1"),
        ("hrss yz-hrss", "yz_hrss_1"),
        ("office nb-office", "nb_office_1"),
    ):
        out += [
            (f"{who}: all", user, ""),
            (f"{who}: level_review", user, "name=level_review"),
            (f"{who}: recommend", user, "name=recommend"),
            (f"{who}: process", user, "process=title_application"),
            (f"{who}: page 3", user, "offset=100"),
        ]
    out.append(("applicant: all", person, ""))
    out += [(f"page {who}: 资格审查 tabs", user, PAGE) for user, who in PAGES]
    return out


class Side:
    """One app on its own database, filled to one count of open instances."""

    def __init__(self, url: str | None, total: int) -> None:
        from _setup import bench_api
        from _worklist_fill import Filler, template

        self.api = bench_api(url)
        self.folder = Path(os.environ["ZHIPING_INSTANCE_DIR"]).parent
        self.t = template(self.api)
        self.filler = Filler(self.api.app, self.t)
        self.filler.orgs()
        self.total = total
        took = self.filler.fill_to(total)
        print(f"filled to {total} open instances in {took:.1f} s", flush=True)
        self.sql: list[tuple[float, int]] = []  # per filing: its statements' time, count
        self.reqs = requests_for(self.t)
        for _label, user, _query in self.reqs:
            self.api.login(user)
        from tests.page_helpers import signed_in

        self.api.app.config["WTF_CSRF_ENABLED"] = False  # signing in as the tests do
        self.pages = {user: signed_in(self.api.app, user) for user, _ in PAGES}

    def get(self, i: int) -> tuple[float, int]:
        label, user, query = self.reqs[i]
        if label.startswith("page"):
            start = time.perf_counter()
            r = self.pages[user].get(query)
            elapsed = time.perf_counter() - start
            assert r.status_code == 200, r
            return elapsed, int(QUEUE.search(r.get_data(as_text=True)).group(1))  # type: ignore[union-attr]
        start = time.perf_counter()
        got = self.api.get(f"/tasks?{query}", user)
        elapsed = time.perf_counter() - start
        assert got.status == 200, got
        return elapsed, got.json["total"]

    def people(self, count: int) -> list[str]:
        from tests import flows

        people = self.filler.applicants(count)
        for who in people:
            flows.PASSWORDS[who] = self.t["password"]
            self.api.login(who)
        return people

    def file(self, who: str) -> float:
        """One filing's time; its statements' own time is added to ``self.sql``."""
        from sqlalchemy import event

        spent: list[float] = []

        def before(conn: Any, cursor: Any, stmt: str, params: Any, ctx: Any, many: bool) -> None:
            conn.info["bench_t0"] = time.perf_counter()

        def after(conn: Any, cursor: Any, stmt: str, params: Any, ctx: Any, many: bool) -> None:
            spent.append(time.perf_counter() - conn.info["bench_t0"])

        engine = self.filler.engine
        event.listen(engine, "before_cursor_execute", before)
        event.listen(engine, "after_cursor_execute", after)
        body = {"series": "工程", "level": "中级", "specialty": "水利工程"}
        try:
            start = time.perf_counter()
            r = self.api.post("/applications", who, json=body)
            elapsed = time.perf_counter() - start
        finally:
            event.remove(engine, "before_cursor_execute", before)
            event.remove(engine, "after_cursor_execute", after)
        assert r.status == 201, r
        self.sql.append((sum(spent), len(spent)))
        return elapsed


def measure(sides: list[Side], samples: int, filings: int) -> list[dict[str, Any]]:
    """Each request on each side in turn (the order alternating), so that a burst of load
    from the machine's other users falls on both counts alike."""
    out: list[dict[str, Any]] = [{"lists": {}, "filing": []} for _ in sides]
    labels = [label for label, _user, _query in sides[0].reqs]
    people = [side.people(filings + 2) for side in sides]
    gc.collect()  # the fill's garbage, not the requests'
    for n in range(samples + 1):
        for i, label in enumerate(labels):
            for s in sides if n % 2 else reversed(sides):
                took, total = s.get(i)
                row = out[sides.index(s)]["lists"].setdefault(label, {"times": []})
                row["total"] = total
                if n:  # the first round warms the caches
                    row["times"].append(took)
    for n in range(filings + 2):
        for s in sides if n % 2 else reversed(sides):
            took = s.file(people[sides.index(s)][n])
            if n >= 2:
                out[sides.index(s)]["filing"].append(took)
    return out


def _captured(engine: Any, act: Any, keep: Any) -> list[tuple[str, Any]]:
    """The statements ``act()`` sends that ``keep(statement)`` accepts, with parameters."""
    from sqlalchemy import event

    seen: list[tuple[str, Any]] = []

    def grab(conn: Any, cursor: Any, stmt: str, params: Any, ctx: Any, many: bool) -> None:
        if keep(stmt):
            seen.append((stmt, params))

    event.listen(engine, "before_cursor_execute", grab)
    try:
        act()
    finally:
        event.remove(engine, "before_cursor_execute", grab)
    return seen


def _plan(engine: Any, stmt: str, params: Any) -> list[str]:
    pg = engine.dialect.name == "postgresql"
    raw = engine.raw_connection()
    try:  # closed without a commit: a plan of a locking SELECT takes its locks for no longer
        cur = raw.cursor()
        cur.execute(("EXPLAIN (ANALYZE, BUFFERS) " if pg else "EXPLAIN QUERY PLAN ") + stmt, params)
        return [row[0] if pg else row[-1] for row in cur.fetchall()]
    finally:
        raw.close()


def explain(side: Side) -> None:
    """The plan of each SQL statement a worklist request sends about tasks; then the scans
    of every SELECT of an application's filing."""
    engine = side.filler.engine

    def selects(stmt: str) -> bool:
        return stmt.lstrip().upper().startswith("SELECT")

    for label, user, query in side.reqs:
        if not label.endswith(("all", "level_review")) or label.startswith("hrss"):
            continue
        got = _captured(
            engine,
            lambda: side.api.get(f"/tasks?{query}", user),  # noqa: B023
            lambda stmt: selects(stmt) and "FROM human_task" in stmt,
        )
        for stmt, params in got:
            print(f"\n--- {label}: {' '.join(stmt.split())[:300]}")
            for line in _plan(engine, stmt, params):
                print("   ", line)
    (who,) = side.people(1)
    got = _captured(engine, lambda: side.file(who), selects)
    print(f"\n--- POST /applications: {len(got)} SELECTs, their scans")
    for stmt, params in got:
        scans = [
            ln.strip()
            for ln in _plan(engine, stmt, params)
            if "Scan" in ln or "SCAN" in ln or "SEARCH" in ln
        ]
        print(f"    {' '.join(stmt.split())[:90]}\n        {' | '.join(scans)}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--small", type=int, default=1000, help="open instances, first count")
    parser.add_argument("--large", type=int, default=100000, help="open instances, second count")
    parser.add_argument("--samples", type=int, default=40, help="timings per worklist request")
    parser.add_argument("--filings", type=int, default=30, help="applications filed per count")
    parser.add_argument("--explain", action="store_true", help="print the worklist query plans")
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args()
    url = os.environ.get("ZHIPING_BENCH_DATABASE_URL")
    large_url = os.environ.get("ZHIPING_BENCH_DATABASE_URL_LARGE")
    if bool(url) != bool(large_url):
        parser.error("set both ZHIPING_BENCH_DATABASE_URL and ..._LARGE (two empty databases)")
    sides = [Side(url, args.small), Side(large_url, args.large)]
    small, large = measure(sides, args.samples, args.filings)
    if args.explain:
        explain(sides[1])
    db = sides[0].filler.engine.dialect.name
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"\n{db}; load average at the end {load}")
    print(f"| request | total at {args.small} → {args.large} | p50 ms | p95 ms | p95 ratio |")
    print("|---|---|---|---|---|")
    ratios = []
    for label in small["lists"]:
        a, b = small["lists"][label], large["lists"][label]
        ratio = pct(b["times"], 0.95) / pct(a["times"], 0.95)
        ratios.append(ratio)
        print(
            f"| {'GET' if label.startswith('page') else 'GET /tasks'} {label} | {a['total']} → {b['total']} | "
            f"{pct(a['times'], 0.5):.1f} → {pct(b['times'], 0.5):.1f} | "
            f"{pct(a['times'], 0.95):.1f} → {pct(b['times'], 0.95):.1f} | {ratio:.2f}x |"
        )
    fa, fb = small["filing"], large["filing"]
    print(
        f"| POST /applications | — | {pct(fa, 0.5):.1f} → {pct(fb, 0.5):.1f} | "
        f"{pct(fa, 0.95):.1f} → {pct(fb, 0.95):.1f} | {pct(fb, 0.95) / pct(fa, 0.95):.2f}x |"
    )
    sa, sb = ([t for t, _n in side.sql[2:]] for side in sides)
    print(
        f"| POST /applications, its SQL statements' own time | {sides[0].sql[-1][1]} → "
        f"{sides[1].sql[-1][1]} statements | {pct(sa, 0.5):.1f} → {pct(sb, 0.5):.1f} | "
        f"{pct(sa, 0.95):.1f} → {pct(sb, 0.95):.1f} | {pct(sb, 0.95) / pct(sa, 0.95):.2f}x |"
    )
    print(f"worst worklist p95 ratio {max(ratios):.2f}x, median {statistics.median(ratios):.2f}x")
    if args.json:
        Path(args.json).write_text(json.dumps([small, large], default=str))
    for side in sides:
        shutil.rmtree(side.folder, ignore_errors=True)


if __name__ == "__main__":
    main()
