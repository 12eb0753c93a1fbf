"""A reviewing department's fee switch (收费设定): read it, switch it (audited)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from engine import policy, roles
from engine.audit import audit_event
from engine.clock import Clock
from engine.designer_files import DesignerFiles
from engine.errors import ForbiddenError, InvalidDataError, NotFoundError
from engine.fees import affected_by_switch
from engine.process_runtime import ProcessRuntime
from engine.views import Actor
from storage import Org, UnitOfWorkFactory


class FeeSettings:
    """Fee switches of the reviewing departments, with the applications a switch affects."""

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

    def _fee_org(self, session: Session, org_id: str, actor: Actor, *, write: bool) -> Org:
        org = session.get(Org, org_id)
        if org is None or org.kind not in roles.REVIEW_ORG_KINDS:
            raise NotFoundError("部门不存在")
        if not policy.may_see_fee(actor, org_id, write=write):
            raise ForbiddenError("只能设置本部门的收费")
        return org

    def get_fee(self, org_id: str, actor: Actor) -> dict[str, Any]:
        """A department's fee switch (default: charge) and the applications in flight whose
        fee would change if it were switched (``affected``)."""
        with self._uow() as uow:
            session = uow.session
            org = self._fee_org(session, org_id, actor, write=False)
            catalogue = self.designer_files.committees(self.runtime.files_version(session))
            affected = affected_by_switch(session, catalogue, org.id, not bool(org.charge))
            return {"org_id": org.id, "charge": bool(org.charge), "affected": affected}

    def set_fee(self, org_id: str, charge: Any, actor: Actor) -> dict[str, Any]:
        """Switch a department's fee on or off (收费 / 不收费)."""
        if not isinstance(charge, bool):
            raise InvalidDataError(
                "charge 必须是 true 或 false", fields={"charge": "应为 true 或 false"}
            )
        with self._uow() as uow:
            session = uow.session
            org = self._fee_org(session, org_id, actor, write=True)
            catalogue = self.designer_files.committees(self.runtime.files_version(session))
            affected = affected_by_switch(session, catalogue, org.id, charge)
            before = org.charge
            org.charge = charge
            session.add(
                audit_event(
                    self.clock(),
                    actor,
                    "fee_setting",
                    org_id=org.id,
                    detail={
                        "before": before,
                        "after": charge,
                        "affected": [a["id"] for a in affected],
                    },
                )
            )
            uow.commit()
            return {"org_id": org.id, "charge": charge, "affected": affected}
