"""Whether a database is already at the migration scripts' head, told without Alembic.

Importing Alembic and loading its script directory costs a quarter of the service's start-up,
and every start (`serve`, `scheduler`, each command that upgrades first) usually finds the
database up to date. The scripts' head is read from their `revision` / `down_revision`
literals; anything this reading is not sure of answers "not current", and the caller runs
Alembic's upgrade as before.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

from sqlalchemy import Engine, text
from sqlalchemy.exc import SQLAlchemyError

# `revision = '0012_committee'`, `down_revision: str | None = None`, ... at the start of a line.
_ASSIGNMENT = re.compile(
    r"^(revision|down_revision|depends_on)\s*(?::[^=\n]*)?=\s*(.*?)\s*$", re.MULTILINE
)


def _literals(script: Path) -> dict[str, object] | None:
    """The module-level literals `revision`, `down_revision` and `depends_on` of a script
    (a regular expression, not a parse of the module: ten times quicker)."""
    try:
        source = script.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    found: dict[str, object] = {}
    for match in _ASSIGNMENT.finditer(source):
        name, value = match.groups()
        if name in found:
            return None
        try:
            found[name] = ast.literal_eval(value)
        except (SyntaxError, ValueError):
            return None
    return found


def script_heads(versions_dir: Path) -> frozenset[str] | None:
    """The head revisions of the scripts in versions_dir; None when one cannot be read plainly
    (a computed id, a dependency between branches), so that Alembic decides."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for script in sorted(versions_dir.glob("*.py")):
        found = _literals(script)
        if found is None or found.get("depends_on") is not None:
            return None
        revision, down = found.get("revision"), found.get("down_revision")
        if not isinstance(revision, str):
            return None
        revisions.add(revision)
        downs = (down,) if down is None or isinstance(down, str) else down
        if not isinstance(downs, tuple | list) or not all(
            d is None or isinstance(d, str) for d in downs
        ):
            return None
        parents.update(d for d in downs if d is not None)
    heads = revisions - parents
    return frozenset(heads) if heads and parents <= revisions else None


def database_revisions(engine: Engine) -> frozenset[str] | None:
    """The revisions recorded in the database's alembic_version table; None without one."""
    try:
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT version_num FROM alembic_version")).scalars()
            return frozenset(rows)
    except SQLAlchemyError:
        return None


def database_is_current(engine: Engine, versions_dir: Path) -> bool:
    """True when the database records exactly the scripts' heads: an upgrade would do
    nothing."""
    heads = script_heads(versions_dir)
    return heads is not None and database_revisions(engine) == heads
