"""Administrators maintain the working-day calendar (节假日与调休) from a page."""

from __future__ import annotations

import logging
import re
from datetime import date
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for

from engine import CHINA_TZ, InvalidDataError, parse_date, policy
from web.auth import page_actor
from web.blueprints._common import calendar_admin
from web.blueprints._page_common import allowed_by, me

bp = Blueprint("calendar_pages", __name__, url_prefix="/admin/calendar")

log = logging.getLogger(__name__)
BANNER_FROM_MONTH = 11  # the State Council usually publishes next year's holidays in Nov.
_SEPARATORS = re.compile(r"[\s,，;；、]+")
_YEAR = re.compile(r"[0-9]{4}")
# What set_calendar_day did, as the flash message says it.
OUTCOMES = {"added": "新增", "changed": "已修改", "unchanged": "未变"}


def _dates(text: str) -> list[date]:
    return [parse_date(part) for part in _SEPARATORS.split(text or "") if part]


def _back(year: int | str | None) -> Any:
    return redirect(url_for("calendar_pages.index", year=year))


@bp.app_context_processor
def _next_year_banner() -> dict[str, Any]:
    """From November, administrators are reminded while next year's holidays are unknown."""

    def next_year_missing() -> int | None:
        who = page_actor()
        if who is None or not policy.may_operate(who):
            return None
        today = calendar_admin().clock().astimezone(CHINA_TZ)
        if today.month < BANNER_FROM_MONTH:
            return None
        try:
            known = calendar_admin().calendar_year(today.year + 1).known
        except Exception:  # a reminder must never break the page it sits on (e.g. a 500 page)
            log.exception("calendar banner: cannot read %s", today.year + 1)
            return None
        return None if known else today.year + 1

    return {"next_year_missing": next_year_missing}


def _page(year: int, *, error: str | None = None, form: Any = None, status: int = 200) -> Any:
    """The year's page; a refused entry comes back with what was typed and why."""
    view = calendar_admin().calendar_year(year)
    return render_template("calendar/index.html", cal=view, error=error, form=form or {}), status


def _this_year() -> int:
    return calendar_admin().clock().astimezone(CHINA_TZ).year


@bp.get("")
@allowed_by(policy.may_operate)
def index() -> Any:
    raw = request.args.get("year", "")
    return _page(int(raw) if _YEAR.fullmatch(raw) else _this_year())


@bp.post("/days")
@allowed_by(policy.may_operate)
def set_day() -> Any:
    form = request.form
    try:
        day = parse_date(form.get("day", ""))
        kind = form.get("kind")
        if kind not in ("workday", "holiday"):
            raise InvalidDataError("请选择工作日或休息日", fields={"kind": "应为工作日或休息日"})
        outcome = calendar_admin().set_calendar_day(
            day, is_workday=kind == "workday", note=form.get("note") or None, actor=me().username
        )
    except (ValueError, InvalidDataError) as exc:
        raw = form.get("year", "")
        year = int(raw) if _YEAR.fullmatch(raw) else _this_year()
        return _page(year, error=getattr(exc, "message", str(exc)), form=form, status=422)
    flash(
        f"{day.isoformat()} 已设为{'工作日' if kind == 'workday' else '休息日'}（{OUTCOMES.get(outcome, outcome)}）",
        "success",
    )
    return _back(day.year)


@bp.post("/days/<day>/delete")
@allowed_by(policy.may_operate)
def unset_day(day: str) -> Any:
    try:
        parsed = parse_date(day)
    except ValueError as exc:
        flash(str(exc), "error")
        return _back(None)
    if calendar_admin().unset_calendar_day(parsed, actor=me().username):
        flash(f"已删除 {day} 的调整记录", "success")
    return _back(parsed.year)


@bp.post("/years")
@allowed_by(policy.may_operate)
def add_year() -> Any:
    form = request.form
    raw = form.get("year", "")
    try:
        if not _YEAR.fullmatch(raw):
            raise InvalidDataError("年份无效", fields={"year": "应为四位年份，如 2027"})
        counts = calendar_admin().add_calendar_year(
            int(raw),
            holidays=_dates(form.get("holidays", "")),
            workdays=_dates(form.get("workdays", "")),
            note=form.get("note") or None,
            actor=me().username,
        )
    except (ValueError, InvalidDataError) as exc:
        message = getattr(exc, "message", str(exc))
        year = int(raw) if _YEAR.fullmatch(raw) else _this_year()
        return _page(year, error=message + _fields(exc, message), form=form, status=422)
    flash(
        f"{raw} 年节假日安排已录入：新增 {counts['added']}，修改 {counts['changed']}，"
        f"未变 {counts['unchanged']}",
        "success",
    )
    return _back(raw)


def _fields(exc: Exception, message: str) -> str:
    fields = getattr(exc, "fields", None) or {}
    return "".join(f"（{v}）" for v in fields.values() if v not in message)
