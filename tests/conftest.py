"""Fixtures: a migrated database (SQLite by default, PostgreSQL via ZHIPING_TEST_DATABASE_URL)
with the diagrams deployed and the org fixture loaded once per session, one app per worker made
afresh for each test (settings, services, clock, files dir; a test may ask for an app of its
own) on that starting state (tests/dbstate.py puts back what the previous test wrote), a
controllable clock, and the long flows' common starting points walked once per worker and put
back for the tests that start there (tests/checkpoints.py)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import URL, create_engine, make_url, text

from engine import ManualClock
from engine.process_runtime import ParsedSpecs
from storage import db
from tests import checkpoints, openapi_check
from tests.dbstate import Baseline, Written
from web import configure_logging, create_app, wire_services
from web.cli import upgrade_db
from web.security import limiter

FIXTURES = Path(__file__).parent / "fixtures"
START = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)  # Thursday 10:00 in Ningbo
# The annual cycle the seed opens for every committee: it covers every date the tests visit.
CYCLE_WINDOW = {"year": 2026, "opens_on": "2026-01-01", "closes_on": "2027-12-31"}
TEST_CONFIG = {
    "TESTING": True,
    "RATELIMIT_ENABLED": False,
    "PASSWORD_SCRYPT_N": 2**8,
    "WTF_CSRF_ENABLED": False,
}


def _database_url(tmp_root: Path, worker: str | None) -> str:
    """SQLite in the session's temp dir, or the PostgreSQL database given; under pytest-xdist
    each worker gets its own (SQLite: its own temp dir; PostgreSQL: <db>_<worker>, made anew)."""
    url = os.environ.get("ZHIPING_TEST_DATABASE_URL")
    if not url:
        return f"sqlite:///{tmp_root / 'test.db'}"
    if worker is None:
        return url
    given = make_url(url)
    mine = given.set(database=f"{given.database}_{worker}")
    _recreate_database(given, mine.database or "")
    return mine.render_as_string(hide_password=False)


def _recreate_database(server: URL, name: str, *, drop_only: bool = False) -> None:
    admin = create_engine(server.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            if not drop_only:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        admin.dispose()


@dataclass
class Seed:
    url: str
    baseline: Baseline
    written: Written


@pytest.fixture(scope="session")
def seed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Seed]:
    """Migrate, empty, deploy bpmn/ and load the org fixture once; remember every row."""
    root = tmp_path_factory.mktemp("zhiping")
    os.environ["ZHIPING_INSTANCE_DIR"] = str(root / "instance")
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    url = _database_url(root, worker)
    app = create_app({**TEST_CONFIG, "DATABASE_URL": url, "CLOCK": ManualClock(START)})
    upgrade_db(app)
    with app.app_context():
        _empty_all_tables()
        app.extensions["deployments"].deploy_directory(actor="tests")
        app.extensions["accounts"].load_orgs(json.loads((FIXTURES / "orgs.json").read_text()))
        open_cycles(app)
        db.session.remove()
        with db.engine.connect() as conn:
            baseline = Baseline(conn)
        db.engine.dispose()
    written = Written()
    written.start()
    yield Seed(url, baseline, written)
    written.stop()
    if worker is not None and url.startswith("postgresql"):
        _recreate_database(make_url(url), make_url(url).database or "", drop_only=True)


@pytest.fixture(scope="session")
def database_url(seed: Seed) -> str:
    return seed.url


def open_cycles(app: Flask) -> None:
    """Every committee of the catalogue takes applications over the test clock's dates
    (filing needs an open annual cycle), opened by the platform's administrator."""
    admin = app.extensions["accounts"].login("admin", "Adm-Pass-1")
    for committee in app.extensions["designer_forms"].current_committees().committees:
        app.extensions["cycles"].open_cycle(committee.id, CYCLE_WINDOW, admin)


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


def _new_app(seed: Seed, clock: ManualClock, files: Path, **settings: Any) -> Flask:
    app = create_app(
        {
            **TEST_CONFIG,
            "DATABASE_URL": seed.url,
            "CLOCK": clock,
            "FILES_DIR": str(files),
            **settings,
        }
    )
    openapi_check.install(app)
    return app


# Extensions that hold no state of their own: the database engine and its unit-of-work
# factory, Flask-Migrate, CSRF, the scheduler-state probe. Every other extension must be
# made anew by wire_services, or a test could see what the previous one left in it.
FRAMEWORK_EXTENSIONS = {"sqlalchemy", "migrate", "unit_of_work", "csrf", "scheduler_state"}


@dataclass
class SharedApp:
    """One app per worker, given fresh settings and fresh services before each test."""

    app: Flask
    settings: dict[str, Any]
    # Parsed process versions, shared by the runtimes of the tests: a version a test sees
    # again (the seed's, above all) is not parsed again; the key holds its sha256.
    parsed: ParsedSpecs = field(default_factory=dict)

    def reset(self, clock: ManualClock, files: Path) -> Flask:
        app = self.app
        app.config.clear()
        app.config.update(self.settings, CLOCK=clock, FILES_DIR=str(files))
        configure_logging(app.config)
        before = dict(app.extensions)
        wire_services(app, app.extensions["unit_of_work"], parsed_specs=self.parsed)
        kept = {k for k, v in app.extensions.items() if before.get(k) is v}
        leftover = kept - FRAMEWORK_EXTENSIONS
        assert not leftover, (
            f"app.extensions {sorted(leftover)} survive wire_services: build them there "
            "so each test gets its own (see tests/conftest.py FRAMEWORK_EXTENSIONS)"
        )
        return app


@pytest.fixture(scope="session")
def shared_app(seed: Seed, tmp_path_factory: pytest.TempPathFactory) -> Iterator[SharedApp]:
    app = _new_app(seed, ManualClock(START), tmp_path_factory.mktemp("files"))
    yield SharedApp(app, dict(app.config))
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture(scope="session")
def kept_walks(seed: Seed, shared_app: SharedApp) -> Iterator[checkpoints.Checkpoints]:
    """The common starting points of the long flows, walked once per worker (tests/checkpoints.py)."""
    kept = checkpoints.Checkpoints(seed.baseline, seed.written, shared_app.settings, START)
    checkpoints.install(kept)
    yield kept
    checkpoints.install(None)


@pytest.fixture
def app(
    seed: Seed,
    clock: ManualClock,
    tmp_path: Path,
    request: pytest.FixtureRequest,
    kept_walks: checkpoints.Checkpoints,
) -> Iterator[Flask]:
    """The app on the starting state. Tests share one app per worker, reset before each test
    (settings, services, clock, files dir). @pytest.mark.app_config(KEY=value, ...) gives a test
    an app of its own with those settings; @pytest.mark.own_app one with the usual settings
    (for a test that adds routes or hooks)."""
    marker = request.node.get_closest_marker("app_config")
    own = marker is not None or request.node.get_closest_marker("own_app") is not None
    files = tmp_path / "files"
    if own:
        app = _new_app(seed, clock, files, **(marker.kwargs if marker else {}))
    else:
        app = request.getfixturevalue("shared_app").reset(clock, files)
    # Flask-Limiter keeps one module-level switch that the last app made sets: follow this one.
    limiter.enabled = bool(app.config["RATELIMIT_ENABLED"])
    if limiter.enabled:
        limiter.reset()
    with app.app_context():
        # The starting state: the session's deploy and org fixture, nothing a test wrote.
        with db.engine.begin() as conn:
            seed.baseline.restore(conn, seed.written.tables)
        seed.written.tables.clear()
    kept_walks.context = checkpoints.Context(app, clock, files, shared=not own)
    yield app
    kept_walks.context = None
    with app.app_context():
        db.session.remove()
        if own:
            db.engine.dispose()


@pytest.fixture
def api(app: Flask):
    from tests.helpers import Api

    return Api(app)


# Files whose tests are long (fuzzing, subprocesses, real scheduler waits, long flows): run
# first, so the two xdist workers end on short tests instead of one waiting for the other's
# last long one. Only the order changes; every test still starts from the seed.
LONG_FIRST = (
    "test_api_fuzz.py",
    "test_cli.py",
    "test_scheduler.py",
    "test_startup.py",
    "test_script_limits.py",
    "test_committee_review.py",
    "test_processes.py",
    "test_dashboard.py",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    rank = {name: i for i, name in enumerate(LONG_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(LONG_FIRST)))
