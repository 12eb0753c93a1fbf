"""The test database's starting state, made once per session and put back before each test.

The session database is migrated, the diagrams deployed and the org fixture loaded once; the
rows of every table are then kept in memory (the baseline). Every statement that writes
(INSERT, UPDATE, DELETE, on any engine of this process, threads included) names the table it
writes, so before a test only those tables are emptied and refilled with their baseline rows,
and on PostgreSQL their id sequences are set back: a test sees exactly the rows and the next
ids a freshly emptied, freshly deployed database would give it. A statement whose table
cannot be read from it (DDL, a CTE) marks every table.

What is not put back is where rows lie: on PostgreSQL the refilled rows go after the deleted
ones, and once those are vacuumed a row the next test writes may fill a freed slot before
them. A query without ORDER BY then returns the test's row before the baseline's, depending on
what earlier tests wrote: a test that relies on an order says ORDER BY (a real database is
just as long-lived).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from sqlalchemy import Connection, Table, event, select, text
from sqlalchemy.engine import Engine

from storage import db

ALL = "*"
_WRITE = re.compile(
    r"""\s*(?:INSERT(?:\s+OR\s+\w+)?\s+INTO|REPLACE\s+INTO|UPDATE(?:\s+OR\s+\w+)?|DELETE\s+FROM)
        \s+(?:ONLY\s+)?"?(?:\w+"?\.)?"?(\w+)""",
    re.IGNORECASE | re.VERBOSE,
)
_READ = re.compile(r"\s*(?:SELECT|PRAGMA|SAVEPOINT|RELEASE|ROLLBACK|BEGIN|COMMIT|SHOW|SET)\b", re.I)


def written_table(statement: str) -> str | None:
    """The table a statement writes; ALL when it may write but names none; None for reads."""
    found = _WRITE.match(statement)
    if found:
        return found.group(1).lower()
    if _READ.match(statement):
        return None
    return ALL


class Written:
    """Tables written since the last restore, by any engine of this process."""

    def __init__(self) -> None:
        self.tables: set[str] = set()

    def __call__(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        name = written_table(statement)
        if name is not None:
            self.tables.add(name)

    def start(self) -> None:
        event.listen(Engine, "before_cursor_execute", self)

    def stop(self) -> None:
        event.remove(Engine, "before_cursor_execute", self)


def _parents_first(table: Table, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows of a self-referencing table (org.parent_id) ordered so a parent comes first."""
    links = [
        (fk.parent.name, fk.column.name) for fk in table.foreign_keys if fk.column.table is table
    ]
    if not links:
        return rows
    out: list[dict[str, Any]] = []
    placed: set[tuple[str, Any]] = set()
    left = list(rows)
    while left:
        ready = [r for r in left if all(r[c] is None or (p, r[c]) in placed for c, p in links)]
        if not ready:  # a cycle: keep the stored order for the rest
            ready = left
        for row in ready:
            out.append(row)
            placed.update((p, row[p]) for _, p in links)
        left = [r for r in left if r not in ready]
    return out


class Baseline:
    """Every table's rows (and PostgreSQL id sequences) as captured after the session set-up."""

    def __init__(self, conn: Connection) -> None:
        self.tables = list(db.metadata.sorted_tables)
        self.rows = {
            t.name: _parents_first(t, [dict(r._mapping) for r in conn.execute(select(t))])
            for t in self.tables
        }
        self.sequences: dict[str, tuple[str, int, bool]] = {}
        if conn.dialect.name == "postgresql":
            for t in self.tables:
                for col in t.primary_key.columns:
                    seq = conn.scalar(
                        text("SELECT pg_get_serial_sequence(:t, :c)"), {"t": t.name, "c": col.name}
                    )
                    if seq:
                        last, called = conn.execute(
                            text(f"SELECT last_value, is_called FROM {seq}")
                        ).one()
                        self.sequences[t.name] = (seq, int(last), bool(called))

    def restore(self, conn: Connection, written: Iterable[str]) -> None:
        """Put the written tables back as they were in the baseline."""
        names = set(written)
        if ALL in names:
            names = {t.name for t in self.tables}
        # A table is emptied whole, so the tables whose rows point into it go with it.
        grown = True
        while grown:
            more = {
                t.name
                for t in self.tables
                if any(fk.column.table.name in names for fk in t.foreign_keys)
            }
            grown = not more <= names
            names |= more
        tables = [t for t in self.tables if t.name in names]
        for t in reversed(tables):
            conn.execute(t.delete())
        for t in tables:
            if self.rows[t.name]:
                conn.execute(t.insert(), self.rows[t.name])
            if t.name in self.sequences:
                seq, last, called = self.sequences[t.name]
                conn.execute(text("SELECT setval(:s, :v, :c)"), {"s": seq, "v": last, "c": called})
