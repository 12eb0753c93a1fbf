"""Business-rule validators a user task names in its ``validator`` property."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.errors import InvalidDataError, UnknownYearError
from engine.payments import provider_for
from engine.workdays import CalendarPolicy, WorkCalendar, parse_date
from storage import CalendarOverride, CalendarYear


def load_calendar(session: Session, policy: CalendarPolicy) -> WorkCalendar:
    """The working-day calendar with the administrator's overrides."""
    overrides = {row.day: row.is_workday for row in session.scalars(select(CalendarOverride))}
    years = list(session.scalars(select(CalendarYear.year)))
    return WorkCalendar(overrides, years, policy)


class PublicityWindow:
    """The recorded publicity window must hold at least N working days."""

    def __init__(self, policy: CalendarPolicy) -> None:
        self.policy = policy

    def __call__(
        self,
        session: Session,
        data: Mapping[str, Any],
        schema: Mapping[str, Any],
        properties: Mapping[str, str],
    ) -> None:
        if data.get("decision", "approve") != "approve":
            return
        if not data.get("publicity_start") or not data.get("publicity_end"):
            return
        start, end = _window(data)
        if end < start:
            raise InvalidDataError(
                "公示结束日期早于开始日期",
                fields={"publicity_end": "结束日期不能早于开始日期 (end before start)"},
            )
        needed = int(properties.get("publicityWorkdays") or 5)
        calendar = load_calendar(session, self.policy)
        try:
            counted = calendar.count_workdays(start, end)
            if counted >= needed:
                return
            earliest = calendar.earliest_end(start, needed)
        except UnknownYearError as exc:
            raise InvalidDataError(exc.message, fields={"publicity_end": exc.message}) from exc
        message = (
            f"公示期应不少于 {needed} 个工作日，当前仅 {counted} 个工作日；"
            f"最早可于 {earliest.isoformat()} 结束 (earliest valid end {earliest.isoformat()})"
        )
        raise InvalidDataError("公示期不足", fields={"publicity_end": message})


def _window(data: Mapping[str, Any]) -> tuple[date, date]:
    """The publicity window's dates, 422 naming the field that is not YYYY-MM-DD."""
    days = []
    for name in ("publicity_start", "publicity_end"):
        try:
            days.append(parse_date(data[name]))
        except ValueError as exc:
            raise InvalidDataError("日期格式不正确", fields={name: str(exc)}) from exc
    return days[0], days[1]


class PaymentReference:
    """The recorded payment reference must be one the payment provider accepts
    (property ``paymentProvider``, the offline bank transfer when unset)."""

    def __call__(
        self,
        session: Session,
        data: Mapping[str, Any],
        schema: Mapping[str, Any],
        properties: Mapping[str, str],
    ) -> None:
        provider = provider_for(properties.get("paymentProvider"))
        result = provider.check(str(data.get("payment_reference") or ""))
        if not result.ok:
            raise InvalidDataError("缴费凭证号不正确", fields={"payment_reference": result.message})


def default_validators(policy: CalendarPolicy | None = None) -> dict[str, Any]:
    """The validators BPMN user tasks may name."""
    return {
        "publicity_window": PublicityWindow(policy or CalendarPolicy()),
        "payment_reference": PaymentReference(),
    }
