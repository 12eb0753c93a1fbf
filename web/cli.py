"""Command groups for run.py; each builds the app and calls engine verbs."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from web import MIGRATIONS_DIR, create_app

if TYPE_CHECKING:
    from flask import Flask

    from engine import Actor

# Each command imports the engine (and Alembic, pypdf ...) when it runs, not when the command
# line is built: `run.py --help` and every command's --help stay quick.
log = logging.getLogger(__name__)


def upgrade_db(app: Flask) -> None:
    """Apply all Alembic migrations (creates the database on first run); a database already
    at the scripts' head is left as it is without loading Alembic."""
    from storage import database_is_current, db

    with app.app_context():
        if database_is_current(db.engine, MIGRATIONS_DIR / "versions"):
            log.info("database schema is at the migrations' head: nothing to upgrade")
            return
        from flask_migrate import upgrade

        upgrade(directory=str(MIGRATIONS_DIR))


def prepare(app: Flask) -> None:
    """Upgrade the database and deploy bpmn/ when it changed (serve, scheduler)."""
    upgrade_db(app)
    with app.app_context():
        for row in app.extensions["deployments"].deploy_directory(actor="serve"):
            if row["created"]:
                click.echo(f"deployed {row['process_id']} v{row['version']}")


@click.group("db")
def db_group() -> None:
    """Database schema."""


@db_group.command("upgrade")
def db_upgrade() -> None:
    """Apply migrations to the configured database."""
    upgrade_db(create_app())
    click.echo("database is up to date")


@click.group("orgs")
def orgs_group() -> None:
    """Organisation tree and allocated accounts."""


@orgs_group.command("load")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def orgs_load(file: Path) -> None:
    """Load FILE.json (orgs + users); loading twice changes nothing.

    A user of role expert (org: the committee office's id) may carry specialty,
    unit_credit_code (of the expert's own employer) and relations (ID numbers of
    applicants the expert declared a relation with): the review panel's recusal reads them.
    """
    from engine import EngineError

    app = create_app()
    upgrade_db(app)
    try:
        doc = json.loads(file.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise click.ClickException(f"{file}: not valid JSON: {exc}") from exc
    with app.app_context():
        try:
            counts = app.extensions["accounts"].load_orgs(doc)
        except EngineError as exc:
            for where, msg in exc.fields.items():
                click.echo(f"{file}: {where}: {msg}", err=True)
            raise click.ClickException(exc.message) from exc
    click.echo(", ".join(f"{k} {v}" for k, v in counts.items()))


def _bpmn_files(app: Flask, files: tuple[Path, ...]) -> dict[str, bytes]:
    if not files:
        bpmn_dir = Path(app.config["BPMN_DIR"])
        files = tuple(sorted(bpmn_dir.glob("*.bpmn"))) + tuple(sorted(bpmn_dir.glob("*.dmn")))
    return {str(p): p.read_bytes() for p in files}


@click.group("bpmn")
def bpmn_group() -> None:
    """Validate and deploy process definitions."""


@bpmn_group.command("validate")
@click.argument("files", nargs=-1, type=click.Path(exists=True, dir_okay=False, path_type=Path))
def bpmn_validate(files: tuple[Path, ...]) -> None:
    """Check FILES (default: everything under bpmn/); exit 1 listing problems."""
    app = create_app()
    problems = app.extensions["deployments"].validate(_bpmn_files(app, files))
    for p in problems:
        click.echo(f"{p['file']}:{p['line'] or 0}: {p['element']}: {p['message']}")
    if problems:
        sys.exit(1)
    click.echo("ok")


@bpmn_group.command("deploy")
@click.argument("files", nargs=-1, type=click.Path(exists=True, dir_okay=False, path_type=Path))
def bpmn_deploy(files: tuple[Path, ...]) -> None:
    """Deploy FILES (default: bpmn/) as new versions; unchanged content is a no-op."""
    from engine import DeployError

    app = create_app()
    upgrade_db(app)
    with app.app_context():
        try:
            rows = app.extensions["deployments"].deploy(_bpmn_files(app, files), actor="cli")
        except DeployError as exc:
            for p in exc.problems:
                click.echo(f"{p['file']}:{p['line'] or 0}: {p['element']}: {p['message']}")
            sys.exit(1)
    for row in rows:
        state = "deployed" if row["created"] else "unchanged"
        if not row["current"]:
            state += ", not current (use `bpmn promote` to start new instances on it)"
        click.echo(f"{row['process_id']} v{row['version']} {state} ({row['sha256'][:12]})")


@bpmn_group.command("promote")
@click.argument("process_id")
@click.argument("version", type=int)
@click.option("--reason", required=True, help="Why (kept in the audit trail).")
def bpmn_promote(process_id: str, version: int, reason: str) -> None:
    """Make VERSION of PROCESS_ID current: new instances start on it (roll back a deploy)."""
    from engine import EngineError

    app = create_app()
    with app.app_context():
        try:
            result = app.extensions["deployments"].promote(
                process_id, version, actor=cli_operator(), reason=reason
            )
        except EngineError as exc:
            raise click.ClickException(exc.message) from exc
    before = result["previous_version"]
    click.echo(
        f"{process_id} v{version} is current"
        + (f" (was v{before})" if result["changed"] else " (already)")
    )


@click.group("audit")
def audit_group() -> None:
    """The hash-chained audit trail."""


@audit_group.command("verify")
def audit_verify() -> None:
    """Walk the audit chain; exit 1 naming the first broken link."""
    from storage import db

    app = create_app()
    with app.app_context():
        check = app.extensions["audit_log"].verify_audit()
        db.engine.dispose()
    if check.intact:
        click.echo(f"audit chain intact: {check.count} events, head {check.last_hash}")
        return
    where = f"row id {check.broken_row}" if check.broken_row is not None else "chain end"
    click.echo(
        f"audit chain broken at {where} (after {check.count} intact events): {check.problem}",
        err=True,
    )
    sys.exit(1)


@click.command("demo")
def demo_command() -> None:
    """Load a demo org tree, accounts and applications at several stages; print logins."""
    import io

    from pypdf import PdfWriter

    from engine import EngineError
    from engine.demo import DemoLoader
    from engine.demo_committee import CommitteeDemo

    def blank_pdf() -> bytes:
        writer, buf = PdfWriter(), io.BytesIO()
        writer.add_blank_page(width=595, height=842)
        writer.write(buf)
        return buf.getvalue()

    app = create_app()
    prepare(app)
    with app.app_context():
        ext = app.extensions
        loader = DemoLoader(
            ext["tasks"],
            ext["deployments"],
            ext["accounts"],
            ext["units"],
            ext["applicants"],
            ext["dossiers"],
            ext["applications"],
            blank_pdf,
            cycles=ext["cycles"],
        )
        loader.committee = CommitteeDemo(
            ext["unit_of_work"],
            ext["review_sessions"],
            ext["tasks"],
            ext["timers"],
            ext["accounts"],
            ext["tasks"].clock,
            loader.login_as,
        )
        try:
            created = loader.load()
        except EngineError as exc:
            raise click.ClickException(f"demo data could not be loaded: {exc.message}") from exc
    click.echo("demo data loaded" if created else "demo data already present")
    click.echo("logins (username / password):")
    for username, password, who in loader.logins():
        click.echo(f"  {username:<12} {password}   {who}")


def cli_operator() -> Actor:
    """The operator the command line acts as (audited as "cli")."""
    from engine import Actor, roles

    return Actor(0, "cli", "运维（命令行）", roles.ADMIN, "platform")


@click.group("instances")
def instances_group() -> None:
    """Operators: list stuck instances and repair them."""


@instances_group.command("list")
@click.option("--stuck", is_flag=True, help="Only instances with a problem (reason shown).")
@click.option(
    "--status", default=None, help="running, waiting, suspended, error, completed, terminated"
)
@click.option("--process", default=None, help="Process id, e.g. title_application.")
def instances_list(stuck: bool, status: str | None, process: str | None) -> None:
    """List instances (newest first) with their problems."""
    app = create_app()
    with app.app_context():
        items, total = app.extensions["operations"].list_instances(
            cli_operator(), status=status, stuck=stuck, process=process, limit=500
        )
    for inst in items:
        click.echo(
            f"{inst.id:>6}  {inst.process} v{inst.version_number}  {inst.status:<10} "
            f"{inst.problem or ''}"
        )
    click.echo(f"{total} instance(s)")


def _repair(action: str, instance_id: str, reason: str, **kwargs: object) -> None:
    from engine import EngineError

    app = create_app()
    with app.app_context():
        try:
            result = getattr(app.extensions["operations"], action)(
                instance_id, cli_operator(), reason, **kwargs
            )
        except EngineError as exc:
            raise click.ClickException(exc.message) from exc
    status = result["status"]
    if status == "error":
        # The action ran but the instance is still stuck: say so, and fail the command.
        raise click.ClickException(
            f"instance {result['id']}: {action} ran, but the instance is still in error: "
            f"{result.get('problem') or 'see instances list --stuck'}"
        )
    click.echo(f"instance {result['id']}: {action} done, status {status}")


@instances_group.command("retry")
@click.argument("instance_id")
@click.option("--reason", required=True, help="Why (kept in the audit trail).")
@click.option(
    "--data",
    "data_json",
    default=None,
    metavar="JSON",
    help="Corrected task data merged into the errored task first, e.g. '{\"divisor\": 2}'.",
)
def instances_retry(instance_id: str, reason: str, data_json: str | None) -> None:
    """Rerun the errored task of one instance; exit 1 if it is still in error."""
    data = None
    if data_json is not None:
        try:
            data = json.loads(data_json)
        except ValueError as exc:
            raise click.BadParameter(f"not valid JSON: {exc}", param_hint="--data") from exc
        if not isinstance(data, dict):
            raise click.BadParameter("must be a JSON object", param_hint="--data")
    _repair("retry", instance_id, reason, data=data)


def _instance_action(action: str) -> click.Command:
    @click.command(action)
    @click.argument("instance_id")
    @click.option("--reason", required=True, help="Why (kept in the audit trail).")
    def command(instance_id: str, reason: str) -> None:
        _repair(action, instance_id, reason)

    command.help = f"{action.capitalize()} one instance."
    return command


for _action in ("suspend", "resume", "terminate"):
    instances_group.add_command(_instance_action(_action))


@instances_group.command("migrate")
@click.argument("instance_id")
@click.option("--version", "target", type=int, required=True, help="Target version.")
@click.option("--reason", required=True, help="Why (kept in the audit trail).")
@click.option("--dry-run", is_flag=True, help="Only report whether it would move.")
def instances_migrate(instance_id: str, target: int, reason: str, dry_run: bool) -> None:
    """Move one instance to another version of its process."""
    from engine import EngineError

    app = create_app()
    with app.app_context():
        try:
            report = app.extensions["operations"].migrate(
                instance_id, cli_operator(), reason, target, dry_run=dry_run
            )
        except EngineError as exc:
            raise click.ClickException(exc.message) from exc
    state = "would move" if dry_run and report["ok"] else "moved" if report["ok"] else "refused"
    click.echo(
        f"instance {report['id']}: v{report['from_version']} -> v{target} {state} "
        + "；".join(report["problems"])
    )
