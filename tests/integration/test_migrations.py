"""Schema changes go through Alembic: the migrated database equals the models."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from storage import db


def test_migrations_match_the_models(app):
    with app.app_context(), db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), db.metadata)
    # APScheduler creates and owns its job table; it is not one of our models.
    diff = [d for d in diff if "apscheduler_jobs" not in repr(d)]
    assert diff == []
