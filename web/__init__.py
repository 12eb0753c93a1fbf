"""Flask app factory: the composition root (the one place that wires storage to engine)."""

from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import Path
from typing import Any

from flask import Flask
from flask_migrate import Migrate

from engine import (
    Accounts,
    Applications,
    Documents,
    Exports,
    FileStore,
    Onboarding,
    Withdrawals,
    WorkflowEngine,
    default_validators,
    system_clock,
)
from engine.accounts import LoginPolicy, set_password_cost
from engine.read_models import ReadModels
from storage import SqlUnitOfWork, configure_engine_events, db
from web import config as cfg

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "storage" / "migrations"
migrate = Migrate()


def create_app(overrides: dict[str, Any] | None = None) -> Flask:
    """Build the app: config, database, engine, blueprints, error handlers."""
    app = Flask(__name__, instance_path=cfg.instance_dir().as_posix())
    app.config.update(cfg.defaults())
    app.config.from_prefixed_env("ZHIPING")
    app.config.update(overrides or {})
    cfg.finish(app.config)
    # JSON answers are UTF-8 with Chinese as it is, not \uXXXX escapes.
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    logging.basicConfig(format="%(asctime)s %(levelname)s %(name)s %(message)s")
    level = str(app.config["LOG_LEVEL"]).upper()
    logging.getLogger().setLevel(level)
    # werkzeug sets INFO on its own logger unless told: its request log follows ours.
    logging.getLogger("werkzeug").setLevel(level)
    # SpiffWorkflow logs every task state change at INFO: noise, and a cost on every step.
    logging.getLogger("spiff").setLevel(logging.WARNING)

    db.init_app(app)
    migrate.init_app(app, db, directory=str(MIGRATIONS_DIR))
    with app.app_context():
        configure_engine_events(db.engine)

    set_password_cost(int(app.config["PASSWORD_SCRYPT_N"]))
    clock = app.config.get("CLOCK") or system_clock
    engine = WorkflowEngine(
        SqlUnitOfWork,
        bpmn_dir=Path(app.config["BPMN_DIR"]),
        clock=clock,
        validators=default_validators(cfg.calendar_policy(app.config)),
        sandbox_limits=cfg.sandbox_limits(app.config),
    )
    app.extensions["engine"] = engine
    ttl = timedelta(hours=int(app.config["TOKEN_TTL_HOURS"]))
    lockout = LoginPolicy(
        max_failures=int(app.config["LOGIN_MAX_FAILURES"]),
        lock_minutes=int(app.config["LOGIN_LOCK_MINUTES"]),
    )
    app.extensions["accounts"] = Accounts(SqlUnitOfWork, clock, ttl, lockout)
    store = FileStore(
        Path(app.config["FILES_DIR"]),
        max_bytes=int(app.config["MAX_UPLOAD_MB"]) * 1024 * 1024,
        max_pages=int(app.config["MAX_PDF_PAGES"]),
        max_decoded_bytes=int(app.config["PDF_MAX_DECODED_MB"]) * 1024 * 1024,
        max_objects=int(app.config["PDF_MAX_OBJECTS"]),
    )
    app.extensions["documents"] = Documents(SqlUnitOfWork, store, clock)
    app.extensions["onboarding"] = Onboarding(engine, store)
    app.extensions["applications"] = Applications(engine)
    app.extensions["withdrawals"] = Withdrawals(engine)
    app.extensions["read_models"] = ReadModels(SqlUnitOfWork, bpmn_dir=engine.bpmn_dir)
    app.extensions["exports"] = Exports(engine, store, app.config["BASE_URL"])

    from web import auth, errors, input_guard, scheduler, security
    from web.blueprints import (
        api,
        pages,
        pages_applications,
        pages_calendar,
        pages_designer,
        pages_dossier,
        pages_files,
        pages_messages,
        pages_ops,
        pages_register,
        pages_review,
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
        pages_files,
        pages_calendar,
        pages_ops,
        pages_designer,
        pages_verify,
    ):
        app.register_blueprint(module.bp)
    scheduler.init_app(app)
    engine.scheduler_running = lambda: app.extensions["scheduler_state"]() == "running"
    return app
