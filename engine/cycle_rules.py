"""Annual cycles (申报年度) as filing sees them: which cycle takes an application today, and
why none does. Read helpers over ``review_cycle``; they run in the caller's session.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.clock import CHINA_TZ
from engine.committees import Committee
from engine.errors import ConflictError
from engine.views import iso
from storage import Application, ProcessVersion, ReviewCycle, lock_row

OPEN, CLOSED = "open", "closed"
# Applications that no longer hold a place of a cycle's quota.
RELEASED_STATUSES = ("withdrawn",)


def china_today(now: datetime) -> date:
    """The date in China at this moment (filing windows are Chinese calendar dates)."""
    return now.astimezone(CHINA_TZ).date()


def open_cycle_for(
    session: Session, committee_id: str, today: date, *, lock: bool = False
) -> ReviewCycle | None:
    """The open cycle of a committee whose filing window covers ``today`` (None: none).

    ``lock`` reads it ``FOR UPDATE`` (PostgreSQL): after waiting for a concurrent change
    of the row, the read sees the row as that change left it (a cycle closed meanwhile is
    not found). SQLite ignores it; ``cycle_for_filing`` locks the row on both.
    """
    query = (
        select(ReviewCycle)
        .where(
            ReviewCycle.committee_id == committee_id,
            ReviewCycle.status == OPEN,
            ReviewCycle.opens_on <= today,
            ReviewCycle.closes_on >= today,
        )
        .order_by(ReviewCycle.opens_on, ReviewCycle.id)
        .limit(1)
    )
    if lock:
        query = query.with_for_update()
    return session.scalars(query).first()


def filed_count(session: Session, cycle_id: int) -> int:
    """How many applications hold a place of the cycle (withdrawn ones give theirs back)."""
    return int(
        session.scalar(
            select(func.count(Application.id)).where(
                Application.cycle_id == cycle_id,
                Application.status.not_in(RELEASED_STATUSES),
            )
        )
        or 0
    )


def _window(cycle: ReviewCycle) -> str:
    return f"{cycle.year} 年度（申报时间 {cycle.opens_on.isoformat()} 至 {cycle.closes_on.isoformat()}）"


def no_cycle_message(session: Session, committee: Committee, today: date) -> str:
    """Why a committee takes no application today, naming the next window (or the last one)."""
    rows = session.scalars(
        select(ReviewCycle)
        .where(ReviewCycle.committee_id == committee.id)
        .order_by(ReviewCycle.opens_on, ReviewCycle.id)
    ).all()
    upcoming = [c for c in rows if c.status == OPEN and c.opens_on > today]
    if upcoming:
        return f"{committee.name}尚未开始受理申报：{_window(upcoming[0])}，请届时再申报"
    past = [c for c in rows if c.opens_on <= today]
    if past:
        last = max(past, key=lambda c: (c.opens_on, c.id))
        ended = "已关闭" if last.status == CLOSED else "已截止"
        return f"{committee.name}本年度申报{ended}：最近一次为 {_window(last)}，请等待下一年度"
    return f"{committee.name}当前没有开放的申报年度，请关注评委会办公室发布的申报通知"


def cycle_for_filing(session: Session, committee: Committee, today: date) -> ReviewCycle:
    """The cycle a new application of this committee joins today; 409 ``no_open_cycle`` when
    no open window covers today, 409 ``cycle_full`` when its quota is taken."""
    cycle = open_cycle_for(session, committee.id, today, lock=True)
    if cycle is None:
        raise ConflictError(no_cycle_message(session, committee, today), code="no_open_cycle")
    # Two filings at once count the places one after the other (SQLite too: a write).
    lock_row(session, ReviewCycle, cycle.id)
    if cycle.quota is not None and filed_count(session, cycle.id) >= cycle.quota:
        raise ConflictError(
            f"{committee.name}{cycle.year} 年度申报名额（{cycle.quota} 名）已满，不能再申报",
            code="cycle_full",
        )
    return cycle


def _phase(cycle: ReviewCycle, today: date) -> str:
    if cycle.status == CLOSED:
        return CLOSED
    if today < cycle.opens_on:
        return "upcoming"
    return "ended" if today > cycle.closes_on else "accepting"


@dataclass(frozen=True)
class CycleView:
    """One cycle as the API and pages show it."""

    cycle_id: str
    committee_id: str
    committee_name: str | None
    year: int
    opens_on: str
    closes_on: str
    quota: int | None
    status: str
    version: int | None  # the title_application deploy number its applications run on
    accepting: bool  # open and today inside the window
    phase: str  # upcoming / accepting / ended (open cycles by today's date) or closed
    full: bool  # the quota is taken
    applications: int | None  # how many it holds (None: not the caller's to count)
    created_by: str
    created_at: str | None
    closed_at: str | None
    closed_by: str | None
    close_reason: str | None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def cycle_view(
    session: Session,
    cycle: ReviewCycle,
    committee: Committee | None,
    today: date,
    *,
    counted: bool,
) -> CycleView:
    """The view of a cycle; ``counted`` says whether the caller sees its application count."""
    count = filed_count(session, cycle.id)
    version = session.get(ProcessVersion, cycle.version_id)
    phase = _phase(cycle, today)
    return CycleView(
        cycle_id=str(cycle.id),
        committee_id=cycle.committee_id,
        committee_name=committee.name if committee else None,
        year=cycle.year,
        opens_on=cycle.opens_on.isoformat(),
        closes_on=cycle.closes_on.isoformat(),
        quota=cycle.quota,
        status=cycle.status,
        version=version.number if version else None,
        accepting=phase == "accepting",
        phase=phase,
        full=cycle.quota is not None and count >= cycle.quota,
        applications=count if counted else None,
        created_by=cycle.created_by,
        created_at=iso(cycle.created_at),
        closed_at=iso(cycle.closed_at),
        closed_by=cycle.closed_by,
        close_reason=cycle.close_reason,
    )
