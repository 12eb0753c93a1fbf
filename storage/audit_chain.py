"""The hash chain of the audit trail, applied to every AuditEvent an ORM session flushes.

Each event gets the next sequence number ``seq``, the hash of the event before it
(``prev_hash``; 64 zeros for the first) and its own ``hash``: sha256 over the canonical
JSON of all its other columns (keys sorted, no spaces, UTF-8, None values left out so
that a nullable column added later does not change the hashes of older rows).

Appends are serialised through the single row of ``audit_chain_head``: the flush first
UPDATEs it (a row lock on PostgreSQL, the database write lock on SQLite), which makes a
second transaction wait until the first commits, then reads the head it left behind.
Because this hook sits on the Session class, every writer of AuditEvent goes through it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, event, insert, inspect, update
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session, UOWTransaction

from storage.models import AuditChainHead, AuditEvent

GENESIS = "0" * 64
HEAD_ID = 1
UNHASHED = ("id", "hash")


class AuditAppendOnlyError(Exception):
    """Raised when a session tries to change or delete a stored audit event."""


def _plain(value: Any) -> Any:
    """A column value as the same JSON value before storing and after reading it back."""
    if isinstance(value, datetime):
        # SQLite hands timestamps back naive; everything stored is UTC.
        if value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        return value.isoformat(timespec="microseconds") + "Z"
    if isinstance(value, date):
        return value.isoformat()
    return value


def canonical(values: Mapping[str, Any]) -> bytes:
    """The canonical serialisation of a row's hashed columns (all but id and hash)."""
    body = {k: _plain(v) for k, v in values.items() if k not in UNHASHED and v is not None}
    text = json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return text.encode("utf-8", "surrogatepass")


def row_hash(values: Mapping[str, Any]) -> str:
    """sha256 (hex) of the canonical serialisation of a row."""
    return hashlib.sha256(canonical(values)).hexdigest()


def _columns(obj: AuditEvent) -> dict[str, Any]:
    return {c.key: getattr(obj, c.key) for c in AuditEvent.__table__.columns}


_HEAD = cast(Table, AuditChainHead.__table__)
# Built once: every audited write runs both.
_BUMP = (
    update(_HEAD)
    .where(_HEAD.c.id == HEAD_ID)
    .values(seq=_HEAD.c.seq + bindparam("count"))
    .returning(_HEAD.c.seq, _HEAD.c.last_hash)
)
_LAST = update(_HEAD).where(_HEAD.c.id == HEAD_ID).values(last_hash=bindparam("new_last_hash"))


def _reserve(conn: Connection, count: int) -> tuple[int, str]:
    """Lock the chain head, move it on by ``count``; (last seq before, its hash)."""
    row = conn.execute(_BUMP, {"count": count}).first()
    if row is None:  # a fresh database: create the head once, whoever comes first
        # Imported here: sqlalchemy.dialects.postgresql loads every PostgreSQL driver module.
        from sqlalchemy.dialects import postgresql, sqlite

        dialect = {"postgresql": postgresql, "sqlite": sqlite}.get(conn.dialect.name)
        values = {"id": HEAD_ID, "seq": 0, "last_hash": GENESIS}
        if dialect is None:
            conn.execute(insert(_HEAD).values(**values))
        else:
            conn.execute(dialect.insert(_HEAD).values(**values).on_conflict_do_nothing())
        row = conn.execute(_BUMP, {"count": count}).one()
    return row.seq - count, row.last_hash


def chain_new_events(session: Session, new: list[AuditEvent]) -> None:
    """Give each new event its place in the chain (in the order they were added)."""
    new.sort(key=lambda obj: inspect(obj).insert_order or 0)
    conn = session.connection()
    seq, prev = _reserve(conn, len(new))
    for obj in new:
        if isinstance(obj.at, datetime) and obj.at.tzinfo is not None:
            obj.at = obj.at.astimezone(UTC)
        if obj.detail is not None:
            # What the JSON column will give back (string keys, lists for tuples).
            obj.detail = json.loads(json.dumps(obj.detail, ensure_ascii=False))
        seq += 1
        obj.seq, obj.prev_hash = seq, prev
        obj.hash = prev = row_hash(_columns(obj))
    conn.execute(_LAST, {"new_last_hash": prev})


@event.listens_for(Session, "before_flush")
def _before_flush(session: Session, _context: UOWTransaction, _instances: Any) -> None:
    for obj in session.deleted:
        if isinstance(obj, AuditEvent):
            raise AuditAppendOnlyError("audit events are never deleted")
    for obj in session.dirty:
        if isinstance(obj, AuditEvent) and session.is_modified(obj):
            raise AuditAppendOnlyError("audit events are never changed")
    new = [obj for obj in session.new if isinstance(obj, AuditEvent)]
    if new:
        chain_new_events(session, new)
