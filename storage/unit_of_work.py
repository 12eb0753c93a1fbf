"""One unit of work = one session = one transaction = one commit, opened by a service verb.

Sessions come from a plain SQLAlchemy ``sessionmaker`` (``session_factory``); nothing here
needs a Flask app or its context.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import TracebackType
from typing import Any, cast

from sqlalchemy import CursorResult, Executable, Row, create_engine, event, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker


class SqlUnitOfWork:
    """A fresh session per ``with`` block; rolls back unless commit() was called, then closes.

    Rows are detached when the block ends; what was loaded or written stays readable
    (``expire_on_commit=False``), so a verb may answer from its rows after committing. Values
    changed behind the ORM's back (bulk UPDATEs) are not refreshed: read those before.
    """

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions
        self._committed = False
        self.session: Session = None  # type: ignore[assignment]  # opened by __enter__

    def __enter__(self) -> SqlUnitOfWork:
        self.session = self._sessions()
        self._committed = False
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            if not self._committed:
                self.session.rollback()
        finally:
            self.session.close()

    def commit(self) -> None:
        """Flush and commit everything written in this unit of work."""
        self.session.commit()
        self._committed = True

    def rollback(self) -> None:
        """Discard everything written so far."""
        self.session.rollback()


UnitOfWorkFactory = Callable[[], SqlUnitOfWork]


def rows_changed(
    session: Session, statement: Executable, params: Mapping[str, Any] | None = None
) -> int:
    """Run an UPDATE or DELETE in ``session`` (with ``params`` for its bind parameters);
    how many rows it changed."""
    return cast(CursorResult[Any], session.execute(statement, params)).rowcount


def lock_row(session: Session, model: Any, key: Any) -> None:
    """Hold a row of ``model`` (by primary key ``id``) until the transaction ends: a row lock on
    PostgreSQL, the database's write lock on SQLite. It is a write that changes nothing, so on
    SQLite too what the transaction reads after it is the latest, and a second transaction
    doing the same waits here for the first to end."""
    session.execute(
        update(model)
        .where(model.id == key)
        .values(id=model.id)
        .execution_options(synchronize_session=False)
    )


def read_first(
    session: Session, statement: Executable, params: Mapping[str, Any] | None = None
) -> Row[Any] | None:
    """The first row of a lone read that needs no transaction (a token lookup): on
    PostgreSQL it runs in autocommit, so no BEGIN and no ROLLBACK travel to the server; SQLite
    opens no transaction for a read anyway. Call it first in a fresh unit of work."""
    if session.get_bind().dialect.name == "postgresql":
        conn = session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
        return conn.execute(statement, params).first()
    return session.execute(statement, params).first()


def session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions on ``engine`` as every unit of work uses them.

    No autoflush: pending changes reach the database only at the verb's explicit flush or
    commit, so the instance's compare-and-swap UPDATE is the first write of a verb and a
    concurrent verb waits on it (or loses) instead of on some earlier incidental write.
    """
    return sessionmaker(bind=engine, autoflush=False, expire_on_commit=False)


def unit_of_work_factory(sessions: sessionmaker[Session]) -> UnitOfWorkFactory:
    """What services take in their constructor: each call opens a new unit of work."""

    def make() -> SqlUnitOfWork:
        return SqlUnitOfWork(sessions)

    return make


def open_database(url: str, **options: Any) -> Engine:
    """A SQLAlchemy engine for ``url`` with the SQLite settings applied (no Flask needed)."""
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    engine = create_engine(url, **options)
    configure_engine_events(engine)
    return engine


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
