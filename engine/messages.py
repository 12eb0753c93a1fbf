"""Messages to instances: a verb outside the diagram (a review session opening its ballot, a
tally, an objection) hands a BPMN message to the catch event an instance waits on."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from SpiffWorkflow.bpmn.util.event import BpmnEvent
from sqlalchemy.orm import Session

from engine import runtime
from engine.process_runtime import ProcessRuntime
from storage import AuditEvent, ProcessInstance


def deliver(
    process: ProcessRuntime,
    session: Session,
    inst: ProcessInstance,
    message: str,
    payload: Mapping[str, Any],
    audit: list[AuditEvent],
) -> bool:
    """Deliver a message to the instance's catch event waiting for it, run on, save with these
    audit events (the caller commits); False when no event of the instance waits for it."""
    session.refresh(inst)  # an earlier save in this session wrote the row with Core
    read_revision = inst.revision
    deployed = process.deployed_spec(session, inst.process_version_id)
    wf = process.load(session, inst)
    catcher = runtime.waiting_message(wf, message)
    if catcher is None:
        return False
    wf.catch(BpmnEvent(catcher.task_spec.event_definition, dict(payload)))
    process.advance(wf)
    process.save(session, inst, wf, deployed, read_revision=read_revision, audit=audit)
    return True
