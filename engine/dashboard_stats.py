"""The dashboard's arithmetic, without a database: ISO weeks, medians, review levels and their
order, applications per level, weekly throughput and median time per level."""

from __future__ import annotations

import statistics
from bisect import bisect_left
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from engine.clock import CHINA_TZ, as_utc
from engine.errors import UnknownYearError
from engine.reminders import waited_workdays
from engine.views import iso
from engine.workdays import WorkCalendar

UNIT_LEVEL = "unit"  # every employer unit's review is one level: 用人单位
UNIT_LEVEL_NAME = "用人单位"
DECISIONS = ("approve", "return", "reject")
WEEKS = 12  # throughput covers this many ISO weeks up to the current one


def china_date(moment: datetime) -> date:
    """The Ningbo calendar day of a moment (naive database values are UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(CHINA_TZ).date()


def iso_week(day: date) -> str:
    """The ISO week of a day as ``2026-W48``."""
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def recent_weeks(today: date, count: int) -> list[str]:
    """The ``count`` ISO weeks up to and including today's, oldest first."""
    return [iso_week(today - timedelta(weeks=back)) for back in range(count - 1, -1, -1)]


def week_start(today: date, count: int) -> date:
    """The Monday that opens the first of the ``count`` weeks up to today's."""
    return today - timedelta(days=today.weekday(), weeks=count - 1)


def median(values: Iterable[float]) -> float | None:
    """The median rounded to one decimal, or None without values."""
    values = list(values)
    return round(float(statistics.median(values)), 1) if values else None


@dataclass(frozen=True)
class Level:
    """One level of review: all units together, or one org of the chain."""

    key: str
    name: str
    depth: int  # distance from the top of the tree; units sit below everything


def level_of(org_id: str | None, orgs: Mapping[str, Level]) -> Level:
    """The level an org reviews at (units, and orgs not in the tree, count as 用人单位)."""
    return orgs.get(org_id or "") or Level(UNIT_LEVEL, UNIT_LEVEL_NAME, 10**6)


def tree_levels(rows: list[tuple[str, str, str | None]]) -> dict[str, Level]:
    """Org id -> Level for every org of the review tree, from (id, name, parent) rows."""
    parents = {org_id: parent for org_id, _, parent in rows}
    names = {org_id: name for org_id, name, _ in rows}
    out: dict[str, Level] = {}
    for org_id in names:
        depth, seen, at = 0, {org_id}, parents.get(org_id)
        while at is not None and at not in seen:
            seen.add(at)
            depth, at = depth + 1, parents.get(at)
        out[org_id] = Level(org_id, names[org_id], depth)
    return out


def ordered(levels: Iterable[Level]) -> list[Level]:
    """Levels from the bottom of the chain to its top (用人单位 first), each once."""
    unique = {level.key: level for level in levels}
    return sorted(unique.values(), key=lambda lv: (-lv.depth, lv.name))


def by_level(tasks: list[Any], tree: Mapping[str, Level]) -> list[dict[str, Any]]:
    """Applications waiting at each level (an application counts once per level)."""
    at: dict[str, set[int]] = defaultdict(set)
    levels = []
    for t in tasks:
        level = level_of(t.org_id, tree)
        levels.append(level)
        at[level.key].add(t.application_id)
    return [{"level": lv.key, "name": lv.name, "count": len(at[lv.key])} for lv in ordered(levels)]


def overdue_row(task: Any, level: Level, waited: int) -> dict[str, Any]:
    return {
        "task_id": task.id,
        "task": task.name,
        "title": task.title,
        "application_id": str(task.application_id),
        "level": level.key,
        "level_name": level.name,
        "org_id": task.org_id,
        "arrived_at": iso(task.created_at),
        "waited_workdays": waited,
    }


def throughput_and_medians(
    decisions: list[Any],
    arrivals: Mapping[int, Any],
    tree: Mapping[str, Level],
    calendar: WorkCalendar,
    today: Any,
    notes: list[str],
) -> dict[str, Any]:
    """Weekly throughput (last WEEKS ISO weeks) and median time per level (all time)."""
    weeks = recent_weeks(today, WEEKS)
    first_day = week_start(today, WEEKS)
    per_week: dict[str, dict[str, dict[str, int]]] = defaultdict(
        lambda: {w: dict.fromkeys(DECISIONS, 0) for w in weeks}
    )
    hours: dict[str, list[float]] = defaultdict(list)
    days: dict[str, list[int]] = defaultdict(list)
    unknown_year: UnknownYearError | None = None
    levels = []
    for d in decisions:
        level = level_of(d.org_id, tree)
        levels.append(level)
        decided = china_date(d.at)
        week = per_week[level.key].get(iso_week(decided)) if decided >= first_day else None
        if week is not None:
            week[d.action] += 1
        seqs, moments = arrivals.get(d.instance_id, ([], []))
        i = bisect_left(seqs, d.seq)
        if i == 0:
            continue  # no earlier step recorded: the arrival is unknown
        arrived = moments[i - 1]
        hours[level.key].append((as_utc(d.at) - as_utc(arrived)).total_seconds() / 3600)
        try:
            days[level.key].append(waited_workdays(calendar, arrived, decided))
        except UnknownYearError as exc:
            unknown_year = exc
    if unknown_year is not None:
        notes.append(f"处理时长暂无法按工作日计算：{unknown_year_note(unknown_year)}")
    rows = ordered(levels)
    return {
        "weeks": weeks,
        "throughput": [
            {
                "level": lv.key,
                "name": lv.name,
                "weeks": [
                    {"week": w, **counts, "total": sum(counts.values())}
                    for w, counts in per_week[lv.key].items()
                ],
            }
            for lv in rows
        ],
        "median": [
            {
                "level": lv.key,
                "name": lv.name,
                "decisions": len(hours[lv.key]),
                "median_hours": median(hours[lv.key]),
                "median_workdays": median(days[lv.key]) if not unknown_year else None,
            }
            for lv in rows
        ],
    }


def unknown_year_note(exc: UnknownYearError) -> str:
    return f"{exc.year} 年的节假日安排尚未录入，请平台管理员在「节假日」页录入"
