"""Worklists (GET /api/v1/tasks): pages in (created_at, id) order, exact totals on every page
and filter, transferred tasks left out of others' lists and counts, and the page read off an
index in order rather than sorted (docs/decisions/0026-worklist-indexes.md)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event, select

from storage import HumanTask, ProcessInstance, TaskTransfer, User, db
from tests import flows

T0 = datetime(2026, 11, 20, 1, 0, tzinfo=UTC)


def _queue(app: Any, api: Any, org: str, lane: str, spec: list[tuple[str, int]]) -> list[str]:
    """Index rows in ``org``'s queue, one per (task name, minutes after T0), all on one real
    instance; their ids in the order a worklist must list them (created_at, then id)."""
    flows.register_unit(api)  # an instance for the rows to hang on
    with app.app_context():
        inst = db.session.scalars(select(ProcessInstance.id)).first()
        rows = []
        for n, (name, minutes) in enumerate(spec):
            # ids deliberately out of creation order; equal times are ordered by id
            task_id = f"wl-{(5 * n) % len(spec):02d}"
            rows.append((T0 + timedelta(minutes=minutes), task_id))
            db.session.add(
                HumanTask(
                    id=task_id,
                    instance_id=inst,
                    process_id="title_application",
                    name=name,
                    title=name,
                    lane=lane,
                    org_id=org,
                    created_at=T0 + timedelta(minutes=minutes),
                )
            )
        db.session.commit()
    return [task_id for _at, task_id in sorted(rows)]


SPEC = [
    ("level_review", 5),
    ("recommend", 1),
    ("level_review", 3),
    ("level_review", 3),  # the same minute: by id
    ("recommend", 9),
    ("level_review", 0),
    ("level_review", 3),
]


def _page(api: Any, user: str, **params: Any) -> tuple[list[str], int]:
    query = "&".join(f"{k}={v}" for k, v in params.items())
    r = api.get(f"/tasks?{query}", user)
    assert r.status == 200, r
    return [t["id"] for t in r.json["items"]], r.json["total"]


def test_every_page_of_a_worklist_in_order_with_the_exact_total(app, api):
    expected = _queue(app, api, "yz-water", "reviewer", SPEC)
    everything, total = _page(api, "yz_water_1")
    assert everything == expected and total == 7
    for limit in range(1, 9):
        seen: list[str] = []
        for offset in range(0, 10, limit):
            ids, total = _page(api, "yz_water_1", limit=limit, offset=offset)
            assert total == 7, (limit, offset)  # full, partial, empty past the end alike
            seen += ids
        assert seen == expected, limit


def test_the_tabs_counts_per_task_name_and_process(app, api):
    expected = _queue(app, api, "yz-water", "reviewer", SPEC)
    with app.app_context():
        rows = db.session.execute(select(HumanTask.id, HumanTask.name)).all()
    of = dict(rows)
    by_name = {n: [t for t in expected if of[t] == n] for n in ("level_review", "recommend")}
    for name, ids in by_name.items():
        assert _page(api, "yz_water_1", name=name) == (ids, len(ids))
        first, total = _page(api, "yz_water_1", name=name, limit=1)
        assert first == ids[:1] and total == len(ids)
        assert _page(api, "yz_water_1", name=name, limit=1, offset=len(ids)) == ([], len(ids))
    assert _page(api, "yz_water_1", process="title_application", limit=2)[1] == 7
    assert _page(api, "yz_water_1", process="dossier_review", limit=2) == ([], 0)
    # another org's reviewer, and an org with nothing waiting
    assert _page(api, "bl_water_1") == ([], 0)
    assert _page(api, "bl_water_1", offset=3) == ([], 0)


def test_a_transferred_task_is_counted_only_in_its_holders_list(app, api):
    expected = _queue(app, api, "yz-water", "reviewer", SPEC)
    held = expected[2]
    with app.app_context():
        ids = dict(db.session.execute(select(User.username, User.id)).all())
        db.session.add(
            TaskTransfer(
                task_id=held,
                instance_id=db.session.get(HumanTask, held).instance_id,
                holder_id=ids["yz_water_2"],
                from_id=ids["yz_water_1"],
                reason="出差",
                at=T0,
            )
        )
        db.session.commit()
    others = [t for t in expected if t != held]
    for limit in (1, 2, 6, 50):  # the count query (full pages) and the page's own count
        first, total = _page(api, "yz_water_1", limit=limit)
        assert first == others[:limit] and total == 6, limit
        first, total = _page(api, "yz_water_2", limit=limit)
        assert first == expected[:limit] and total == 7, limit
    assert _page(api, "yz_water_1", offset=6) == ([], 6)


def test_an_applicants_own_tasks_in_order(app, api):
    unit = flows.register_unit(api)
    person = flows.register_applicant(api, unit)
    app_id = flows.file_application(api, person)
    ids, total = _page(api, person["username"], limit=1)
    assert total == 1 and len(ids) == 1
    assert _page(api, person["username"], application=app_id, offset=1) == ([], 1)


def _plans(app: Any, api: Any, user: str, query: str) -> list[str]:
    """SQLite's plan of each SELECT on human_task a worklist request sends."""
    seen: list[tuple[str, Any]] = []

    def grab(conn: Any, cursor: Any, stmt: str, params: Any, ctx: Any, many: bool) -> None:
        if stmt.lstrip().upper().startswith("SELECT") and "FROM human_task" in stmt:
            seen.append((stmt, params))

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", grab)
    try:
        api.get(f"/tasks?{query}", user)
    finally:
        event.remove(engine, "before_cursor_execute", grab)
    plans = []
    with engine.connect() as conn:
        for stmt, params in seen:
            rows = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + stmt, params).all()
            plans.append(" / ".join(r[-1] for r in rows))
    return plans


@pytest.mark.parametrize(
    ("user", "query", "index"),
    [
        ("yz_water_1", "limit=2", "ix_human_task_org_queue"),
        ("yz_water_1", "limit=2&name=level_review", "ix_human_task_org_name_queue"),
        ("yz_water_1", "limit=2&process=title_application", "ix_human_task_org_queue"),
    ],
)
def test_a_worklist_page_comes_off_an_index_in_order_and_counts_from_it(
    app, api, user, query, index
):
    with app.app_context():
        if db.engine.dialect.name != "sqlite":
            pytest.skip("the plan is SQLite's; bench/RESULTS.md shows PostgreSQL's")
    _queue(app, api, "yz-water", "reviewer", SPEC)
    page, count = _plans(app, api, user, query)
    assert index in page and "TEMP B-TREE" not in page, page
    assert f"COVERING INDEX {index}" in count, count
