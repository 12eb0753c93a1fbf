"""Flask app factory: the composition root (the one place that wires storage to engine)."""

from __future__ import annotations

import gc
import logging
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flask import Flask

    from engine.process_runtime import ParsedSpecs
    from storage import UnitOfWorkFactory

# Importing `web` (as run.py and every `web.*` module does) stays cheap: Flask, the engine,
# storage and Alembic are imported by the functions that need them, so `run.py --help` and
# the commands load only what they use (docs/decisions/0028-imports-on-demand.md).

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "storage" / "migrations"


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector for a start-up (turned on again after, if it
    was on): imports and the app's construction make hundreds of thousands of objects that live
    as long as the process, and the collector would walk them all again and again for nothing,
    a tenth of the start-up."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


@collector_paused()
def create_app(overrides: dict[str, Any] | None = None) -> Flask:
    """Build the app: config, database, engine, blueprints, error handlers."""
    from flask import Flask

    from storage import configure_engine_events, db, session_factory, unit_of_work_factory
    from web import config as cfg
    from web.schema import defer_migrate

    app = Flask(__name__, instance_path=cfg.instance_dir().as_posix())
    app.config.update(cfg.defaults())
    app.config.from_prefixed_env("ZHIPING")
    app.config.update(overrides or {})
    cfg.finish(app.config)
    # JSON answers are UTF-8 with Chinese as it is, not \uXXXX escapes.
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    configure_logging(app.config)

    db.init_app(app)
    defer_migrate(app)
    with app.app_context():
        configure_engine_events(db.engine)
        # Services open plain SQLAlchemy sessions on the app's engine: no app context needed.
        sessions = session_factory(db.engine)
        uow = unit_of_work_factory(sessions)
    wire_services(app, uow)

    from engine import watch_new_timers
    from web import auth, errors, input_guard, scheduler, security

    # A timer due before the next planning run gets its date job when its commit lands.
    watch_new_timers(
        sessions,
        lambda: app.extensions["timers"].clock(),
        lambda upcoming: scheduler.plan_new_timers(app, upcoming),
    )
    from web.blueprints import (
        api,
        pages,
        pages_applications,
        pages_calendar,
        pages_certificates,
        pages_cycles,
        pages_dashboard,
        pages_designer,
        pages_dossier,
        pages_files,
        pages_handoffs,
        pages_messages,
        pages_modeler,
        pages_ops,
        pages_register,
        pages_review,
        pages_sessions,
        pages_unit,
        pages_verify,
    )

    # The input guard before anything reads the request; then sessions, so a timed-out page
    # user is sent to sign in before CSRF checks the form.
    input_guard.init_app(app)
    auth.init_app(app)
    security.init_app(app)
    errors.init_app(app)
    for module in (
        api,
        pages,
        pages_register,
        pages_unit,
        pages_dossier,
        pages_applications,
        pages_review,
        pages_messages,
        pages_handoffs,
        pages_files,
        pages_calendar,
        pages_cycles,
        pages_sessions,
        pages_ops,
        pages_designer,
        pages_modeler,
        pages_dashboard,
        pages_verify,
        pages_certificates,
    ):
        app.register_blueprint(module.bp)
    scheduler.init_app(app)
    return app


def configure_logging(config: Mapping[str, Any]) -> None:
    """The process's log format and levels, from LOG_LEVEL."""
    logging.basicConfig(format="%(asctime)s %(levelname)s %(name)s %(message)s")
    level = str(config["LOG_LEVEL"]).upper()
    logging.getLogger().setLevel(level)
    # werkzeug sets INFO on its own logger unless told: its request log follows ours.
    logging.getLogger("werkzeug").setLevel(level)
    # SpiffWorkflow logs every task state change at INFO: noise, and a cost on every step.
    logging.getLogger("spiff").setLevel(logging.WARNING)


def wire_services(
    app: Flask, uow: UnitOfWorkFactory, *, parsed_specs: ParsedSpecs | None = None
) -> None:
    """Build every service once, each with its unit-of-work factory and what it needs.

    Every stateful object of the app is made here from ``app.config``: calling this again
    gives the app fresh services (the tests reuse one app per worker that way, handing each
    runtime the versions its predecessors parsed: ``parsed_specs``)."""
    from engine import (
        Accounts,
        Applicants,
        Applications,
        AuditLog,
        CalendarAdmin,
        Certificates,
        Cycles,
        Dashboard,
        Deployments,
        DesignerFiles,
        Documents,
        Dossiers,
        Exports,
        FeeSettings,
        FileStore,
        Handoffs,
        Notices,
        Operations,
        PasswordHasher,
        ProcessRuntime,
        Tasks,
        Timers,
        Units,
        Withdrawals,
        default_validators,
        system_clock,
    )
    from engine.accounts import LoginPolicy
    from engine.ballot_close import BallotClose, ResultObjections
    from engine.read_models import DesignerForms, Directory, Inbox, Profiles, Worklists
    from engine.review_sessions import ReviewSessions
    from engine.sessions import SessionPolicy, WebSessions
    from web import config as cfg

    config, ext = app.config, app.extensions
    clock = config.get("CLOCK") or system_clock
    hasher = PasswordHasher(int(config["PASSWORD_SCRYPT_N"]))
    files = DesignerFiles(Path(config["BPMN_DIR"]))
    runtime = ProcessRuntime(
        files,
        clock=clock,
        validators=default_validators(cfg.calendar_policy(config)),
        sandbox_limits=cfg.sandbox_limits(config),
        parsed=parsed_specs,
    )
    ext["unit_of_work"], ext["designer_files"], ext["runtime"] = uow, files, runtime
    ballot_close = BallotClose(
        runtime, files, clock=clock, calendar_policy=cfg.calendar_policy(config)
    )
    ext["tasks"] = Tasks(uow, runtime, files, clock=clock, ballot_close=ballot_close)
    ext["review_sessions"] = ReviewSessions(uow, runtime, files, clock=clock)
    ext["result_objections"] = ResultObjections(uow, runtime, clock=clock)
    ext["timers"] = Timers(uow, runtime, clock=clock)
    ext["operations"] = Operations(
        uow,
        runtime,
        clock=clock,
        # scheduler.init_app registers "scheduler_state" later; asked only when needed.
        scheduler_running=lambda: ext["scheduler_state"]() == "running",
    )
    ext["deployments"] = Deployments(uow, runtime, files, clock=clock)
    ext["notices"] = Notices(uow, clock=clock)
    ext["calendar"] = CalendarAdmin(uow, clock=clock)
    ext["audit_log"] = AuditLog(uow)
    ttl = timedelta(hours=int(config["TOKEN_TTL_HOURS"]))
    lockout = LoginPolicy(
        max_failures=int(config["LOGIN_MAX_FAILURES"]),
        lock_minutes=int(config["LOGIN_LOCK_MINUTES"]),
    )
    ext["accounts"] = Accounts(uow, clock, ttl, lockout, hasher=hasher)
    ext["web_sessions"] = WebSessions(
        ext["accounts"],
        SessionPolicy(
            idle=timedelta(minutes=float(config["SESSION_IDLE_MINUTES"])),
            lifetime=timedelta(hours=float(config["SESSION_MAX_HOURS"])),
        ),
    )
    store = FileStore(
        Path(config["FILES_DIR"]),
        max_bytes=int(config["MAX_UPLOAD_MB"]) * 1024 * 1024,
        max_pages=int(config["MAX_PDF_PAGES"]),
        max_decoded_bytes=int(config["PDF_MAX_DECODED_MB"]) * 1024 * 1024,
        max_objects=int(config["PDF_MAX_OBJECTS"]),
    )
    ext["documents"] = Documents(uow, store, clock)
    ext["units"] = Units(uow, runtime, store, clock=clock, hasher=hasher)
    ext["applicants"] = Applicants(uow, clock=clock, hasher=hasher)
    ext["dossiers"] = Dossiers(uow, runtime, files, clock=clock)
    ext["fee_settings"] = FeeSettings(uow, runtime, files, clock=clock)
    ext["applications"] = Applications(uow, runtime, files, clock=clock)
    ext["withdrawals"] = Withdrawals(uow, runtime)
    ext["directory"] = Directory(uow)
    ext["designer_forms"] = DesignerForms(uow, runtime, files)
    ext["profiles"] = Profiles(uow)
    ext["inbox"] = Inbox(uow, clock=clock)
    ext["handoffs"] = Handoffs(uow, clock=clock)
    ext["worklists"] = Worklists(uow)
    ext["dashboard"] = Dashboard(
        uow,
        committees=ext["designer_forms"].current_committees,
        clock=clock,
        policy=cfg.calendar_policy(config),
        overdue_after_workdays=int(config["OVERDUE_AFTER_WORKDAYS"]),
    )
    ext["cycles"] = Cycles(uow, committees=ext["designer_forms"].current_committees, clock=clock)
    ext["exports"] = Exports(uow, runtime, files, store, config["BASE_URL"], clock=clock)
    ext["certificates"] = Certificates(uow, runtime, files, config["BASE_URL"], clock=clock)
