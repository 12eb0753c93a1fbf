"""Chinese working-day calendar: chinese_calendar data plus administrator overrides."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import chinese_calendar

from engine.clock import CHINA_TZ
from engine.errors import UnknownYearError

_ONE_DAY = timedelta(days=1)
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")

# chinese_calendar derives its own range from these keys on every call; computing it
# once lets us answer "unknown year" ourselves instead of catching NotImplementedError.
_LIBRARY_YEARS = range(min(chinese_calendar.holidays).year, max(chinese_calendar.holidays).year + 1)


@dataclass(frozen=True)
class CalendarPolicy:
    """How a publicity window is counted."""

    count_start_day: bool = True  # both ends counted ("X日至Y日" practice)
    makeup_days_count: bool = True  # 调休 make-up weekend working days count as working days


class WorkCalendar:
    """Answer working-day questions; never guesses a year nobody has entered."""

    def __init__(
        self,
        overrides: Mapping[date, bool] | None = None,
        extra_years: Iterable[int] = (),
        policy: CalendarPolicy = CalendarPolicy(),
    ) -> None:
        self._overrides = {_as_date(d): bool(v) for d, v in (overrides or {}).items()}
        self._extra_years = frozenset(extra_years)
        self.policy = policy
        self._cache: dict[date, bool] = {}

    def known_years(self) -> set[int]:
        """Return every year this calendar can answer for."""
        return set(_LIBRARY_YEARS) | set(self._extra_years)

    def is_workday(self, d: date) -> bool:
        """Return True if d is an official working day (make-up days included)."""
        d = _as_date(d)
        cached = self._cache.get(d)
        if cached is None:
            cached = self._cache[d] = self._lookup(d)
        return cached

    def is_makeup_day(self, d: date) -> bool:
        """Return True if d is a Saturday or Sunday that is a working day (调休补班)."""
        return _as_date(d).weekday() >= 5 and self.is_workday(d)

    def workdays_between(self, start: date, end: date) -> list[date]:
        """List the days of the window [start, end] that count under the policy."""
        first = start + _ONE_DAY if not self.policy.count_start_day else start
        days = []
        d = first
        while d <= end:
            if self._counts(d):
                days.append(d)
            d += _ONE_DAY
        return days

    def count_workdays(self, start: date, end: date) -> int:
        """Count the working days of the publicity window [start, end] under the policy."""
        return len(self.workdays_between(start, end))

    def earliest_end(self, start: date, n: int = 5) -> date:
        """Return the smallest end such that count_workdays(start, end) >= n."""
        if n < 1:
            raise ValueError(f"n must be at least 1, got {n}")
        d = start + _ONE_DAY if not self.policy.count_start_day else start
        counted = 0
        # Terminates: is_workday raises UnknownYearError once d leaves the known years.
        while True:
            if self._counts(d):
                counted += 1
                if counted == n:
                    return d
            d += _ONE_DAY

    def add_workdays(self, d: date, n: int) -> date:
        """Return the n-th counted working day after d (before d when n < 0; d when n == 0)."""
        step = _ONE_DAY if n >= 0 else -_ONE_DAY
        remaining = abs(n)
        while remaining:
            d += step
            if self._counts(d):
                remaining -= 1
        return d

    def _counts(self, d: date) -> bool:
        if not self.is_workday(d):
            return False
        return self.policy.makeup_days_count or d.weekday() < 5

    def _lookup(self, d: date) -> bool:
        if d in self._overrides:
            return self._overrides[d]
        # The library wins over the Mon-Fri rule so that listing a covered year in
        # extra_years cannot silently drop its published 调休 data.
        if d.year in _LIBRARY_YEARS:
            return chinese_calendar.is_workday(d)
        if d.year in self._extra_years:
            return d.weekday() < 5
        raise UnknownYearError(d.year)


def window_closed_at(last_day: date) -> datetime:
    """The instant a publicity window whose last day this is has closed: midnight (China time)
    after it. The unit's publicity and the results publicity both release then."""
    return datetime.combine(last_day + timedelta(days=1), time(0, 0), tzinfo=CHINA_TZ)


def parse_date(value: str) -> date:
    """Parse a strict YYYY-MM-DD string, raising ValueError with a readable message."""
    if not isinstance(value, str) or not _ISO_DATE.fullmatch(value):
        raise ValueError("日期格式应为 年-月-日（如 2026-12-01）")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"日期不存在：{value}") from None


def _as_date(d: date) -> date:
    # datetime is a date subclass but never equal to one, so it would miss the cache.
    return d.date() if isinstance(d, datetime) else d
