"""Annual cycles (申报年度/批次): a committee's office opens a filing window with an optional
quota on a pinned process version, lists its cycles and closes them. Filing reads them through
engine/cycle_rules.py.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine import policy
from engine.audit import audit_event
from engine.clock import Clock
from engine.committees import Catalogue, Committee
from engine.cycle_rules import (
    CLOSED,
    OPEN,
    CycleView,
    china_today,
    cycle_view,
    no_cycle_message,
    open_cycle_for,
)
from engine.errors import ConflictError, ForbiddenError, InvalidDataError, NotFoundError
from engine.form_resolver import SHARED_FILES_PROCESS
from engine.ids import MAX_ID, parse_id
from engine.versions import current_version_id
from engine.views import Actor
from engine.workdays import parse_date
from storage import ProcessVersion, ReviewCycle, UnitOfWorkFactory

MAX_WINDOW = timedelta(days=731)  # a window spans at most two years
MAX_QUOTA = 100_000
REASON_LENGTH = 2000


@dataclass(frozen=True)
class CycleRequest:
    """A checked request to open a cycle."""

    year: int
    opens_on: date
    closes_on: date
    quota: int | None
    version: int | None


def _whole(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _dates(body: Mapping[str, Any], fields: dict[str, str]) -> dict[str, date]:
    out: dict[str, date] = {}
    for name in ("opens_on", "closes_on"):
        if body.get(name) in (None, ""):
            fields[name] = "必填"
            continue
        try:
            out[name] = parse_date(body[name])
        except ValueError as exc:
            fields[name] = str(exc)
    return out


def parse_request(body: Mapping[str, Any]) -> CycleRequest:
    """Check an open-cycle body; 422 naming every field that is wrong."""
    fields: dict[str, str] = {}
    year = _whole(body.get("year"))
    if year is None or not 2000 <= year <= 2100:
        fields["year"] = "申报年度应为 2000 至 2100 之间的整数年份"
    dates = _dates(body, fields)
    opens_on, closes_on = dates.get("opens_on"), dates.get("closes_on")
    if opens_on and closes_on:
        if closes_on < opens_on:
            fields["closes_on"] = f"截止日期不能早于开始日期 {opens_on.isoformat()}"
        elif closes_on - opens_on > MAX_WINDOW:
            fields["closes_on"] = "申报时间最长两年"
    if opens_on and year is not None and "year" not in fields and abs(opens_on.year - year) > 1:
        fields["opens_on"] = f"开始日期与 {year} 年度相差超过一年"
    quota = body.get("quota")
    if quota is not None and (_whole(quota) is None or not 1 <= quota <= MAX_QUOTA):
        fields["quota"] = f"名额应为 1 至 {MAX_QUOTA} 之间的整数，不限名额请留空"
    version = body.get("version")
    if version is not None and (_whole(version) is None or not 1 <= version <= MAX_ID):
        fields["version"] = "流程版本应为正整数，留空表示当前版本"
    if fields:
        raise InvalidDataError("申报年度信息有误", fields=fields)
    assert year is not None and opens_on is not None and closes_on is not None
    return CycleRequest(year, opens_on, closes_on, quota, version)


def _pinned_version(session: Session, number: int | None) -> int:
    """The title_application version a new cycle runs on: the one named, else the current."""
    if number is None:
        return current_version_id(session, SHARED_FILES_PROCESS)
    version_id = session.scalars(
        select(ProcessVersion.id).where(
            ProcessVersion.process_id == SHARED_FILES_PROCESS, ProcessVersion.number == number
        )
    ).first()
    if version_id is None:
        raise InvalidDataError("流程版本不存在", fields={"version": f"申报流程没有第 {number} 版"})
    return version_id


def _overlapping(session: Session, committee_id: str, req: CycleRequest) -> ReviewCycle | None:
    return session.scalars(
        select(ReviewCycle).where(
            ReviewCycle.committee_id == committee_id,
            ReviewCycle.status == OPEN,
            ReviewCycle.opens_on <= req.closes_on,
            ReviewCycle.closes_on >= req.opens_on,
        )
    ).first()


@dataclass(frozen=True)
class FilingWindow:
    """A committee as the new-application page shows it: its cycle taking applications
    today, else the Chinese sentence saying why none does."""

    committee_id: str
    committee_name: str
    cycle: CycleView | None
    refusal: str | None


class Cycles:
    """Committees' annual cycles: open, list, show, close (one transaction per verb)."""

    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        *,
        committees: Callable[[], Catalogue],
        clock: Clock,
    ) -> None:
        self._uow = uow_factory
        self.committees = committees
        self.clock = clock

    def _committee(self, committee_id: str) -> Committee:
        committee = self.committees().get(committee_id)
        if committee is None:
            raise NotFoundError("评委会不存在")
        return committee

    def _view(
        self, session: Session, cycle: ReviewCycle, actor: Actor, committee: Committee | None
    ) -> CycleView:
        office = committee.office_org_id if committee else ""
        counted = policy.may_count_cycle(actor, office)
        return cycle_view(session, cycle, committee, china_today(self.clock()), counted=counted)

    def open_cycle(self, committee_id: str, body: Mapping[str, Any], actor: Actor) -> CycleView:
        """Open a cycle of a committee (its office, or an operator); 409 ``cycle_overlap``
        when an open cycle's window of the committee overlaps the new one."""
        committee = self._committee(committee_id)
        if not policy.may_keep_cycles(actor, committee.office_org_id):
            raise ForbiddenError("只有该评委会办公室可以开设申报年度")
        req = parse_request(body)
        with self._uow() as uow:
            session = uow.session
            version_id = _pinned_version(session, req.version)
            other = _overlapping(session, committee.id, req)
            if other is not None:
                raise ConflictError(
                    f"与已开放的 {other.year} 年度（{other.opens_on.isoformat()} 至 "
                    f"{other.closes_on.isoformat()}）申报时间重叠，请先关闭该年度或调整日期",
                    code="cycle_overlap",
                )
            now = self.clock()
            cycle = ReviewCycle(
                committee_id=committee.id,
                year=req.year,
                opens_on=req.opens_on,
                closes_on=req.closes_on,
                quota=req.quota,
                status=OPEN,
                version_id=version_id,
                created_by=actor.username,
                created_at=now,
            )
            session.add(cycle)
            session.flush()
            view = self._view(session, cycle, actor, committee)
            session.add(
                audit_event(
                    now,
                    actor,
                    "cycle_open",
                    org_id=committee.office_org_id,
                    detail={
                        "cycle_id": cycle.id,
                        "committee_id": committee.id,
                        "year": req.year,
                        "opens_on": view.opens_on,
                        "closes_on": view.closes_on,
                        "quota": req.quota,
                        "version": view.version,
                    },
                )
            )
            uow.commit()
            return view

    def list_cycles(
        self, committee_id: str, actor: Actor, *, limit: int = 50, offset: int = 0
    ) -> tuple[list[CycleView], int]:
        """A committee's cycles, newest window first (any signed-in user)."""
        committee = self._committee(committee_id)
        with self._uow() as uow:
            session = uow.session
            query = select(ReviewCycle).where(ReviewCycle.committee_id == committee.id)
            total = session.scalar(select(func.count()).select_from(query.subquery()))
            rows = session.scalars(
                query.order_by(ReviewCycle.opens_on.desc(), ReviewCycle.id.desc())
                .limit(limit)
                .offset(offset)
            ).all()
            return [self._view(session, c, actor, committee) for c in rows], int(total or 0)

    def get_cycle(self, cycle_id: int | str, actor: Actor) -> CycleView:
        """One cycle (any signed-in user); 404 when unknown."""
        with self._uow() as uow:
            cycle = self._row(uow.session, cycle_id)
            return self._view(uow.session, cycle, actor, self.committees().get(cycle.committee_id))

    @staticmethod
    def _row(session: Session, cycle_id: int | str, *, lock: bool = False) -> ReviewCycle:
        key = parse_id(cycle_id)
        query = select(ReviewCycle).where(ReviewCycle.id == key)
        cycle = session.scalars(query.with_for_update() if lock else query).first() if key else None
        if cycle is None:
            raise NotFoundError("申报年度不存在")
        return cycle

    def close_cycle(self, cycle_id: int | str, body: Mapping[str, Any], actor: Actor) -> CycleView:
        """Close a cycle: it takes no more applications; those filed go on. 409 when closed."""
        reason = body.get("reason")
        if reason is not None and (not isinstance(reason, str) or len(reason) > REASON_LENGTH):
            raise InvalidDataError(
                "关闭原因有误", fields={"reason": f"应为不超过 {REASON_LENGTH} 字的文字"}
            )
        with self._uow() as uow:
            session = uow.session
            cycle = self._row(session, cycle_id, lock=True)
            committee = self.committees().get(cycle.committee_id)
            office = committee.office_org_id if committee else ""
            if not policy.may_keep_cycles(actor, office):
                raise ForbiddenError("只有该评委会办公室可以关闭申报年度")
            if cycle.status == CLOSED:
                raise ConflictError("该申报年度已关闭", code="cycle_closed")
            now = self.clock()
            cycle.status, cycle.closed_at, cycle.closed_by = CLOSED, now, actor.username
            cycle.close_reason = (reason or "").strip() or None
            session.add(
                audit_event(
                    now,
                    actor,
                    "cycle_close",
                    org_id=office or None,
                    reason=cycle.close_reason,
                    detail={"cycle_id": cycle.id, "committee_id": cycle.committee_id},
                )
            )
            session.flush()
            view = self._view(session, cycle, actor, committee)
            uow.commit()
            return view

    def office_cycles(self, actor: Actor) -> list[tuple[Committee, list[CycleView]]]:
        """The cycles of every committee the actor keeps cycles of (the office's page)."""
        keeps = [
            c
            for c in self.committees().committees
            if policy.may_keep_cycles(actor, c.office_org_id)
        ]
        return [(c, self.list_cycles(c.id, actor, limit=500)[0]) for c in keeps]

    def filing_windows(self, actor: Actor) -> list[FilingWindow]:
        """Each committee with the cycle taking applications today, or why none does."""
        today = china_today(self.clock())
        out: list[FilingWindow] = []
        with self._uow() as uow:
            session = uow.session
            for committee in self.committees().committees:
                cycle = open_cycle_for(session, committee.id, today)
                view = self._view(session, cycle, actor, committee) if cycle else None
                refusal = None if view else no_cycle_message(session, committee, today)
                out.append(FilingWindow(committee.id, committee.name, view, refusal))
        return out
