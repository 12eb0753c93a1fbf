"""Business-rule validators a user task names in its ``validator`` property."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import eligibility
from engine.clock import CHINA_TZ
from engine.errors import InvalidDataError, UnknownYearError
from engine.form_resolver import ELIGIBILITY_RULES
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
        files: Mapping[str, Any],
    ) -> None:
        if data.get("decision", "approve") != "approve":
            return
        if not data.get("publicity_start") or not data.get("publicity_end"):
            return
        start, end = _window(data)
        if end < start:
            raise InvalidDataError(
                "公示结束日期早于开始日期",
                fields={"publicity_end": "结束日期不能早于开始日期"},
            )
        needed = int(properties.get("publicityWorkdays") or 5)
        calendar = load_calendar(session, self.policy)
        try:
            counted = calendar.count_workdays(start, end)
            if counted >= needed:
                return
            earliest = calendar.earliest_end(start, needed)
        except UnknownYearError as exc:
            message = (
                f"公示期跨入 {exc.year} 年，平台尚未录入 {exc.year} 年的节假日安排，暂时无法计算"
                f"工作日。请联系平台管理员在“节假日与调休”中录入 {exc.year} 年安排后再提交，"
                f"或将公示期安排在 {exc.year - 1} 年 12 月 31 日之前"
            )
            raise InvalidDataError(message, fields={"publicity_end": message}) from exc
        message = (
            f"公示期应不少于 {needed} 个工作日，当前仅 {counted} 个工作日；"
            f"最早可于 {earliest.isoformat()} 结束"
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
        files: Mapping[str, Any],
    ) -> None:
        provider = provider_for(properties.get("paymentProvider"))
        result = provider.check(str(data.get("payment_reference") or ""))
        if not result.ok:
            raise InvalidDataError("缴费凭证号不正确", fields={"payment_reference": result.message})


class EligibilityGate:
    """Hard eligibility rules bind an approval (the version's eligibility.json, ``hard_rules``).

    Approving is refused while a hard rule fails, naming each failed rule; returning and
    rejecting stay open. Every check the reviewer ticks must confirm its condition; under 破格
    the waived rules are confirmed by the required check 破格条件审查 instead.
    The data is the task's data with the submitted form on top.
    """

    def __init__(self, clock: Callable[[], datetime]) -> None:
        self.clock = clock

    def __call__(
        self,
        session: Session,
        data: Mapping[str, Any],
        schema: Mapping[str, Any],
        properties: Mapping[str, str],
        files: Mapping[str, Any],
    ) -> None:
        if data.get("decision") != "approve":
            return
        rules = files.get(ELIGIBILITY_RULES) or {}
        today = self.clock().astimezone(CHINA_TZ).date()
        dossier = data["dossier"] if isinstance(data.get("dossier"), Mapping) else {}
        failed = eligibility.blocking(rules, eligibility.hints(rules, dossier, data, today), data)
        if failed:
            named = "；".join(f"{h['label']}：{h['detail']}" for h in failed)
            raise InvalidDataError(
                "不符合申报条件，不得审查通过",
                fields={"decision": f"不符合申报条件，不得审查通过（可退回或评审不通过）：{named}"},
            )
        fields: dict[str, str] = {}
        skip = {eligibility.CHECK_FIELDS[r] for r in eligibility.waived(rules, data)}
        props = schema.get("properties") or {}
        for name in eligibility.CHECK_FIELDS.values():
            if name in props and name not in skip and data.get(name) is False:
                fields[name] = "审查通过须确认该项符合条件"
        if eligibility.exceptional(data) and data.get(eligibility.EXCEPTIONAL_CHECK) is not True:
            fields[eligibility.EXCEPTIONAL_CHECK] = "破格申报须审查破格条件并确认符合"
        if fields:
            raise InvalidDataError("审查项未确认，不能审查通过", fields=fields)


def default_validators(policy: CalendarPolicy | None = None) -> dict[str, Any]:
    """The validators BPMN user tasks may name."""
    return {
        "publicity_window": PublicityWindow(policy or CalendarPolicy()),
        "payment_reference": PaymentReference(),
    }
