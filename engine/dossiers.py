"""An applicant's performance dossier (业绩档案): read, edit, send to the unit for review."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import forms, policy
from engine.clock import Clock
from engine.designer_files import DesignerFiles
from engine.errors import ConflictError, ForbiddenError
from engine.files import check_file_refs
from engine.process_runtime import ProcessRuntime
from engine.views import Actor
from storage import Dossier, Org, UnitOfWorkFactory, User, lock_row


class Dossiers:
    """The dossier verbs (one transaction each); submitting starts dossier_review."""

    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        runtime: ProcessRuntime,
        designer_files: DesignerFiles,
        *,
        clock: Clock,
    ) -> None:
        self._uow = uow_factory
        self.runtime = runtime
        self.designer_files = designer_files
        self.clock = clock

    def dossier_schema(self, session: Session) -> dict[str, Any]:
        """The dossier's JSON Schema as the current version carries it (designers' file
        bpmn/forms/dossier.schema.json, deployed with the processes)."""
        return self.designer_files.dossier_form(self.runtime.files_version(session))

    def _dossier(self, session: Session, actor: Actor) -> Dossier:
        if not policy.may_file(actor):
            raise ForbiddenError("只有申报人有业绩档案")
        row = session.scalars(select(Dossier).where(Dossier.user_id == actor.id)).first()
        if row is None:
            row = Dossier(user_id=actor.id, status="draft", data={}, updated_at=self.clock())
            session.add(row)
            session.flush()
        return row

    def get_dossier(self, actor: Actor) -> dict[str, Any]:
        """The caller's dossier with its status and form."""
        with self._uow() as uow:
            row = self._dossier(uow.session, actor)
            out = {
                "status": row.status,
                "data": row.data or {},
                "form": self.dossier_schema(uow.session),
                "updated_at": row.updated_at.isoformat() if row.updated_at else None,
                "can_edit": row.status != "submitted",
                "can_submit": row.status in ("draft", "returned"),
            }
            uow.commit()
            return out

    def put_dossier(self, data: Any, actor: Actor) -> dict[str, Any]:
        """Replace the dossier's data; an approved dossier needs review again."""
        with self._uow() as uow:
            schema = self.dossier_schema(uow.session)
            forms.check(schema, data)
            row = self._dossier(uow.session, actor)
            if row.status == "submitted":
                raise ConflictError("业绩档案审核中，暂不能修改", code="dossier_under_review")
            check_file_refs(uow.session, schema, data, actor)
            row.data = dict(data)
            row.status = "draft"
            row.updated_at = self.clock()
            uow.commit()
            return {"status": row.status, "data": row.data}

    def submit_dossier(self, actor: Actor) -> dict[str, Any]:
        """Send the dossier to the unit for review (starts dossier_review)."""
        with self._uow() as uow:
            session = uow.session
            schema = self.dossier_schema(session)
            if policy.may_file(actor):
                # Submitted twice at once (a double click): the second waits here for the
                # first to commit, then finds the dossier under review.
                lock_row(session, User, actor.id)
            row = self._dossier(session, actor)
            if row.status == "submitted":
                raise ConflictError("业绩档案已在审核中", code="dossier_under_review")
            if row.status == "approved":
                raise ConflictError("业绩档案已审核通过", code="dossier_approved")
            forms.check(schema, row.data or {})
            unit = session.get(Org, actor.org_id)
            if unit is None or unit.status != "active":
                raise ConflictError("所在单位尚未激活，暂不能提交", code="unit_not_active")
            user = session.get_one(User, actor.id)
            inst_id = self.runtime.start(
                session,
                "dossier_review",
                actor=actor,
                business_key=f"dossier-{row.id}",
                data={
                    "applicant_user_id": actor.id,
                    "applicant_name": user.name,
                    "unit_org_id": unit.id,
                    "dossier_id": row.id,
                    "dossier": row.data,
                },
            )
            row.status = "submitted"
            row.instance_id = inst_id
            row.updated_at = self.clock()
            uow.commit()
            return {"status": "submitted", "instance_id": str(inst_id)}
