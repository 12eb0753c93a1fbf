"""Zhiping command line (`zhiping`, or `./scripts/zp` from a checkout): serve, scheduler, db,
orgs, bpmn, demo, instances, calendar, audit."""

from __future__ import annotations

import gc
import os
from typing import TYPE_CHECKING

import click

from web import collector_paused, create_app
from web.cli import (
    audit_group,
    bpmn_group,
    db_group,
    demo_command,
    instances_group,
    orgs_group,
    prepare,
)
from web.cli_calendar import calendar_group

if TYPE_CHECKING:
    from flask import Flask


@click.group()
@click.option(
    "-v",
    "--verbose",
    is_flag=True,
    help="Log what happens (INFO); quiet (warnings only) otherwise.",
)
def cli(verbose: bool) -> None:
    """Zhiping (职评): BPMN-driven review of professional-title applications."""
    # An explicit ZHIPING_LOG_LEVEL wins; otherwise commands print only their own results.
    os.environ.setdefault("ZHIPING_LOG_LEVEL", "INFO" if verbose else "WARNING")


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=5000, show_default=True, type=int, help="Port to listen on.")
@click.option("--no-scheduler", is_flag=True, help="Do not run the scheduler in this process.")
def serve(host: str, port: int, no_scheduler: bool) -> None:
    """Run web + API; upgrade the database and deploy bpmn/ when it changed."""
    # The scheduler starts only after the database is migrated and bpmn/ deployed.
    with collector_paused():
        app = create_app({"SCHEDULER_ENABLED": False, "BASE_URL": f"http://{host}:{port}"})
        prepare(app)
        from web.scheduler import start
    # What start-up made lives as long as the process: later collections need not walk it.
    gc.freeze()
    if not no_scheduler:
        start(app)
    click.echo(f"Zhiping listening on http://{host}:{port}/ (database {_db_label(app)})")
    app.run(host=host, port=port, threaded=True, use_reloader=False)


@cli.command()
def scheduler() -> None:
    """Run the scheduler alone (production: beside gunicorn workers)."""
    with collector_paused():
        app = create_app({"SCHEDULER_ENABLED": False})
        prepare(app)
        from web.scheduler import run_forever
    gc.freeze()
    run_forever(app)


def _db_label(app: Flask) -> str:
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    return url.split("@")[-1] if "@" in url else url


cli.add_command(db_group)
cli.add_command(orgs_group)
cli.add_command(bpmn_group)
cli.add_command(demo_command)
cli.add_command(instances_group)
cli.add_command(calendar_group)
cli.add_command(audit_group)

if __name__ == "__main__":
    cli()
