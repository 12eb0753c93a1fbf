"""Pure helpers of the dashboard: ISO weeks, medians, review levels and their order."""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from engine.clock import CHINA_TZ

UNIT_LEVEL = "unit"  # every employer unit's review is one level: 用人单位
UNIT_LEVEL_NAME = "用人单位"


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
