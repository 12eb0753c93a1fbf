"""The state of the whole review at a glance (统计看板): applications by stage and by level,
overdue tasks in working days, decisions per ISO week and median time per level.

Counts come from the application table and the task index; throughput and times come from
the audit trail, where every decision is recorded. A task's arrival is the instance's
previous recorded step (docs/decisions/0021-dashboard.md). Who sees which applications is
``engine.policy.dashboard_scope``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import and_, false, func, or_, select
from sqlalchemy.orm import Session

from engine import roles
from engine.audit import audit_event
from engine.clock import CHINA_TZ, Clock
from engine.committees import Catalogue, Committee
from engine.dashboard_stats import (
    DECISIONS,
    Level,
    by_level,
    china_date,
    level_of,
    ordered,
    overdue_row,
    throughput_and_medians,
    tree_levels,
    unknown_year_note,
)
from engine.errors import ForbiddenError, InvalidDataError, UnknownYearError
from engine.ids import parse_id
from engine.policy import chain_holds, dashboard_scope, routed_through
from engine.reminders import waited_workdays
from engine.timers import HELD
from engine.validators import load_calendar
from engine.views import Actor, iso
from engine.workdays import CalendarPolicy, WorkCalendar
from storage import (
    Application,
    AuditEvent,
    HumanTask,
    Org,
    ProcessInstance,
    ReviewCycle,
    UnitOfWorkFactory,
)

DECISION_TASKS = ("unit_review", "level_review")  # where a level decides
# Saves that leave an instance's ready tasks as they were: no task arrives with them.
NOT_ARRIVALS = ("suspend", "resume", "migrate", "timer_failed")
LEVEL_LANES = ("unit", "reviewer")
OVERDUE_LISTED = 100
YEARS = range(2000, 2101)


@dataclass(frozen=True)
class DashboardFilters:
    """Narrow the dashboard to one committee, one year of filing, one org (unit or level),
    one annual cycle (申报年度)."""

    committee: str | None = None
    year: int | None = None
    org: str | None = None
    cycle: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class Dashboard:
    """Read the dashboard's numbers for an actor's scope."""

    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        *,
        committees: Callable[[], Catalogue],
        clock: Clock,
        policy: CalendarPolicy,
        overdue_after_workdays: int,
    ) -> None:
        self._uow = uow_factory
        self._committees = committees
        self.clock = clock
        # A task's waiting starts the day after it arrived, as for reminders.
        self.policy = CalendarPolicy(
            count_start_day=True, makeup_days_count=policy.makeup_days_count
        )
        self.overdue_after = overdue_after_workdays

    def parse_filters(self, actor: Actor, raw: Mapping[str, str | None]) -> DashboardFilters:
        """Filters from query values; 403 without a dashboard, 422 naming unknown values."""
        self._scope(actor)
        committee, year_text, org = ((raw.get(k) or "").strip() or None for k in _FILTERS)
        fields: dict[str, str] = {}
        if committee and self._committees().get(committee) is None:
            fields["committee"] = f"没有编号为「{committee}」的评委会"
        year = int(year_text) if year_text and year_text.isascii() and year_text.isdigit() else 0
        if year_text and year not in YEARS:
            fields["year"] = f"申报年度应为 {YEARS[0]}–{YEARS[-1]} 之间的年份"
        cycle_text = (raw.get("cycle") or "").strip() or None
        cycle = parse_id(cycle_text) if cycle_text else None
        with self._uow() as uow:
            if org and uow.session.get(Org, org) is None:
                fields["org"] = f"没有编号为「{org}」的机构"
            if cycle_text and (cycle is None or uow.session.get(ReviewCycle, cycle) is None):
                fields["cycle"] = f"没有编号为「{cycle_text}」的申报年度"
        if fields:
            raise InvalidDataError("筛选条件有误", fields=fields)
        return DashboardFilters(committee, year or None, org, cycle)

    def options(self, actor: Actor) -> dict[str, Any]:
        """What the filters may choose within the actor's scope: committees, years, orgs,
        the annual cycles of those committees."""
        scope = self._scope_conditions(actor)
        catalogue = self._committees()
        with self._uow() as uow:
            session = uow.session
            rows = session.execute(
                select(
                    Application.series,
                    Application.level,
                    Application.specialty,
                    Application.unit_org_id,
                    Application.chain,
                    Application.created_at,
                ).where(*scope)
            ).all()
            org_ids = {r.unit_org_id for r in rows} | {o for r in rows for o in (r.chain or [])}
            orgs = session.execute(
                select(Org.id, Org.name).where(Org.id.in_(org_ids)).order_by(Org.kind, Org.name)
            ).all()
        if self._scope(actor) == "all":
            committees = list(catalogue.committees)
        else:
            found = (catalogue.find(r.series, r.level, r.specialty) for r in rows)
            ids = {c.id for c in found if c} | {c.id for c in catalogue.by_office(actor.org_id)}
            committees = [c for c in catalogue.committees if c.id in ids]
        with self._uow() as uow:
            cycles = uow.session.scalars(
                select(ReviewCycle)
                .where(ReviewCycle.committee_id.in_([c.id for c in committees]))
                .order_by(ReviewCycle.opens_on.desc(), ReviewCycle.id.desc())
            ).all()
            cycle_options = [_cycle_option(c, catalogue) for c in cycles]
        return {
            "committees": [{"id": c.id, "name": c.name} for c in committees],
            "years": sorted({china_date(r.created_at).year for r in rows}, reverse=True),
            "orgs": [{"id": o.id, "name": o.name} for o in orgs],
            "cycles": cycle_options,
        }

    def numbers(self, actor: Actor, filters: DashboardFilters) -> dict[str, Any]:
        """Every number of the dashboard for this scope and these filters."""
        conds = [*self._scope_conditions(actor), *self._filter_conditions(filters)]
        now = self.clock()
        today = china_date(now)
        with self._uow() as uow:
            session = uow.session
            tree = tree_levels(
                [
                    (r.id, r.name, r.parent_id)
                    for r in session.execute(
                        select(Org.id, Org.name, Org.parent_id).where(Org.kind != roles.UNIT)
                    )
                ]
            )
            calendar = load_calendar(session, self.policy)
            stages = session.execute(
                select(Application.status, func.count())
                .where(*conds)
                .group_by(Application.status)
                .order_by(Application.status)
            ).all()
            tasks = _level_tasks(session, conds)
            decisions, arrivals = _decision_history(session, conds)
        notes: list[str] = []
        out: dict[str, Any] = {
            "filters": filters.as_dict(),
            "scope": dashboard_scope(actor),
            "generated_at": iso(now),
            "overdue_after_workdays": self.overdue_after,
            "total": sum(n for _, n in stages),
            "by_stage": [{"status": s, "count": n} for s, n in stages],
            "by_level": by_level(tasks, tree),
            "overdue": self._overdue(tasks, tree, calendar, today, notes),
        }
        out.update(throughput_and_medians(decisions, arrivals, tree, calendar, today, notes))
        out["notes"] = notes
        return out

    def record_export(self, actor: Actor, filters: DashboardFilters, fmt: str) -> None:
        """Audit that the dashboard's numbers left the system (CSV download, JSON API)."""
        with self._uow() as uow:
            uow.session.add(
                audit_event(
                    self.clock(),
                    actor,
                    "dashboard_export",
                    detail={"format": fmt, **filters.as_dict()},
                )
            )
            uow.commit()

    # ----- scope and filters ------------------------------------------------------------
    def _scope(self, actor: Actor) -> str:
        scope = dashboard_scope(actor)
        if scope is None:
            raise ForbiddenError("统计看板仅向平台、评委会办公室和人力社保部门开放")
        return scope

    def _scope_conditions(self, actor: Actor) -> list[Any]:
        scope = self._scope(actor)
        if scope == "committees":
            return [_committee_condition(self._committees().by_office(actor.org_id))]
        if scope == "chain":
            return [chain_holds(actor.org_id)]
        return []

    def _filter_conditions(self, filters: DashboardFilters) -> list[Any]:
        conds: list[Any] = []
        if filters.committee:
            committee = self._committees().get(filters.committee)
            conds.append(_committee_condition([committee] if committee else []))
        if filters.year:
            start = datetime(filters.year, 1, 1, tzinfo=CHINA_TZ).astimezone(UTC)
            end = datetime(filters.year + 1, 1, 1, tzinfo=CHINA_TZ).astimezone(UTC)
            conds += [Application.created_at >= start, Application.created_at < end]
        if filters.org:
            conds.append(routed_through(filters.org))
        if filters.cycle:
            conds.append(Application.cycle_id == filters.cycle)
        return conds

    # ----- overdue ----------------------------------------------------------------------
    def _overdue(
        self,
        tasks: list[Any],
        tree: Mapping[str, Level],
        calendar: WorkCalendar,
        today: Any,
        notes: list[str],
    ) -> dict[str, Any]:
        late: list[dict[str, Any]] = []
        try:
            for t in tasks:
                if t.instance_status in HELD:
                    continue
                waited = waited_workdays(calendar, t.created_at, today)
                if waited > self.overdue_after:
                    late.append(overdue_row(t, level_of(t.org_id, tree), waited))
        except UnknownYearError as exc:
            notes.append(f"超期统计暂缺：{unknown_year_note(exc)}")
            return {"total": None, "by_level": [], "tasks": []}
        late.sort(key=lambda r: (-r["waited_workdays"], r["arrived_at"]))
        counts: dict[str, int] = defaultdict(int)
        for row in late:
            counts[row["level"]] += 1
        levels = ordered(level_of(t.org_id, tree) for t in tasks)
        return {
            "total": len(late),
            "by_level": [
                {"level": lv.key, "name": lv.name, "count": counts[lv.key]}
                for lv in levels
                if counts[lv.key]
            ],
            "tasks": late[:OVERDUE_LISTED],
        }


_FILTERS = ("committee", "year", "org")


def _cycle_option(cycle: ReviewCycle, catalogue: Catalogue) -> dict[str, str]:
    committee = catalogue.get(cycle.committee_id)
    window = f"{cycle.opens_on.isoformat()} 至 {cycle.closes_on.isoformat()}"
    prefix = f"{committee.name} " if committee else ""
    return {"id": str(cycle.id), "name": f"{prefix}{cycle.year} 年度（{window}）"}


def _committee_condition(committees: list[Committee]) -> Any:
    """Applications of a series / level / specialty one of these committees reviews."""
    if not committees:
        return false()
    return or_(
        *(
            and_(
                Application.series.in_(c.series),
                Application.level.in_(c.levels),
                Application.specialty.in_(c.specialties),
            )
            for c in committees
        )
    )


def _level_tasks(session: Session, conds: list[Any]) -> list[Any]:
    """Ready tasks of units and reviewing levels on the applications in view."""
    return list(
        session.execute(
            select(
                HumanTask.id,
                HumanTask.name,
                HumanTask.title,
                HumanTask.org_id,
                HumanTask.application_id,
                HumanTask.created_at,
                ProcessInstance.status.label("instance_status"),
            )
            .join(Application, Application.id == HumanTask.application_id)
            .join(ProcessInstance, ProcessInstance.id == HumanTask.instance_id)
            .where(*conds, HumanTask.lane.in_(LEVEL_LANES))
            .order_by(HumanTask.created_at, HumanTask.id)
        ).all()
    )


def _decision_history(session: Session, conds: list[Any]) -> tuple[list[Any], dict[int, Any]]:
    """Every level decision on the applications in view, and per instance the recorded
    steps (seq, at) that can make a task ready, in chain order."""
    base = select(AuditEvent).join(Application, Application.id == AuditEvent.application_id)
    decisions = session.execute(
        base.with_only_columns(
            AuditEvent.instance_id,
            AuditEvent.seq,
            AuditEvent.org_id,
            AuditEvent.action,
            AuditEvent.at,
        ).where(*conds, AuditEvent.task_name.in_(DECISION_TASKS), AuditEvent.action.in_(DECISIONS))
    ).all()
    steps = session.execute(
        base.with_only_columns(AuditEvent.instance_id, AuditEvent.seq, AuditEvent.at)
        .where(*conds, AuditEvent.after_status.is_not(None), AuditEvent.action.not_in(NOT_ARRIVALS))
        .order_by(AuditEvent.instance_id, AuditEvent.seq)
    ).all()
    arrivals: dict[int, Any] = defaultdict(lambda: ([], []))
    for row in steps:
        seqs, moments = arrivals[row.instance_id]
        seqs.append(row.seq)
        moments.append(row.at)
    return list(decisions), arrivals
