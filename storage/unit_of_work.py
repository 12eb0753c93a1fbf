"""One unit of work = one transaction = one commit, opened by an engine verb."""

from __future__ import annotations

from types import TracebackType
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from storage.db import db


class SqlUnitOfWork:
    """Wraps the request's session; rolls back unless commit() was called."""

    def __init__(self) -> None:
        self.session: Session = db.session
        self._committed = False

    def __enter__(self) -> SqlUnitOfWork:
        self._committed = False
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if not self._committed:
            self.session.rollback()

    def commit(self) -> None:
        """Flush and commit everything written in this unit of work."""
        self.session.commit()
        self._committed = True

    def rollback(self) -> None:
        """Discard everything written so far."""
        self.session.rollback()


def configure_engine_events(engine: Engine) -> None:
    """Set SQLite to WAL with a busy timeout and enforced foreign keys."""
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA busy_timeout=5000")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()
