"""撤回: the applicant withdraws an application, or the unit withdraws its recommendation.

Who may withdraw, and when, is the diagram's: message events carry the property
``withdrawBy`` (``applicant`` or ``unit``) and optionally ``withdrawWhen`` (an expression over
the instance's data). Withdrawing delivers the message to the one event waiting for it; the
diagram decides what follows (the applicant's withdrawal ends with outcome ``withdrawn``, the
unit's goes back to the unit's review). No such event waiting: 409, saying why.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition
from SpiffWorkflow.bpmn.util.event import BpmnEvent
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState

from engine import runtime, statuses
from engine.applications import visible_application
from engine.errors import ConflictError, ForbiddenError, InvalidDataError
from engine.persist import _eval_status
from engine.policy import withdraw_side
from engine.process_runtime import ProcessRuntime
from engine.views import Actor
from storage import ProcessInstance, UnitOfWorkFactory

REASON_MAX = 2000
SIDES = {"applicant": "申报人", "unit": "用人单位"}


def _reason(body: Mapping[str, Any]) -> str:
    reason = body.get("reason")
    if not isinstance(reason, str) or not reason.strip():
        raise InvalidDataError("请填写撤回原因", fields={"reason": "必填"})
    if len(reason.strip()) > REASON_MAX:
        raise InvalidDataError("撤回原因过长", fields={"reason": f"不能超过 {REASON_MAX} 个字符"})
    return reason.strip()


def _too_late(side: str, status: str) -> str:
    """Why this side can no longer withdraw an application in this status (Chinese)."""
    if not statuses.is_open(status):
        return "申报已结束，不能撤回"
    if side == "applicant":
        if status in ("publicity", "in_review"):
            return (
                "用人单位已完成审查，申报人不能再撤回；如需撤回，请联系用人单位在第一级主管部门"
                "作出审查结论前撤回推荐"
            )
        return "申报已通过各级审查，不能撤回"
    if status in ("draft", "returned", "unit_review"):
        return (
            "申报尚未经用人单位审查通过，没有可撤回的推荐；单位可在审查中退回或不通过 "
            "(nothing recommended yet)"
        )
    return "第一级主管部门已作出审查结论，用人单位不能再撤回推荐"


def _catcher(wf: runtime.ZWorkflow, side: str) -> Task | None:
    """The waiting message event of the diagram that this side's withdrawal would trigger."""
    for task in wf.get_tasks(state=TaskState.WAITING):
        spec = task.task_spec
        props = (getattr(spec, "extensions", None) or {}).get("properties") or {}
        if props.get("withdrawBy") != side:
            continue
        if not isinstance(getattr(spec, "event_definition", None), MessageEventDefinition):
            continue
        when = props.get("withdrawWhen")
        if when and _eval_status(when, dict(task.data), wf.script_engine) is None:
            continue
        return task
    return None


class Withdrawals:
    """POST /applications/<id>/withdraw."""

    def __init__(self, uow_factory: UnitOfWorkFactory, runtime: ProcessRuntime) -> None:
        self._uow = uow_factory
        self.runtime = runtime

    def available(self, application_id: int | str, actor: Actor) -> str | None:
        """Whether the actor could withdraw now, and as whom (for pages to offer the button)."""
        with self._uow() as uow:
            session = uow.session
            try:
                app = visible_application(session, application_id, actor)
            except ForbiddenError:  # read through a copy (抄送): nothing to withdraw
                return None
            side = withdraw_side(actor, app.applicant_id, app.unit_org_id)
            inst = session.get(ProcessInstance, app.instance_id) if app.instance_id else None
            if side is None or inst is None or not statuses.is_open(app.status):
                return None
            if inst.status in ("suspended", "error"):
                return None
            wf = self.runtime.load(session, inst)
            return side if _catcher(wf, side) is not None else None

    def withdraw(
        self, application_id: int | str, body: Mapping[str, Any], actor: Actor
    ) -> dict[str, Any]:
        """Withdraw as the applicant or the unit; audited with the reason."""
        with self._uow() as uow:
            session = uow.session
            app = visible_application(session, application_id, actor)
            side = withdraw_side(actor, app.applicant_id, app.unit_org_id)
            if side is None:
                raise ForbiddenError("只有申报人本人或其用人单位可以撤回")
            reason = _reason(body)
            inst = session.get(ProcessInstance, app.instance_id) if app.instance_id else None
            if inst is None or not statuses.is_open(app.status):
                raise ConflictError(_too_late(side, app.status), code="withdraw_too_late")
            if inst.status in ("suspended", "error"):
                raise ConflictError(
                    "流程实例已挂起、出错或已结束，暂不能撤回，请联系平台运维",
                    code="instance_" + inst.status,
                )
            read_revision = inst.revision
            deployed = self.runtime.deployed_spec(session, inst.process_version_id)
            wf = self.runtime.load(session, inst)
            catcher = _catcher(wf, side)
            if catcher is None:
                raise ConflictError(_too_late(side, app.status), code="withdraw_too_late")
            at = catcher.task_spec.bpmn_id
            wf.catch(BpmnEvent(catcher.task_spec.event_definition, {}))
            self.runtime.advance(wf)
            event = self.runtime.event(actor, inst, "withdraw", reason=reason)
            event.detail = {"by": side, "at": at}
            self.runtime.save(
                session, inst, wf, deployed, read_revision=read_revision, audit=[event]
            )
            uow.commit()
            return {"application_id": str(app.id), "status": app.status, "withdrawn_by": side}
