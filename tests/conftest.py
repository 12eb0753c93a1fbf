"""Fixtures: a migrated database (SQLite by default, PostgreSQL via ZHIPING_TEST_DATABASE_URL),
a fresh app per test with every table emptied, a controllable clock."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import text

from engine import ManualClock
from storage import db
from tests import openapi_check
from web import create_app
from web.cli import upgrade_db

FIXTURES = Path(__file__).parent / "fixtures"
START = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)  # Thursday 10:00 in Ningbo


def _database_url(tmp_root: Path) -> str:
    return os.environ.get("ZHIPING_TEST_DATABASE_URL") or f"sqlite:///{tmp_root / 'test.db'}"


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    root = tmp_path_factory.mktemp("zhiping")
    os.environ["ZHIPING_INSTANCE_DIR"] = str(root / "instance")
    url = _database_url(root)
    app = create_app({"DATABASE_URL": url})
    upgrade_db(app)
    with app.app_context():
        db.engine.dispose()
    return url


def _empty_all_tables() -> None:
    tables = [t.name for t in reversed(db.metadata.sorted_tables)]
    if db.engine.dialect.name == "postgresql":
        db.session.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
    else:
        for name in tables:
            db.session.execute(text(f"DELETE FROM {name}"))
    db.session.commit()


@pytest.fixture(autouse=True)
def _log_level(monkeypatch: pytest.MonkeyPatch) -> None:
    # The command line lowers the log level through the environment; keep that per test.
    monkeypatch.setenv("ZHIPING_LOG_LEVEL", os.environ.get("ZHIPING_LOG_LEVEL", "INFO"))


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
def app(
    database_url: str, clock: ManualClock, tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[Flask]:
    # @pytest.mark.app_config(KEY=value, ...) overrides a setting for one test.
    marker = request.node.get_closest_marker("app_config")
    app = create_app(
        {
            "DATABASE_URL": database_url,
            "TESTING": True,
            "CLOCK": clock,
            "FILES_DIR": str(tmp_path / "files"),
            "RATELIMIT_ENABLED": False,
            "PASSWORD_SCRYPT_N": 2**8,
            "WTF_CSRF_ENABLED": False,
            **(marker.kwargs if marker else {}),
        }
    )
    openapi_check.install(app)
    with app.app_context():
        _empty_all_tables()
        app.extensions["deployments"].deploy_directory(actor="tests")
        app.extensions["accounts"].load_orgs(json.loads((FIXTURES / "orgs.json").read_text()))
        db.session.remove()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def api(app: Flask):
    from tests.helpers import Api

    return Api(app)
