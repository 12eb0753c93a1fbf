"""Administrators maintain the working-day calendar: whole years and single-day overrides.

chinese_calendar knows the years it was released with; when the State Council publishes a
new year, an administrator enters its holidays and make-up days here. Until then every date
in that year is refused by the calendar, never guessed.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import chinese_calendar
from sqlalchemy import select

from engine.clock import Clock
from engine.errors import InvalidDataError, UnknownYearError
from engine.validators import load_calendar
from engine.views import iso
from engine.workdays import CalendarPolicy, WorkCalendar
from storage import AuditEvent, CalendarOverride, CalendarYear, UnitOfWorkFactory

NOTE_LENGTH = 200  # calendar_override.note
_LIBRARY_YEARS = frozenset(WorkCalendar().known_years())  # what chinese_calendar covers
# chinese_calendar names its holidays in English; users read the State Council's names.
HOLIDAY_NAMES: dict[str, str] = json.loads(
    (Path(__file__).parent / "data" / "holiday_names.json").read_text(encoding="utf-8")
)


@dataclass(frozen=True)
class CalendarDay:
    """A day that differs from the Monday-to-Friday rule, or an administrator's override."""

    day: str
    is_workday: bool
    note: str | None
    source: str  # "override" or "library"


@dataclass(frozen=True)
class CalendarYearView:
    """What the calendar knows about one year."""

    year: int
    known: bool
    source: str  # "library", "entered" or "unknown"
    entered_by: str | None
    entered_at: str | None
    holidays: list[CalendarDay] = field(default_factory=list)  # weekdays off
    makeup_days: list[CalendarDay] = field(default_factory=list)  # weekend working days
    overrides: list[CalendarDay] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _days_of(year: int) -> Iterable[date]:
    d = date(year, 1, 1)
    while d.year == year:
        yield d
        d += timedelta(days=1)


def _library_note(d: date) -> str | None:
    if d.year not in _LIBRARY_YEARS:
        return None
    _off, name = chinese_calendar.get_holiday_detail(d)
    return HOLIDAY_NAMES.get(str(name), str(name)) if name else None


WEEKDAY_NAMES = "一二三四五六日"


def _pointless(calendar: WorkCalendar, days: dict[date, bool]) -> list[str]:
    """The days whose entry changes nothing: a weekend entered as a day off, or a
    Monday-to-Friday working day entered as a make-up working day ("2027-01-02（星期六）")."""
    out = []
    for d, is_workday in sorted(days.items()):
        try:
            current = calendar.is_workday(d)
        except UnknownYearError:  # a year being entered: Monday to Friday work
            current = d.weekday() < 5
        natural = d.weekday() < 5
        if is_workday == current == natural:
            out.append(f"{d.isoformat()}（星期{WEEKDAY_NAMES[d.weekday()]}）")
    return out


def _refuse_pointless(calendar: WorkCalendar, days: dict[date, bool]) -> None:
    holidays = _pointless(calendar, {d: w for d, w in days.items() if not w})
    workdays = _pointless(calendar, {d: w for d, w in days.items() if w})
    fields = {}
    if holidays:
        fields["holidays"] = f"{'、'.join(holidays)} 本来就是休息日，不必设为休息日"
    if workdays:
        fields["workdays"] = f"{'、'.join(workdays)} 本来就是工作日，不是调休上班日"
    if fields:
        raise InvalidDataError(
            "请只填写放假的工作日（周一至周五）和调休上班的周末：" + "；".join(fields.values()),
            fields=fields,
        )


def _check_year(year: int) -> None:
    if not 1900 < year < 2200:
        raise InvalidDataError("年份无效", fields={"year": f"{year} 不是有效的年份"})


class CalendarAdmin:
    """Administrators maintain the working-day calendar (one transaction per verb)."""

    def __init__(self, uow_factory: UnitOfWorkFactory, *, clock: Clock) -> None:
        self._uow = uow_factory
        self.clock = clock

    def calendar_year(self, year: int) -> CalendarYearView:
        """The year's holidays, make-up days and overrides, and whether it is known at all."""
        _check_year(year)
        with self._uow() as uow:
            session = uow.session
            entered = session.get(CalendarYear, year)
            rows = session.scalars(
                select(CalendarOverride)
                .where(
                    CalendarOverride.day >= date(year, 1, 1),
                    CalendarOverride.day <= date(year, 12, 31),
                )
                .order_by(CalendarOverride.day)
            ).all()
            overrides = [
                CalendarDay(r.day.isoformat(), r.is_workday, r.note, "override") for r in rows
            ]
            source = "library" if year in _LIBRARY_YEARS else "entered" if entered else "unknown"
            view = CalendarYearView(
                year,
                source != "unknown",
                source,
                entered.entered_by if entered else None,
                iso(entered.entered_at) if entered else None,
                overrides=overrides,
            )
            if view.known:
                self._fill_exceptions(view, load_calendar(session, CalendarPolicy()), rows)
            return view

    @staticmethod
    def _fill_exceptions(
        view: CalendarYearView, calendar: Any, rows: Sequence[CalendarOverride]
    ) -> None:
        notes = {r.day: r.note for r in rows}
        for d in _days_of(view.year):
            workday = calendar.is_workday(d)
            if workday == (d.weekday() < 5):
                continue
            source = "override" if d in notes else "library"
            entry = CalendarDay(d.isoformat(), workday, notes.get(d) or _library_note(d), source)
            (view.makeup_days if workday else view.holidays).append(entry)

    def add_calendar_year(
        self,
        year: int,
        *,
        holidays: Iterable[date],
        workdays: Iterable[date],
        actor: str,
        note: str | None = None,
    ) -> dict[str, int]:
        """Enter a year's days off and make-up working days and mark it known (idempotent)."""
        _check_year(year)
        wanted = {d: False for d in holidays}
        both = sorted(d.isoformat() for d in workdays if d in wanted)
        if both:
            raise InvalidDataError(
                "同一日期不能既是假日又是补班日",
                fields={"workday": f"既列为假日又列为补班日：{'、'.join(both)}"},
            )
        wanted.update({d: True for d in workdays})
        outside = sorted(d.isoformat() for d in wanted if d.year != year)
        if outside:
            raise InvalidDataError(
                f"日期不在 {year} 年内", fields={"date": f"不在 {year} 年内：{'、'.join(outside)}"}
            )
        with self._uow() as uow:
            session = uow.session
            _refuse_pointless(load_calendar(session, CalendarPolicy()), wanted)
            counts = {"added": 0, "changed": 0, "unchanged": 0}
            for day, is_workday in sorted(wanted.items()):
                counts[self._put_day(session, day, is_workday, note)] += 1
            new_year = session.get(CalendarYear, year) is None
            if new_year:
                session.add(CalendarYear(year=year, entered_by=actor, entered_at=self.clock()))
            if new_year or counts["added"] or counts["changed"]:
                self._audit(session, actor, "calendar_year_added", {"year": year, **counts})
            uow.commit()
        return counts

    def set_calendar_day(
        self, day: date, *, is_workday: bool, actor: str, note: str | None = None
    ) -> str:
        """Override one day of a known year; returns added, changed or unchanged."""
        with self._uow() as uow:
            session = uow.session
            calendar = load_calendar(session, CalendarPolicy())
            if day.year not in calendar.known_years():
                raise UnknownYearError(day.year)
            _refuse_pointless(calendar, {day: is_workday})
            outcome = self._put_day(session, day, is_workday, note)
            if outcome != "unchanged":
                detail = {"day": day.isoformat(), "is_workday": is_workday, "note": note}
                self._audit(session, actor, "calendar_day_set", detail)
            uow.commit()
        return outcome

    def unset_calendar_day(self, day: date, *, actor: str) -> bool:
        """Drop one day's override (the library or Monday-to-Friday rule applies again)."""
        with self._uow() as uow:
            row = uow.session.get(CalendarOverride, day)
            if row is None:
                return False
            uow.session.delete(row)
            self._audit(uow.session, actor, "calendar_day_unset", {"day": day.isoformat()})
            uow.commit()
        return True

    @staticmethod
    def _put_day(session: Any, day: date, is_workday: bool, note: str | None) -> str:
        if note is not None and len(note) > NOTE_LENGTH:
            raise InvalidDataError("备注过长", fields={"note": f"不能超过 {NOTE_LENGTH} 个字符"})
        row = session.get(CalendarOverride, day)
        if row is None:
            session.add(CalendarOverride(day=day, is_workday=is_workday, note=note))
            return "added"
        if row.is_workday == is_workday and (note is None or row.note == note):
            return "unchanged"
        row.is_workday = is_workday
        if note is not None:
            row.note = note
        return "changed"

    def _audit(self, session: Any, actor: str, action: str, detail: dict[str, Any]) -> None:
        session.add(AuditEvent(at=self.clock(), actor_name=actor, action=action, detail=detail))
