"""Start-up loads what serving needs and no more: on an up-to-date database no Alembic (the
schema's head is read from the migration scripts), no PDF library until a PDF is made; Flask-
Migrate's registration and the `flask db` commands still work, made when first used."""

from __future__ import annotations

import gc
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from storage import database_is_current
from storage.migration_state import database_revisions, script_heads
from web import MIGRATIONS_DIR, collector_paused, create_app
from web.cli import upgrade_db

ROOT = Path(__file__).resolve().parents[2]
VERSIONS = MIGRATIONS_DIR / "versions"
LAZY = ("alembic", "flask_migrate", "pypdf", "reportlab", "fontTools", "segno")


def _app(tmp_path: Path, name: str = "start.db"):
    return create_app({"DATABASE_URL": f"sqlite:///{tmp_path / name}", "TESTING": True})


def test_script_heads_agree_with_alembic():
    from alembic.script import ScriptDirectory

    assert script_heads(VERSIONS) == frozenset(ScriptDirectory(str(MIGRATIONS_DIR)).get_heads())


def _script(folder: Path, name: str, body: str) -> None:
    (folder / f"{name}.py").write_text(f'"""{name}"""\n{body}\n\ndef upgrade():\n    pass\n')


def test_script_heads_follow_branches_and_merges(tmp_path):
    _script(tmp_path, "a", "revision = 'a'\ndown_revision = None")
    _script(tmp_path, "b", "revision: str = 'b'\ndown_revision: str | None = 'a'")
    _script(tmp_path, "c", 'revision = "c"\ndown_revision = "a"')
    assert script_heads(tmp_path) == {"b", "c"}
    _script(tmp_path, "m", "revision = 'm'\ndown_revision = ('b', 'c')")
    assert script_heads(tmp_path) == {"m"}


@pytest.mark.parametrize(
    "body",
    [
        "revision = make_id()\ndown_revision = None",  # computed: Alembic decides
        "revision = 'x'\ndown_revision = (\n    'a',\n    'b',\n)",  # over several lines
        "revision = 'x'\ndown_revision = 'a'\ndepends_on = 'other_branch'",
        "revision = 'x'\nrevision = 'y'\ndown_revision = None",
        "down_revision = None",
        "revision = 'x'\ndown_revision = 'not_a_script'",
    ],
)
def test_script_heads_leave_what_they_cannot_read_to_alembic(tmp_path, body):
    _script(tmp_path, "a", "revision = 'a'\ndown_revision = None")
    _script(tmp_path, "x", body)
    assert script_heads(tmp_path) is None


def test_database_revisions_none_without_the_version_table(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path / 'empty.db'}")
    assert database_revisions(engine) is None
    assert not database_is_current(engine, VERSIONS)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE alembic_version (version_num VARCHAR(32))"))
        conn.execute(text("INSERT INTO alembic_version VALUES ('0001')"))
    assert database_revisions(engine) == {"0001"}
    assert not database_is_current(engine, VERSIONS)
    engine.dispose()


def test_upgrade_db_still_upgrades_a_database_behind(tmp_path):
    from flask_migrate import upgrade

    from storage import db

    app = _app(tmp_path)
    with app.app_context():
        upgrade(directory=str(MIGRATIONS_DIR), revision="0011_handoffs")
        assert not database_is_current(db.engine, VERSIONS)
    upgrade_db(app)
    with app.app_context():
        assert database_revisions(db.engine) == script_heads(VERSIONS)
        db.engine.dispose()


def test_flask_db_commands_are_registered_when_asked_for(tmp_path):
    from storage import db

    app = _app(tmp_path)
    assert "db" in app.cli.list_commands(None)  # type: ignore[arg-type]
    result = app.test_cli_runner().invoke(args=["db", "upgrade"])
    assert result.exit_code == 0, result.output
    assert type(app.extensions["migrate"]).__module__ == "flask_migrate"
    with app.app_context():
        assert database_revisions(db.engine) == script_heads(VERSIONS)
        db.engine.dispose()


def test_collector_paused_restores_the_collector():
    assert gc.isenabled()
    with collector_paused():
        assert not gc.isenabled()
        with collector_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()
    gc.disable()
    try:
        with collector_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_serving_an_up_to_date_database_loads_no_alembic_and_no_pdf_library(tmp_path):
    """A fresh interpreter builds the app, upgrades (nothing to do) and answers a health check
    and a task list; only then does a PDF's library load, when a PDF is made."""
    url = f"sqlite:///{tmp_path / 'served.db'}"
    code = (
        "import sys\n"
        "from web import create_app\n"
        "from web.cli import prepare\n"
        f"app = create_app({{'DATABASE_URL': {url!r}, 'TESTING': True}})\n"
        "prepare(app)\n"
        "client = app.test_client()\n"
        "assert client.get('/api/v1/health').status_code == 200\n"
        "assert client.get('/api/v1/openapi.json').status_code == 200\n"
        f"print('LOADED', sorted(m for m in {LAZY!r} if m in sys.modules))\n"
        "from engine.documents import entrustment_template_pdf\n"
        "import datetime\n"
        "pdf = entrustment_template_pdf({'name': '单位', 'credit_code': '', 'contact': '',"
        " 'phone': '', 'dept_name': ''}, today=datetime.date(2026, 12, 2))\n"
        "assert pdf.startswith(b'%PDF')\n"
        "print('AFTER', sorted(m for m in ('pypdf', 'reportlab') if m in sys.modules))\n"
    )
    env = {"PATH": "/usr/bin:/bin", "ZHIPING_INSTANCE_DIR": str(tmp_path / "instance")}
    # Migrated here (this process has loaded Alembic already), served by a fresh one.
    served = _app(tmp_path, "served.db")
    upgrade_db(served)
    with served.app_context():
        from storage import db

        db.engine.dispose()
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert "LOADED []" in done.stdout, done.stdout
    assert "AFTER ['pypdf', 'reportlab']" in done.stdout, done.stdout
