"""Which version of a process new instances start on (table ``process_current``)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.errors import NotFoundError
from storage import ProcessCurrent, ProcessVersion


def latest_version_id(session: Session, process_id: str) -> int | None:
    """The newest deployed version of a process (None when it was never deployed)."""
    return session.scalars(
        select(ProcessVersion.id)
        .where(ProcessVersion.process_id == process_id)
        .order_by(ProcessVersion.number.desc())
        .limit(1)
    ).first()


def current_version_id(session: Session, process_id: str) -> int:
    """The version new instances of a process start on."""
    row = session.get(ProcessCurrent, process_id)
    if row is not None:
        return row.process_version_id
    # Only a database whose marker rows were removed by hand lacks one: newest wins.
    latest = latest_version_id(session, process_id)
    if latest is None:
        raise NotFoundError(f"process {process_id!r} is not deployed")
    return latest


def current_for_update(session: Session, process_id: str) -> ProcessCurrent | None:
    """The marker row, locked: two promotes (or a promote and a deploy) of one process queue
    up, so each audits the version it really moved from."""
    return session.scalars(
        select(ProcessCurrent).where(ProcessCurrent.process_id == process_id).with_for_update()
    ).first()


def make_current(
    session: Session, process_id: str, version_id: int, by: str, now: datetime
) -> None:
    """Point new instances of ``process_id`` at ``version_id``."""
    row = current_for_update(session, process_id)
    if row is None:
        session.add(
            ProcessCurrent(
                process_id=process_id, process_version_id=version_id, since=now, set_by=by
            )
        )
    else:
        row.process_version_id, row.since, row.set_by = version_id, now, by
