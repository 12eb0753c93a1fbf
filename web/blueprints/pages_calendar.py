"""Administrators maintain the working-day calendar (节假日与调休) from a page."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for

from engine import CHINA_TZ, InvalidDataError, parse_date
from web.blueprints._common import engine
from web.blueprints._page_common import me, roles_required

bp = Blueprint("calendar_pages", __name__, url_prefix="/admin/calendar")

_SEPARATORS = re.compile(r"[\s,，;；、]+")
_YEAR = re.compile(r"[0-9]{4}")
# What set_calendar_day did, as the flash message says it.
OUTCOMES = {"added": "新增", "changed": "已修改", "unchanged": "未变"}


def _dates(text: str) -> list[date]:
    return [parse_date(part) for part in _SEPARATORS.split(text or "") if part]


def _back(year: int | str | None) -> Any:
    return redirect(url_for("calendar_pages.index", year=year))


@bp.get("")
@roles_required("admin")
def index() -> Any:
    raw = request.args.get("year", "")
    year = int(raw) if _YEAR.fullmatch(raw) else engine().clock().astimezone(CHINA_TZ).year
    view = engine().calendar_year(year)
    return render_template("calendar/index.html", cal=view)


@bp.post("/days")
@roles_required("admin")
def set_day() -> Any:
    form = request.form
    try:
        day = parse_date(form.get("day", ""))
        kind = form.get("kind")
        if kind not in ("workday", "holiday"):
            raise InvalidDataError("请选择工作日或休息日", fields={"kind": "应为工作日或休息日"})
        outcome = engine().set_calendar_day(
            day, is_workday=kind == "workday", note=form.get("note") or None, actor=me().username
        )
    except (ValueError, InvalidDataError) as exc:
        flash(getattr(exc, "message", str(exc)), "error")
        return _back(form.get("year"))
    flash(
        f"{day.isoformat()} 已设为{'工作日' if kind == 'workday' else '休息日'}（{OUTCOMES.get(outcome, outcome)}）",
        "success",
    )
    return _back(day.year)


@bp.post("/days/<day>/delete")
@roles_required("admin")
def unset_day(day: str) -> Any:
    try:
        parsed = parse_date(day)
    except ValueError as exc:
        flash(str(exc), "error")
        return _back(None)
    if engine().unset_calendar_day(parsed, actor=me().username):
        flash(f"已删除 {day} 的调整记录", "success")
    return _back(parsed.year)


@bp.post("/years")
@roles_required("admin")
def add_year() -> Any:
    form = request.form
    raw = form.get("year", "")
    try:
        if not _YEAR.fullmatch(raw):
            raise InvalidDataError("年份无效", fields={"year": "YYYY"})
        counts = engine().add_calendar_year(
            int(raw),
            holidays=_dates(form.get("holidays", "")),
            workdays=_dates(form.get("workdays", "")),
            note=form.get("note") or None,
            actor=me().username,
        )
    except (ValueError, InvalidDataError) as exc:
        flash(getattr(exc, "message", str(exc)) + _fields(exc), "error")
        return _back(raw if _YEAR.fullmatch(raw) else None)
    flash(
        f"{raw} 年节假日安排已录入：新增 {counts['added']}，修改 {counts['changed']}，"
        f"未变 {counts['unchanged']}",
        "success",
    )
    return _back(raw)


def _fields(exc: Exception) -> str:
    fields = getattr(exc, "fields", None) or {}
    return "".join(f"（{v}）" for v in fields.values())
