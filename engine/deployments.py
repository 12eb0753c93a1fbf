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
from typing import Any

from SpiffWorkflow.util.task import TaskState
from sqlalchemy import func, select

from engine.audit import audit_event, require_reason
from engine.clock import Clock, system_clock
from engine.designer_files import DesignerFiles
from engine.diagram import marks_for, render_svg
from engine.errors import DeployError, ForbiddenError, NotFoundError
from engine.functions import REGISTERED
from engine.policy import may_deploy
from engine.process_runtime import ProcessRuntime
from engine.specs import SpecValidator
from engine.versions import current_for_update, current_version_id, latest_version_id, make_current
from engine.views import Actor, iso
from storage import AuditEvent, ProcessInstance, ProcessVersion, UnitOfWorkFactory

PROCESS_ID = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]{0,63}")
MAX_VERSION = 2**31 - 1  # the column is a 32-bit integer on PostgreSQL


def designers_only(actor: Actor) -> None:
    """ForbiddenError unless the actor may manage process definitions."""
    if not may_deploy(actor):
        raise ForbiddenError("只有流程设计人员和平台管理员可以管理流程定义")


def _version_dict(row: ProcessVersion, *, created: bool, current: bool) -> dict[str, Any]:
    return {
        "process_id": row.process_id,
        "version": row.number,
        "sha256": row.sha256,
        "deployed_at": iso(row.deployed_at),
        "created": created,
        "current": current,
    }


class Deployments:
    """Validate, deploy and promote process versions; draw a version's or instance's diagram."""

    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        runtime: ProcessRuntime,
        files: DesignerFiles,
        *,
        clock: Clock = system_clock,
    ) -> None:
        self._uow = uow_factory
        self.runtime = runtime
        self.files = files
        self.clock = clock
        self.spec_validator = SpecValidator(REGISTERED, runtime.validators)

    def list_versions(self) -> list[dict[str, Any]]:
        """Every deployed process version, newest first per process, the current marked."""
        with self._uow() as uow:
            session = uow.session
            rows = session.scalars(
                select(ProcessVersion).order_by(
                    ProcessVersion.process_id, ProcessVersion.number.desc()
                )
            ).all()
            current = {current_version_id(session, pid) for pid in {r.process_id for r in rows}}
            return [_version_dict(r, created=False, current=r.id in current) for r in rows]

    # ----- validate and deploy ----------------------------------------------------------
    def validate(self, files: Mapping[str, bytes]) -> list[dict[str, Any]]:
        """Problems of a set of process files (empty when they would deploy)."""
        report = self.spec_validator.validate(files, self.files.fallback_forms())
        return [p.as_dict() for p in report.problems]

    def deploy(self, files: Mapping[str, bytes], *, actor: str) -> list[dict[str, Any]]:
        """Store each valid process as a new, current version; identical content is a no-op."""
        report = self.spec_validator.validate(files, self.files.fallback_forms())
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
                    current = current_version_id(session, cand.process_id) == existing.id
                    out.append(_version_dict(existing, created=False, current=current))
                    continue
                latest = session.scalar(
                    select(func.max(ProcessVersion.number)).where(
                        ProcessVersion.process_id == cand.process_id
                    )
                )
                now = self.clock()
                row = ProcessVersion(
                    process_id=cand.process_id,
                    number=(latest or 0) + 1,
                    sha256=cand.sha256,
                    bpmn_xml=cand.bpmn_xml,
                    files=cand.forms,
                    deployed_at=now,
                    deployed_by=actor,
                )
                session.add(row)
                session.flush()
                make_current(session, row.process_id, row.id, actor, now)
                session.add(
                    AuditEvent(
                        at=now,
                        actor_name=actor,
                        action="deploy",
                        detail={
                            "process_id": row.process_id,
                            "version": row.number,
                            "sha256": row.sha256,
                        },
                    )
                )
                out.append(_version_dict(row, created=True, current=True))
            uow.commit()
        return out

    def deploy_directory(self, *, actor: str = "system") -> list[dict[str, Any]]:
        """Deploy every .bpmn under the bpmn directory (no-op when unchanged)."""
        files = {p.name: p.read_bytes() for p in sorted(self.files.bpmn_dir.glob("*.bpmn"))}
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
                        ProcessVersion.process_id == process_id, ProcessVersion.number == version
                    )
                ).first()
            if target is None:
                raise NotFoundError(f"{process_id} 没有第 {version} 版")
            locked = current_for_update(session, process_id)
            before_id = (
                locked.process_version_id
                if locked is not None
                else latest_version_id(session, process_id)
            )
            before = session.get(ProcessVersion, before_id) if before_id else None
            changed = before_id != target.id
            if changed:
                now = self.clock()
                make_current(session, process_id, target.id, actor.username, now)
                session.add(
                    audit_event(
                        now,
                        actor,
                        "promote",
                        reason=why,
                        detail={
                            "process_id": process_id,
                            "from_version": before.number if before else None,
                            "to_version": target.number,
                            "sha256": target.sha256,
                        },
                    )
                )
            uow.commit()
        return {
            "process_id": process_id,
            "version": version,
            "current": True,
            "previous_version": before.number if before else None,
            "changed": changed,
        }

    # ----- diagrams ---------------------------------------------------------------------
    def version_source(self, process_id: str, version: int) -> dict[str, Any]:
        """One deployed version as it was deployed: ``files`` holds its ``<process_id>.bpmn``
        and the form files it uses, so deploying them again (after an edit) needs nothing else.
        """
        with self._uow() as uow:
            row = uow.session.scalars(
                select(ProcessVersion).where(
                    ProcessVersion.process_id == process_id, ProcessVersion.number == version
                )
            ).first()
            if row is None:
                raise NotFoundError("没有这个流程版本")
            forms = dict(sorted((row.files or {}).items()))
            return {
                "process_id": row.process_id,
                "version": row.number,
                "sha256": row.sha256,
                "files": {f"{row.process_id}.bpmn": row.bpmn_xml, **forms},
            }

    def version_diagram(self, process_id: str, version: int) -> str:
        """The SVG of one deployed version."""
        source = self.version_source(process_id, version)
        return render_svg(source["files"][f"{process_id}.bpmn"])

    def instance_diagram(self, instance_id: int) -> str:
        """The SVG of an instance's version with its completed, ready and errored tasks."""
        with self._uow() as uow:
            inst = uow.session.get(ProcessInstance, instance_id)
            if inst is None:
                raise NotFoundError("流程实例不存在")
            wf = self.runtime.load(uow.session, inst, scripts=False)
            states = [
                (t.task_spec.bpmn_id, TaskState.get_name(t.state))
                for t in wf.get_tasks()
                if t.task_spec.bpmn_id
            ]
            for sub in wf.subprocesses.values():
                states += [
                    (t.task_spec.bpmn_id, TaskState.get_name(t.state))
                    for t in sub.get_tasks()
                    if t.task_spec.bpmn_id
                ]
            xml = uow.session.get_one(ProcessVersion, inst.process_version_id).bpmn_xml
            return render_svg(xml, marks_for(states))
