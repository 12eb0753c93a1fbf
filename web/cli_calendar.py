"""`run.py calendar ...`: enter a new year's holidays and make-up days, fix single days."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import TYPE_CHECKING, Any

import click

from web import create_app
from web.cli import upgrade_db

if TYPE_CHECKING:
    from engine import CalendarAdmin, EngineError

ACTOR = "cli"


def _date(_ctx: Any, _param: Any, value: Any) -> Any:
    from engine import parse_date

    try:
        if isinstance(value, tuple):
            return tuple(parse_date(v) for v in value)
        return parse_date(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from exc


@contextmanager
def _calendar() -> Iterator[CalendarAdmin]:
    """The calendar service of a fresh app on the configured database; connections closed
    after."""
    app = create_app()
    upgrade_db(app)
    with app.app_context():
        try:
            yield app.extensions["calendar"]
        finally:
            app.extensions["sqlalchemy"].session.remove()
            app.extensions["sqlalchemy"].engine.dispose()


def _fail(exc: EngineError) -> click.ClickException:
    detail = "; ".join(f"{k}: {v}" for k, v in exc.fields.items() if v != exc.message)
    return click.ClickException(exc.message + (f" ({detail})" if detail else ""))


@click.group("calendar")
def calendar_group() -> None:
    """Working-day calendar: holidays and 调休 make-up days."""


@calendar_group.command("show")
@click.argument("year", type=int)
def calendar_show(year: int) -> None:
    """List YEAR's days off on weekdays, weekend working days and overrides."""
    from engine import EngineError

    with _calendar() as calendar:
        try:
            view = calendar.calendar_year(year)
        except EngineError as exc:
            raise _fail(exc) from exc
    if not view.known:
        click.echo(
            f"{year}: not known - dates in {year} are refused until an administrator runs "
            f"`zhiping calendar add-year {year} --holiday ... --workday ...`"
        )
    else:
        by = f" by {view.entered_by} at {view.entered_at}" if view.source == "entered" else ""
        click.echo(f"{year}: known ({view.source}{by})")
        for d in view.holidays:
            click.echo(f"{d.day}  holiday  {d.note or ''}".rstrip())
        for d in view.makeup_days:
            click.echo(f"{d.day}  workday  {d.note or ''}".rstrip())
    for d in view.overrides:
        kind = "workday" if d.is_workday else "holiday"
        click.echo(f"override {d.day}  {kind}  {d.note or ''}".rstrip())
    if not view.known:
        raise SystemExit(1)


@calendar_group.command("add-year")
@click.argument("year", type=int)
@click.option("--holiday", "holidays", multiple=True, callback=_date, help="A day off (repeat).")
@click.option("--workday", "workdays", multiple=True, callback=_date, help="A make-up working day.")
@click.option("--note", default=None, help="E.g. the State Council notice number.")
def calendar_add_year(
    year: int, holidays: tuple[date, ...], workdays: tuple[date, ...], note: str | None
) -> None:
    """Enter YEAR's days off and make-up working days and mark YEAR known (idempotent)."""
    from engine import EngineError

    with _calendar() as calendar:
        try:
            counts = calendar.add_calendar_year(
                year, holidays=holidays, workdays=workdays, note=note, actor=ACTOR
            )
        except EngineError as exc:
            raise _fail(exc) from exc
    click.echo(
        f"{year}: known; {counts['added']} added, {counts['changed']} changed, "
        f"{counts['unchanged']} unchanged"
    )


@calendar_group.command("set")
@click.argument("day", callback=_date)
@click.argument("kind", type=click.Choice(["workday", "holiday"]))
@click.option("--note", default=None, help="Why (e.g. a local adjustment).")
def calendar_set(day: date, kind: str, note: str | None) -> None:
    """Make DAY a working day or a day off (its year must be known)."""
    from engine import EngineError, UnknownYearError

    with _calendar() as calendar:
        try:
            outcome = calendar.set_calendar_day(
                day, is_workday=kind == "workday", note=note, actor=ACTOR
            )
        except UnknownYearError as exc:
            raise click.ClickException(
                f"{exc.message}; run `zhiping calendar add-year {exc.year} ...` first"
            ) from exc
        except EngineError as exc:
            raise _fail(exc) from exc
    click.echo(f"{day.isoformat()}: {kind} ({outcome})")


@calendar_group.command("unset")
@click.argument("day", callback=_date)
def calendar_unset(day: date) -> None:
    """Remove DAY's override."""
    with _calendar() as calendar:
        removed = calendar.unset_calendar_day(day, actor=ACTOR)
    click.echo(f"{day.isoformat()}: {'override removed' if removed else 'no override'}")
