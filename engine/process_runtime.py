"""The process runtime: start, complete, fire, load and save instances in the caller's session.

Every method takes the caller's ``Session``; the runtime never opens, commits or rolls back a
transaction. Services (tasks, operations, timers, applications ...) own their unit of work
and call the runtime inside it, so a verb is load -> act -> run forward -> save -> one commit.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from SpiffWorkflow.exceptions import TaskNotFoundException, WorkflowException
from sqlalchemy import update
from sqlalchemy.orm import Session

from engine import eligibility, runtime
from engine.audit import audit_event
from engine.clock import Clock, as_utc, system_clock
from engine.completion import complete_task
from engine.designer_files import DesignerFiles
from engine.errors import NotFoundError
from engine.form_resolver import SHARED_FILES_PROCESS
from engine.functions import ProcessFunctions
from engine.persist import DeployedSpec, Loaded, Saved, Saver, instance_status, task_row_values
from engine.sandbox import SandboxLimits
from engine.scripts import DEFAULT_LIMITS, script_engine
from engine.validators import EligibilityGate, default_validators
from engine.versions import current_version_id
from engine.views import Actor, CompleteResult, iso
from storage import AuditEvent, HumanTask, ProcessInstance, ProcessVersion, Timer

# (session, data, form schema, task properties, the version's designer files by name)
FormValidator = Callable[
    [Session, Mapping[str, Any], Mapping[str, Any], Mapping[str, str], Mapping[str, Any]], None
]

# Parsed versions by (id, process, number, sha256 of the diagram and its forms).
ParsedSpecs = dict[tuple[int, str, int, str], DeployedSpec]

AUDITED_FIELDS = ("decision", "note", "copies", "paid", "receipt_no", "marks")


def _audited(key: str) -> bool:
    """Form fields worth keeping in the audit trail beside the opinion."""
    return (
        key in AUDITED_FIELDS
        or key in eligibility.REVIEW_CHECKS
        or key.endswith("_reason")
        or key.startswith("publicity_")
    )


class ProcessRuntime:
    """Runs deployed BPMN processes inside a session the caller owns."""

    def __init__(
        self,
        files: DesignerFiles,
        *,
        clock: Clock = system_clock,
        validators: Mapping[str, FormValidator] | None = None,
        sandbox_limits: SandboxLimits = DEFAULT_LIMITS,
        parsed: ParsedSpecs | None = None,
    ) -> None:
        """``parsed``: versions parsed by runtimes before this one on the same database, shared
        (the test suite makes a runtime per test); by default this runtime's own."""
        self.files = files
        self.clock = clock
        self.sandbox_limits = sandbox_limits
        self.validators: dict[str, FormValidator] = dict(
            default_validators() if validators is None else validators
        )
        self.validators.setdefault("eligibility", EligibilityGate(clock))
        self._versions: dict[int, DeployedSpec] = {}
        self._parsed: ParsedSpecs = {} if parsed is None else parsed
        # Per version: the first user task a replay from the start reaches (see compact).
        self._entry_tasks: dict[int, str] = {}
        self._serializer = runtime.make_serializer(self._spec_for_key)

    # ----- versions -------------------------------------------------------------------
    def _spec_for_key(self, key: str) -> runtime.LoadedSpec:
        return self._versions[int(key)].loaded

    @property
    def registry(self) -> Any:
        """The serializer's registry (for Spiff's workflow diff when migrating)."""
        return self._serializer.registry

    def deployed_spec(self, session: Session, version_id: int) -> DeployedSpec:
        """A deployed version's spec and forms, parsed once per version and cached."""
        cached = self._versions.get(version_id)
        if cached is not None:
            return cached
        row = session.get(ProcessVersion, version_id)
        if row is None:
            raise NotFoundError(f"unknown process version {version_id}")
        key = (row.id, row.process_id, row.number, row.sha256)
        cached = self._parsed.get(key)
        if cached is None:
            root = runtime.parse_xml(row.bpmn_xml.encode("utf-8"))
            loaded = runtime.load_spec(row.process_id, root, f"{row.process_id}.bpmn")
            forms_parsed = {k: json.loads(v) for k, v in (row.files or {}).items()}
            cached = DeployedSpec(row.id, row.process_id, row.number, loaded, forms_parsed)
            self._parsed[key] = cached
        self._versions[version_id] = cached
        return cached

    # ----- loading and running --------------------------------------------------------
    def files_version(
        self, session: Session, instance_id: int | None = None
    ) -> DeployedSpec | None:
        """The version whose designer files apply: an instance's own; outside any instance,
        the current version of the process applications file into (None: nothing deployed)."""
        inst = session.get(ProcessInstance, instance_id) if instance_id else None
        if inst is not None:
            return self.deployed_spec(session, inst.process_version_id)
        try:
            version_id = current_version_id(session, SHARED_FILES_PROCESS)
        except NotFoundError:
            return None
        return self.deployed_spec(session, version_id)

    def script_engine(self, session: Session, instance_id: int | None) -> Any:
        """A script engine whose registered functions work in ``session``."""
        version = self.files_version(session, instance_id)
        catalogue = self.files.committees(version)
        rules = self.files.eligibility_rules(version)
        functions = ProcessFunctions(session, self.clock, instance_id, catalogue, rules)
        return script_engine(functions.table(), self.sandbox_limits)

    def load(
        self, session: Session, inst: ProcessInstance, *, scripts: bool = True
    ) -> runtime.ZWorkflow:
        """An instance's workflow (its version loaded first); ``scripts=False`` to only read."""
        self.deployed_spec(session, inst.process_version_id)
        engine = self.script_engine(session, inst.id) if scripts else None
        return runtime.load(self._serializer, inst.state, engine)

    def instance_data(self, session: Session, instance_id: int | None) -> dict[str, Any]:
        """An instance's most recent task data ({} when there is no such instance)."""
        inst = session.get(ProcessInstance, instance_id) if instance_id else None
        if inst is None:
            return {}
        return dict(runtime.latest_data(self.load(session, inst, scripts=False)))

    @staticmethod
    def advance(wf: runtime.ZWorkflow) -> None:
        """Run engine steps; a failing step is recorded on its task (the instance errors)."""
        try:
            runtime.advance(wf)
        except WorkflowException as exc:
            runtime.record_error(exc)

    def save(
        self,
        session: Session,
        inst: ProcessInstance,
        wf: runtime.ZWorkflow,
        deployed: DeployedSpec,
        *,
        read_revision: int,
        audit: list[AuditEvent],
        base_status: str | None = None,
        loaded: Loaded | None = None,
    ) -> Saved:
        """Write state, index, timers, projection and audit; the caller commits.

        ``base_status`` overrides the stored status an operator action starts from
        (suspend, resume, terminate); the ORM row itself is never modified. ``loaded``: what
        the verb read already (the index rows, pending timers and application status as the
        instance was loaded), so only what changed is written and nothing is read again.
        """
        saver = Saver(session, self.clock())
        now = runtime.snapshot(wf)
        entry = self._entry_tasks.get(deployed.id)
        compacted, entry = runtime.compact(wf, now, deployed.loaded, entry)
        if entry is not None:
            self._entry_tasks[deployed.id] = entry
        if compacted is not None:
            wf, now = compacted, runtime.snapshot(compacted)
        status, problem, error_task = instance_status(wf, now, base_status or inst.status)
        state = runtime.dump(self._serializer, wf)
        saver.write_instance(inst, state, status, problem, error_task, read_revision, deployed.id)
        live, app_id, engine = status != "terminated", inst.application_id, wf.script_engine
        ready = (
            [task_row_values(t, deployed, inst.id, app_id, engine) for t in now.ready]
            if live
            else []
        )
        waiting = now.timers if live else []
        same_version = inst.process_version_id == deployed.id
        if loaded is not None and same_version:
            saver.move_tasks(loaded.waits.ready, ready, loaded.transferred)
            if deployed.loaded.has_timers:
                saver.move_timers(inst.id, loaded.waits.timers, waiting)
        else:
            saver.sync_tasks(inst.id, ready)
            if deployed.loaded.has_timers or not same_version:
                saver.sync_timers(inst.id, waiting)
        before = after = None
        if app_id is not None and loaded is not None and loaded.application_status is not None:
            before = loaded.application_status
            after = saver.update_application(app_id, before, wf, deployed, status, now)
        elif app_id is not None:
            before, after = saver.project_application(app_id, wf, deployed, status, now)
        for event in audit:
            event.before_status = event.before_status or before
            event.after_status = after or status
            session.add(event)
        return Saved(status, problem, ready, saver.now)

    def event(
        self,
        actor: Actor | None,
        inst: ProcessInstance,
        action: str,
        task: HumanTask | None = None,
        data: Mapping[str, Any] | None = None,
        reason: str | None = None,
    ) -> AuditEvent:
        """An audit event on an instance (and its application), by ``actor`` or the system."""
        data = data or {}
        return audit_event(
            self.clock(),
            actor,
            action,
            instance_id=inst.id,
            application_id=inst.application_id,
            task_id=task.id if task else None,
            task_name=task.name if task else None,
            opinion=data.get("opinion"),
            reason=reason,
            detail={k: v for k, v in data.items() if _audited(k)} or None,
        )

    # ----- start ----------------------------------------------------------------------
    def start(
        self,
        session: Session,
        process_id: str,
        *,
        actor: Actor | None,
        data: Mapping[str, Any],
        application_id: int | None = None,
        business_key: str | None = None,
        version_id: int | None = None,
    ) -> int:
        """Start an instance in the caller's session (the caller commits)."""
        deployed = self.deployed_spec(
            session, version_id or current_version_id(session, process_id)
        )
        if deployed.process_id != process_id:
            raise NotFoundError(f"version {version_id} is not a version of {process_id!r}")
        now = self.clock()
        inst = ProcessInstance(
            process_version_id=deployed.id,
            process_id=process_id,
            status="running",
            state="{}",
            revision=0,
            business_key=business_key,
            application_id=application_id,
            started_by=actor.id if actor else None,
            created_at=now,
            updated_at=now,
        )
        session.add(inst)
        # The instance row is written after the scripts ran, so no lock is held meanwhile.
        functions = ProcessFunctions(
            session,
            self.clock,
            None,
            self.files.committees(deployed),
            self.files.eligibility_rules(deployed),
        )
        engine = script_engine(functions.table(), self.sandbox_limits)
        wf = runtime.new_workflow(deployed.loaded, str(deployed.id), dict(data), engine)
        self.advance(wf)
        session.flush()
        functions.bind_instance(inst.id)
        audit = [self.event(actor, inst, "start")]
        self.save(session, inst, wf, deployed, read_revision=0, audit=audit)
        return inst.id

    # ----- complete -------------------------------------------------------------------
    def complete(
        self, session: Session, task_id: str, data: Mapping[str, Any], actor: Actor
    ) -> CompleteResult:
        """Validate and complete one ready user task, run forward, save (the caller commits);
        see engine/completion.py."""
        return complete_task(self, session, task_id, data, actor)

    # ----- fire -----------------------------------------------------------------------
    def fire(
        self,
        session: Session,
        inst: ProcessInstance,
        timer: Any,
        actor: Actor | None,
        reason: str | None,
        *,
        forced: bool,
        application_status: str | None = None,
    ) -> str:
        """Fire a claimed timer's task and save: "fired", or "cancelled" when nothing waits.

        ``timer`` is the claimed row's (id, instance_id, task_id, name, due_at);
        ``application_status``, when the caller read it, spares the save reading the
        application (None: read it there).
        """
        read_revision = inst.revision
        deployed = self.deployed_spec(session, inst.process_version_id)
        wf = self.load(session, inst)
        waits = runtime.waits_of(wf)
        try:
            fired = runtime.fire_timer(wf, timer.task_id)
        except TaskNotFoundException:
            fired = False
        except WorkflowException as exc:
            runtime.record_error(exc)  # saved below: the instance shows `error` to operators
            fired = True
        else:
            if fired:
                self.advance(wf)
        if not fired:
            session.execute(update(Timer).where(Timer.id == timer.id).values(status="cancelled"))
            return "cancelled"
        event = self.event(actor, inst, "timer_fired", reason=reason)
        event.task_id, event.task_name = timer.task_id, timer.name
        event.detail = {"timer_id": str(timer.id), "due_at": iso(as_utc(timer.due_at))}
        if forced:
            event.detail["forced"] = True
        # The index and the pending timers mirror the instance as loaded, except the claimed
        # timer's own row, which is no longer pending: a cycle timer that waits again gets a
        # new row, as from a read of the pending rows.
        pending = runtime.Waits(waits.ready, waits.timers - {timer.task_id})
        loaded = Loaded(pending, application_status, transferred=True)
        self.save(
            session, inst, wf, deployed, read_revision=read_revision, audit=[event], loaded=loaded
        )
        return "fired"
