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


def test_names_migration_renames_the_counters_and_back(tmp_path):
    """0008_names keeps every value: instance version -> revision, deploy version -> number."""
    from flask_migrate import downgrade, upgrade
    from sqlalchemy import inspect, text

    from web import MIGRATIONS_DIR, create_app

    app = create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'names.db'}", "TESTING": True})
    with app.app_context():
        upgrade(directory=str(MIGRATIONS_DIR), revision="0006_withdraw")
        db.session.execute(
            text(
                "INSERT INTO process_version (id, process_id, version, sha256, bpmn_xml, files, "
                "deployed_at) VALUES (1, 'p', 3, :sha, '<x/>', '{}', '2026-11-20 00:00:00')"
            ),
            {"sha": "a" * 64},
        )
        db.session.execute(
            text(
                "INSERT INTO process_instance (id, process_version_id, process_id, status, "
                "state, version, created_at, updated_at) VALUES (7, 1, 'p', 'running', '{}', 5, "
                "'2026-11-20 00:00:00', '2026-11-20 00:00:00')"
            )
        )
        db.session.commit()

        def columns(table: str) -> set[str]:
            return {c["name"] for c in inspect(db.engine).get_columns(table)}

        def counters(instance_column: str, version_column: str) -> tuple[int, int]:
            row = db.session.execute(
                text(
                    f"SELECT i.{instance_column}, v.{version_column} FROM process_instance i "
                    "JOIN process_version v ON v.id = i.process_version_id"
                )
            ).one()
            db.session.commit()
            return tuple(row)

        upgrade(directory=str(MIGRATIONS_DIR))
        assert "revision" in columns("process_instance")
        assert "version" not in columns("process_instance")
        assert "number" in columns("process_version")
        assert counters("revision", "number") == (5, 3)

        downgrade(directory=str(MIGRATIONS_DIR), revision="0006_withdraw")
        assert "version" in columns("process_instance")
        assert "revision" not in columns("process_instance")
        assert counters("version", "version") == (5, 3)
        db.session.remove()
        db.engine.dispose()


def test_cycles_migration_adds_and_removes_its_table_and_column(tmp_path):
    """0009_cycles: review_cycle and application.cycle_id come and go; applications stay."""
    from flask_migrate import downgrade, upgrade
    from sqlalchemy import inspect, text

    from web import MIGRATIONS_DIR, create_app

    app = create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'cycles.db'}", "TESTING": True})
    with app.app_context():
        upgrade(directory=str(MIGRATIONS_DIR), revision="0008_names")
        db.session.execute(
            text(
                "INSERT INTO app_user (id, username, name, role, password_hash, active, "
                "failed_logins, created_at) VALUES (1, 'a', '甲', 'applicant', 'x', 1, 0, "
                "'2026-11-20 00:00:00')"
            )
        )
        db.session.execute(
            text(
                "INSERT INTO application (id, applicant_id, unit_org_id, series, level, "
                "specialty, status, created_at, updated_at) VALUES (5, 1, 'u', '工程', '中级', "
                "'水利工程', 'draft', '2026-11-20 00:00:00', '2026-11-20 00:00:00')"
            )
        )
        db.session.commit()

        def state() -> tuple[bool, bool, int]:
            inspector = inspect(db.engine)
            columns = {c["name"] for c in inspector.get_columns("application")}
            count = db.session.execute(text("SELECT count(*) FROM application")).scalar_one()
            db.session.commit()
            return "review_cycle" in inspector.get_table_names(), "cycle_id" in columns, count

        upgrade(directory=str(MIGRATIONS_DIR), revision="0009_cycles")
        assert state() == (True, True, 1)
        downgrade(directory=str(MIGRATIONS_DIR), revision="0008_names")
        assert state() == (False, False, 1)
        db.session.remove()
        db.engine.dispose()
