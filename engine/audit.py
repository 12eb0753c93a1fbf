"""Audit events: who did what, when, with which opinion; appended, never changed.

Rows are hash-chained as they are flushed (storage/audit_chain.py); ``verify_chain`` walks
the chain and names the first link that does not hold.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from engine.errors import InvalidDataError
from engine.views import Actor
from storage import GENESIS, AuditChainHead, AuditEvent, UnitOfWorkFactory, row_hash


def audit_event(now: datetime, actor: Actor | None, action: str, **fields: Any) -> AuditEvent:
    """An event by an actor (or the system when None); ``fields`` are AuditEvent columns."""
    fields.setdefault("org_id", actor.org_id if actor else None)
    return AuditEvent(
        at=now,
        actor_id=actor.id if actor else None,
        actor_name=actor.name if actor else "系统",
        action=action,
        **fields,
    )


def require_reason(reason: Any) -> str:
    """The trimmed reason of an operator or designer action; 422 when missing."""
    if not isinstance(reason, str) or not reason.strip():
        raise InvalidDataError("请填写操作原因", fields={"reason": "必填"})
    return reason.strip()


@dataclass(frozen=True)
class ChainCheck:
    """The outcome of walking the audit chain."""

    count: int
    last_hash: str
    broken_row: int | None = None
    problem: str | None = None

    @property
    def intact(self) -> bool:
        return self.problem is None


def _link_problem(row: Mapping[Any, Any], expected_seq: int, prev: str) -> str | None:
    seq = row["seq"]
    if seq != expected_seq:
        if seq > expected_seq:
            missing = (
                f"seq {expected_seq}"
                if seq == expected_seq + 1
                else f"seq {expected_seq}..{seq - 1}"
            )
            return f"gap: {missing} missing before this row (seq {seq}); rows were deleted"
        return f"seq {seq} repeats or goes back (expected {expected_seq})"
    if row["prev_hash"] != prev:
        return (
            f"prev_hash {str(row['prev_hash'])[:12]}… does not match the hash of the row "
            f"before ({prev[:12]}…): that row was replaced, or this one was altered"
        )
    if row_hash(row) != row["hash"]:
        return "its fields do not match its hash: the row was altered"
    return None


def verify_chain(session: Session, *, batch: int = 1000) -> ChainCheck:
    """Walk every audit event in chain order; stop at the first broken link."""
    table = AuditEvent.__table__
    count, prev = 0, GENESIS
    query = select(table).order_by(table.c.seq).execution_options(yield_per=batch)
    result = session.execute(query)
    try:
        for row in result.mappings():
            problem = _link_problem(row, count + 1, prev)
            if problem:
                return ChainCheck(count, prev, row["id"], problem)
            count, prev = count + 1, row["hash"]
    finally:
        result.close()  # a server-side cursor on PostgreSQL when we stop early
    head = session.get(AuditChainHead, 1)
    if head is None:
        if count:
            return ChainCheck(count, prev, None, "the chain head row is missing")
    elif (head.seq, head.last_hash) != (count, prev):
        return ChainCheck(
            count,
            prev,
            None,
            f"the chain ends at seq {count} but its head records seq {head.seq}: "
            "the last rows were deleted or the head was changed",
        )
    return ChainCheck(count, prev)


class AuditLog:
    """Checks over the whole audit trail, and whether the database answers at all."""

    def __init__(self, uow_factory: UnitOfWorkFactory) -> None:
        self._uow = uow_factory

    def verify_audit(self) -> ChainCheck:
        """Walk the whole audit chain (read-only)."""
        with self._uow() as uow:
            return verify_chain(uow.session)

    def database_ok(self) -> bool:
        """Whether the database answers a trivial query."""
        with self._uow() as uow:
            try:
                uow.session.execute(text("SELECT 1"))
            except SQLAlchemyError:
                return False
            return True
