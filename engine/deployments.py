"""Process versions: validate, deploy, promote, and which version new instances start on.

Every process has one current version (table ``process_current``). A deploy of new content
adds a version and makes it current. Content identical to a stored version deploys nothing:
when that version is not current it stays so (the answer says ``"current": false``), since
redeploying the files on disk at every start must never undo a designer's rollback; making
an older version current again is ``promote``, with a reason, audited.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.audit import audit_event, require_reason
from engine.errors import DeployError, ForbiddenError, NotFoundError
from engine.policy import may_deploy
from engine.views import Actor, iso
from storage import AuditEvent, ProcessCurrent, ProcessVersion

PROCESS_ID = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]{0,63}")
MAX_VERSION = 2**31 - 1  # the column is a 32-bit integer on PostgreSQL


def designers_only(actor: Actor) -> None:
    """ForbiddenError unless the actor may manage process definitions."""
    if not may_deploy(actor):
        raise ForbiddenError("只有流程设计人员和平台管理员可以管理流程定义")


def _version_dict(row: ProcessVersion, *, created: bool, current: bool) -> dict[str, Any]:
    return {
        "process_id": row.process_id,
        "version": row.version,
        "sha256": row.sha256,
        "deployed_at": iso(row.deployed_at),
        "created": created,
        "current": current,
    }


class DeploymentVerbs:
    """Mixed into WorkflowEngine; uses its _uow, clock, bpmn_dir and spec_validator."""

    # ----- the current version ----------------------------------------------------------
    @staticmethod
    def _latest_version_id(session: Session, process_id: str) -> int | None:
        return session.scalars(
            select(ProcessVersion.id)
            .where(ProcessVersion.process_id == process_id)
            .order_by(ProcessVersion.version.desc())
            .limit(1)
        ).first()

    def current_version_id(self, session: Session, process_id: str) -> int:
        """The version new instances of a process start on."""
        row = session.get(ProcessCurrent, process_id)
        if row is not None:
            return row.process_version_id
        # Only a database whose marker rows were removed by hand lacks one: newest wins.
        latest = self._latest_version_id(session, process_id)
        if latest is None:
            raise NotFoundError(f"process {process_id!r} is not deployed")
        return latest

    @staticmethod
    def _current_for_update(session: Session, process_id: str) -> ProcessCurrent | None:
        # FOR UPDATE: two promotes (or a promote and a deploy) of one process queue up, so
        # each audits the version it really moved from.
        return session.scalars(
            select(ProcessCurrent).where(ProcessCurrent.process_id == process_id).with_for_update()
        ).first()

    def _make_current(
        self, session: Session, process_id: str, version_id: int, by: str, now: datetime
    ) -> None:
        row = self._current_for_update(session, process_id)
        if row is None:
            session.add(
                ProcessCurrent(
                    process_id=process_id, process_version_id=version_id, since=now, set_by=by
                )
            )
        else:
            row.process_version_id, row.since, row.set_by = version_id, now, by

    def list_versions(self) -> list[dict[str, Any]]:
        """Every deployed process version, newest first per process, the current marked."""
        with self._uow() as uow:
            session = uow.session
            rows = session.scalars(
                select(ProcessVersion).order_by(
                    ProcessVersion.process_id, ProcessVersion.version.desc()
                )
            ).all()
            current = {
                self.current_version_id(session, pid) for pid in {r.process_id for r in rows}
            }
            return [_version_dict(r, created=False, current=r.id in current) for r in rows]

    # ----- validate and deploy ----------------------------------------------------------
    def fallback_forms(self) -> dict[str, str]:
        """Form files of the bpmn directory, used when an upload does not carry them."""
        forms_dir = self.bpmn_dir / "forms"
        if not forms_dir.is_dir():
            return {}
        return {p.name: p.read_text(encoding="utf-8") for p in sorted(forms_dir.glob("*.json"))}

    def validate(self, files: Mapping[str, bytes]) -> list[dict[str, Any]]:
        """Problems of a set of process files (empty when they would deploy)."""
        report = self.spec_validator.validate(files, self.fallback_forms())
        return [p.as_dict() for p in report.problems]

    def deploy(self, files: Mapping[str, bytes], *, actor: str) -> list[dict[str, Any]]:
        """Store each valid process as a new, current version; identical content is a no-op."""
        report = self.spec_validator.validate(files, self.fallback_forms())
        if report.problems:
            raise DeployError([p.as_dict() for p in report.problems])
        out = []
        with self._uow() as uow:
            session = uow.session
            for cand in report.candidates:
                existing = session.scalars(
                    select(ProcessVersion).where(
                        ProcessVersion.process_id == cand.process_id,
                        ProcessVersion.sha256 == cand.sha256,
                    )
                ).first()
                if existing is not None:
                    current = self.current_version_id(session, cand.process_id) == existing.id
                    out.append(_version_dict(existing, created=False, current=current))
                    continue
                latest = session.scalar(
                    select(func.max(ProcessVersion.version)).where(
                        ProcessVersion.process_id == cand.process_id
                    )
                )
                now = self.clock()
                row = ProcessVersion(
                    process_id=cand.process_id,
                    version=(latest or 0) + 1,
                    sha256=cand.sha256,
                    bpmn_xml=cand.bpmn_xml,
                    files=cand.forms,
                    deployed_at=now,
                    deployed_by=actor,
                )
                session.add(row)
                session.flush()
                self._make_current(session, row.process_id, row.id, actor, now)
                session.add(
                    AuditEvent(
                        at=now,
                        actor_name=actor,
                        action="deploy",
                        detail={
                            "process_id": row.process_id,
                            "version": row.version,
                            "sha256": row.sha256,
                        },
                    )
                )
                out.append(_version_dict(row, created=True, current=True))
            uow.commit()
        return out

    def deploy_directory(self, *, actor: str = "system") -> list[dict[str, Any]]:
        """Deploy every .bpmn under the bpmn directory (no-op when unchanged)."""
        files = {p.name: p.read_bytes() for p in sorted(self.bpmn_dir.glob("*.bpmn"))}
        return self.deploy(files, actor=actor) if files else []

    # ----- promote ----------------------------------------------------------------------
    def promote(self, process_id: str, version: int, *, actor: Actor, reason: Any) -> dict:
        """Make a stored version the one new instances start on (roll back a deploy)."""
        designers_only(actor)
        why = require_reason(reason)
        with self._uow() as uow:
            session = uow.session
            target = None
            if PROCESS_ID.fullmatch(process_id) and 0 < version <= MAX_VERSION:
                target = session.scalars(
                    select(ProcessVersion).where(
                        ProcessVersion.process_id == process_id, ProcessVersion.version == version
                    )
                ).first()
            if target is None:
                raise NotFoundError(f"{process_id} 没有第 {version} 版")
            locked = self._current_for_update(session, process_id)
            before_id = (
                locked.process_version_id
                if locked is not None
                else self._latest_version_id(session, process_id)
            )
            before = session.get(ProcessVersion, before_id) if before_id else None
            changed = before_id != target.id
            if changed:
                now = self.clock()
                self._make_current(session, process_id, target.id, actor.username, now)
                session.add(
                    audit_event(
                        now,
                        actor,
                        "promote",
                        reason=why,
                        detail={
                            "process_id": process_id,
                            "from_version": before.version if before else None,
                            "to_version": target.version,
                            "sha256": target.sha256,
                        },
                    )
                )
            uow.commit()
        return {
            "process_id": process_id,
            "version": version,
            "current": True,
            "previous_version": before.version if before else None,
            "changed": changed,
        }
