"""The database schema's migrations (Alembic through Flask-Migrate), loaded when first used.

Flask-Migrate imports Alembic, a quarter of the service's start-up, which serving an
up-to-date database never needs. The app gets a stand-in for Flask-Migrate's registration
(`app.extensions["migrate"]`, the `flask db` commands) that registers the real one on first
use, so `flask_migrate.upgrade()` and `flask --app web db ...` work as before.
"""

from __future__ import annotations

from typing import Any

import click
from flask import Flask
from flask.cli import AppGroup

from web import MIGRATIONS_DIR

MIGRATE_COMMAND = "db"


class _MigrateOnDemand:
    """`app.extensions["migrate"]` until it is first read: then Flask-Migrate's own."""

    def __init__(self, app: Flask) -> None:
        self._app = app

    def __getattr__(self, name: str) -> Any:
        return getattr(register_migrate(self._app), name)


class _CommandsWithMigrate(AppGroup):
    """`app.cli`, whose `db` group (Flask-Migrate's) is registered when it is asked for."""

    def __init__(self, app: Flask) -> None:
        super().__init__(app.cli.name, app.cli.commands)
        self._app = app

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name == MIGRATE_COMMAND and cmd_name not in self.commands:
            register_migrate(self._app)
        return super().get_command(ctx, cmd_name)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), MIGRATE_COMMAND})


def defer_migrate(app: Flask) -> None:
    """Give the app Flask-Migrate's registration, to be made when first used."""
    app.extensions["migrate"] = _MigrateOnDemand(app)
    app.cli = _CommandsWithMigrate(app)


def register_migrate(app: Flask) -> Any:
    """Register Flask-Migrate on the app for storage/migrations (once); its config."""
    current = app.extensions.get("migrate")
    if current is None or isinstance(current, _MigrateOnDemand):
        from flask_migrate import Migrate

        from storage import db

        Migrate(app, db, directory=str(MIGRATIONS_DIR), command=MIGRATE_COMMAND)
    return app.extensions["migrate"]
