"""The BPMN processes in bpmn/ run end to end under the production runtime, with fake registered
functions.

Diagrams are parsed, started, advanced, stored and restored by engine.runtime and their scripts
run in the production script engine (engine.scripts, the sandbox's worker processes); timers
fire only as the engine fires them (runtime.fire_timer). Every path test runs twice: in memory,
and with the engine's own serialize/deserialize round trip (the instance without its spec)
between every user step. A static part runs the deploy-time validation (engine.specs), checks
what the engine relies on (user-task properties, forms, lanes, script names) and that every
diagram has complete BPMNDI.
"""

from __future__ import annotations

import ast
import itertools
import json
import re
from datetime import UTC, datetime
from pathlib import Path

import jsonschema
import pytest
import time_machine
from lxml import etree
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimeDateEventDefinition
from SpiffWorkflow.exceptions import WorkflowException
from SpiffWorkflow.util.task import TaskState

from engine import roles, runtime, statuses
from engine.functions import REGISTERED as ENGINE_FUNCTIONS
from engine.scripts import SAFE_BUILTIN_NAMES, called_names, compile_checked, script_engine
from engine.specs import SpecValidator
from engine.validators import default_validators

BPMN_DIR = Path(__file__).resolve().parents[2] / "bpmn"
FORMS_DIR = BPMN_DIR / "forms"
PROCESSES = ("dossier_review", "unit_registration", "title_application")

SAFE_BUILTINS = {*SAFE_BUILTIN_NAMES, "True", "False", "None"}
REGISTERED = set(ENGINE_FUNCTIONS)
LANES = roles.lanes()
# A shipped diagram's user tasks set the open statuses API.md documents.
STATUSES = set(statuses.APPLICATION_STATUSES) - statuses.TERMINAL_APPLICATION_STATUSES
CHAIN = ["yz-water", "yz-hrss", "nb-water", "nb-office", "nb-hrss"]
FUTURE = "2099-12-31T23:59:59+08:00"

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
NS = {
    "bpmn": BPMN_NS,
    "bpmndi": "http://www.omg.org/spec/BPMN/20100524/DI",
    "dc": "http://www.omg.org/spec/DD/20100524/DC",
    "di": "http://www.omg.org/spec/DD/20100524/DI",
    "spiffworkflow": "http://spiffworkflow.org/bpmn/schema/1.0/core",
}
FLOW_NODE_TAGS = {
    "startEvent", "endEvent", "intermediateCatchEvent", "intermediateThrowEvent", "boundaryEvent",
    "userTask", "scriptTask", "serviceTask", "manualTask", "task", "sendTask", "receiveTask",
    "businessRuleTask", "callActivity", "subProcess", "exclusiveGateway", "parallelGateway",
    "inclusiveGateway", "eventBasedGateway",
}  # fmt: skip


# --------------------------------------------------------------------------- fixtures / helpers


class Fakes:
    """Fakes of the functions the engine registers for scripts, recording their calls."""

    def __init__(self, chain=None, charges=True, over=True, amount=180):
        self.chain = list(CHAIN if chain is None else chain)
        self.charges = charges
        self.amount = amount
        self.over = over
        self.notices: list[tuple] = []
        self.activated: list[str] = []
        self.rejected: list[str] = []
        self.dossier_status: list[tuple] = []
        self.dossier_reads: list = []
        self.dossier: dict | None = None

    def functions(self):
        def review_chain_for(unit_org_id, committee_id=None):
            assert unit_org_id == "unit-1" and committee_id == "nb-water-mid"
            return list(self.chain)

        def office_of(review_chain):
            return next(o for o in review_chain if o.endswith("-office"))

        def chain_charges(review_chain):
            return self.charges

        def payment_terms(committee_id, level, application_id):
            assert (committee_id, level) == ("nb-water-mid", "中级")
            return {"item": "评审费", "amount": self.amount, "payee": {"name": "评委会办公室"},
                    "remark": f"职称评审费-申报{application_id}"}  # fmt: skip

        def publicity_over(publicity_end):
            return self.over

        def publicity_release_at(publicity_end):
            return FUTURE

        def activate_unit(unit_org_id):
            self.activated.append(unit_org_id)

        def reject_entrustment(unit_org_id):
            self.rejected.append(unit_org_id)

        def set_dossier_status(dossier_id, status):
            self.dossier_status.append((dossier_id, status))

        def current_dossier(applicant_user_id, snapshot=None):
            self.dossier_reads.append(applicant_user_id)
            return dict(self.dossier) if self.dossier is not None else dict(snapshot or {})

        def notify(to, kind, text):
            assert isinstance(to, int | str) and re.fullmatch(r"[a-z_]+", kind) and text
            self.notices.append((to, kind, text))

        def issue_certificate():
            return "NBSL202600001"

        return {
            "review_chain_for": review_chain_for,
            "office_of": office_of,
            "chain_charges": chain_charges,
            "payment_terms": payment_terms,
            "publicity_over": publicity_over,
            "publicity_release_at": publicity_release_at,
            "activate_unit": activate_unit,
            "reject_entrustment": reject_entrustment,
            "set_dossier_status": set_dossier_status,
            "current_dossier": current_dossier,
            "notify": notify,
            "issue_certificate": issue_certificate,
        }

    def kinds(self):
        return [kind for _, kind, _ in self.notices]


def load(process_id: str) -> runtime.LoadedSpec:
    """A process as the engine loads a deployed version (hardened parse, XSD, metadata)."""
    path = BPMN_DIR / f"{process_id}.bpmn"
    return runtime.load_spec(process_id, runtime.parse_xml(path.read_bytes()), path.name)


@pytest.fixture(scope="module")
def specs():
    return {pid: load(pid) for pid in PROCESSES}


def serializer(specs):
    """The engine's serializer: instances stored without their spec, found again by key."""
    return runtime.make_serializer(lambda key: specs[key])


class Run:
    """One process instance; with round_trip it is serialized and reloaded after every step."""

    def __init__(self, specs, process_id, data, fakes, round_trip):
        self.fakes = fakes
        self.engine = script_engine(fakes.functions())
        self.round_trip = round_trip
        self.serializer = serializer(specs)
        self.loaded = specs[process_id]
        self.wf = runtime.new_workflow(specs[process_id], process_id, data, self.engine)
        runtime.advance(self.wf)
        self.reload()
        self.history: list[tuple[str, str | None]] = []  # (task name, org) of completed user tasks

    def reload(self):
        if self.round_trip:
            state = runtime.dump(self.serializer, self.wf)
            self.wf = runtime.load(self.serializer, state, self.engine)

    def ready(self):
        return runtime.snapshot(self.wf).ready

    def lane(self, task):
        """The task's lane key (engine/lanes.py): the roles that act on it."""
        return self.loaded.user_tasks[task.task_spec.bpmn_id].lane

    def ready_names(self):
        return [t.task_spec.name for t in self.ready()]

    def task(self, name):
        tasks = self.ready()
        assert [t.task_spec.name for t in tasks] == [name]
        return tasks[0]

    def prop(self, task, key):
        return task.task_spec.extensions.get("properties", {}).get(key)

    def status(self, task):
        return self.engine.evaluate(task, self.prop(task, "status"))

    def org(self, task):
        var = self.prop(task, "orgVariable")
        return task.data[var] if var else None

    def complete(self, name, **form):
        task = self.task(name)
        # the data a test submits must be what the task's form accepts
        assert form_errors(self.prop(task, "formJsonSchemaFilename"), form) == []
        self.history.append((name, self.org(task)))
        task.data.update(form)
        task.run()
        runtime.advance(self.wf)
        self.reload()
        return task

    @property
    def data(self):
        return self.wf.data if self.wf.is_completed() else self.wf.last_task.data


def approve(**extra):
    return {"decision": "approve", "opinion": "同意", **extra}


def ret(reason="请补充继续教育证明"):
    return {"decision": "return", "opinion": "材料不全", "return_reason": reason}


def reject(reason="资历不符合条件"):
    return {"decision": "reject", "opinion": "不同意", "reject_reason": reason}


APPLICANT = 42
TITLE_DATA = {
    "application_id": "app-1",
    "applicant_user_id": APPLICANT,
    "applicant_name": "王五",
    "unit_org_id": "unit-1",
    "series": "工程",
    "level": "中级",
    "specialty": "水利工程",
    "committee_id": "nb-water-mid",
    "committee_name": "宁波市水利工程技术人员中级专业技术职务任职资格评审委员会",
    "committee_address": "宁波市江北区丽江东路366号",
    "dossier": {"appraisals": [{"year": 2023, "grade": "合格"}]},
}
SUBMIT = {
    "title_applied": "工程师",
    "work_summary": "从事水利工程设计八年。",
    "is_public_institution_staff": True,
    "post_vacancy": True,
    "attachments": [],
    "pledge": True,
}
PUBLICITY = {
    "publicity_start": "2025-03-03",
    "publicity_end": "2025-03-07",
    "publicity_place": "单位公告栏",
    "publicity_objections": "",
}
CHECKS = {
    "seniority_ok": True,
    "appraisal_ok": True,
    "continuing_education_ok": True,
    "post_quota_ok": True,
}


def start_title(specs, round_trip, **fake_args):
    fakes = Fakes(**fake_args)
    return Run(specs, "title_application", dict(TITLE_DATA), fakes, round_trip)


def submit_and_unit_approve(run):
    run.complete("submit_application", **SUBMIT)
    assert run.status(run.task("unit_review")) == "unit_review"
    run.complete("unit_review", **approve(**CHECKS, **PUBLICITY))


def climb(run, levels, last_decision=None):
    """Approve `levels` levels (recommending below the top one, where approval ends the
    review); then give `last_decision` at the next level."""
    for i in range(levels):
        task = run.task("level_review")
        assert task.data["level_org"] == run.fakes.chain[i]
        assert task.data["decision"] is None  # nothing left over from the previous step
        assert run.status(task) == "in_review"
        run.complete("level_review", **approve(**CHECKS))
        if i + 1 < len(run.fakes.chain):
            assert run.org(run.task("recommend")) == run.fakes.chain[i]
            run.complete("recommend", note="推荐上报")
        else:
            assert "recommend" not in run.ready_names()
    if last_decision is not None:
        run.complete("level_review", **last_decision)


def close(run, payment):
    if payment:
        task = run.task("confirm_payment")
        assert run.status(task) == "awaiting_payment"
        assert run.prop(task, "orgVariable") is None
        assert task.data["fee"]["amount"] == 180
        run.complete("confirm_payment", payment_reference="NB2025-001", paid_on="2025-04-01")
        task = run.task("verify_payment")
        assert run.status(task) == "awaiting_payment"
        assert run.org(task) == "nb-office"
        run.complete("verify_payment", decision="confirm")
    task = run.task("receive_paper")
    assert run.status(task) == "awaiting_paper"
    assert run.org(task) == "nb-office"
    run.complete("receive_paper", copies=3, received_on="2025-04-02", note="")
    # the qualification review is over: the application waits for the committee's session
    assert not run.wf.is_completed() and run.ready_names() == []
    (waiting,) = run.wf.get_tasks(state=TaskState.WAITING, spec_name="wait_panel")
    assert run.engine.evaluate(waiting, waiting.task_spec.extensions["properties"]["status"]) == (
        "expert_review"
    )
    assert run.fakes.kinds()[-1] == "application_to_committee"


ROUND_TRIP = pytest.mark.parametrize("round_trip", [False, True], ids=["memory", "round_trip"])


# --------------------------------------------------------------------------- dossier_review


@ROUND_TRIP
@pytest.mark.parametrize("decision", ["approve", "return"])
def test_dossier_review(specs, round_trip, decision):
    fakes = Fakes()
    data = {"applicant_user_id": 7, "applicant_name": "李四", "unit_org_id": "unit-1",
            "dossier_id": "d-1"}  # fmt: skip
    run = Run(specs, "dossier_review", data, fakes, round_trip)
    task = run.task("review_dossier")
    assert run.lane(task) == "unit"
    assert run.org(task) == "unit-1"
    run.complete("review_dossier", **(approve() if decision == "approve" else ret("补充学历证书")))
    assert run.wf.is_completed()
    expected = "approved" if decision == "approve" else "returned"
    assert fakes.dossier_status == [("d-1", expected)]
    assert [(to, kind) for to, kind, _ in fakes.notices] == [(7, f"dossier_{expected}")]
    if decision == "return":
        assert "补充学历证书" in fakes.notices[0][2]


# --------------------------------------------------------------------------- unit_registration


@ROUND_TRIP
@pytest.mark.parametrize("decision", ["approve", "reject"])
def test_unit_registration(specs, round_trip, decision):
    fakes = Fakes()
    data = {"unit_org_id": "unit-9", "unit_name": "宁波某水利设计院", "platform_org": "platform",
            "entrustment_file_id": "f-1"}  # fmt: skip
    run = Run(specs, "unit_registration", data, fakes, round_trip)
    task = run.task("review_entrustment")
    assert run.lane(task) == "platform"
    assert run.org(task) == "platform"
    run.complete("review_entrustment", **(approve() if decision == "approve" else reject("未盖章")))
    assert run.wf.is_completed()
    if decision == "approve":
        assert fakes.activated == ["unit-9"]
        assert fakes.kinds() == ["entrustment_approved"]
        assert "12333" in fakes.notices[0][2]
    else:
        assert fakes.activated == []
        assert fakes.rejected == ["unit-9"]
        assert fakes.kinds() == ["entrustment_rejected"]
        assert "未盖章" in fakes.notices[0][2]
    assert fakes.notices[0][0] == "unit-9"


# --------------------------------------------------------------------------- title_application


@ROUND_TRIP
def test_title_happy_path_five_levels_with_payment(specs, round_trip):
    run = start_title(specs, round_trip)
    task = run.task("submit_application")
    assert run.lane(task) == "applicant"
    assert run.status(task) == "draft"
    assert run.prop(task, "prefill") == "true"
    submit_and_unit_approve(run)
    climb(run, 5)
    close(run, payment=True)
    data = run.data
    assert data["review_chain"] == CHAIN
    assert data["office_org"] == "nb-office"
    assert data["payment_due"] is True
    assert data["return_count"] == 0
    levels = [org for name, org in run.history if name == "level_review"]
    assert levels == CHAIN
    assert [n for n, _ in run.history] == [
        "submit_application", "unit_review",
        *["level_review", "recommend"] * 4, "level_review",
        "confirm_payment", "verify_payment", "receive_paper",
    ]  # fmt: skip
    kinds = run.fakes.kinds()
    assert kinds == ["unit_approved", *["level_approved"] * 5, "payment_due",
                     "application_to_committee"]  # fmt: skip
    assert all(to == APPLICANT for to, _, _ in run.fakes.notices)


@ROUND_TRIP
def test_no_payment_when_no_level_charges(specs, round_trip):
    run = start_title(specs, round_trip, charges=False, chain=["yz-water", "nb-office", "nb-hrss"])
    submit_and_unit_approve(run)
    climb(run, 3)
    assert "confirm_payment" not in run.ready_names()
    close(run, payment=False)
    assert run.data["payment_due"] is False


@ROUND_TRIP
@pytest.mark.parametrize("charges_at_end", [False, True])
def test_fee_decided_by_the_switches_when_review_completes(specs, round_trip, charges_at_end):
    run = start_title(specs, round_trip, charges=not charges_at_end)
    submit_and_unit_approve(run)
    climb(run, 4)
    assert "payment_due" not in run.ready()[0].data  # nothing decided while under review
    run.fakes.charges = charges_at_end  # every level switched before the last approval
    run.complete("level_review", **approve(**CHECKS))
    assert "recommend" not in run.ready_names()
    assert run.data["payment_due"] is charges_at_end
    assert run.ready_names() == (["confirm_payment"] if charges_at_end else ["receive_paper"])
    close(run, payment=charges_at_end)


@ROUND_TRIP
def test_no_payment_when_the_schedule_has_no_fee(specs, round_trip):
    run = start_title(specs, round_trip, amount=0)
    submit_and_unit_approve(run)
    climb(run, 5)
    assert run.ready_names() == ["receive_paper"]
    close(run, payment=False)


@ROUND_TRIP
def test_refused_payment_reference_goes_back_to_the_applicant(specs, round_trip):
    run = start_title(specs, round_trip)
    submit_and_unit_approve(run)
    climb(run, 5)
    assert run.fakes.kinds()[-1] == "payment_due"
    assert "180 元" in run.fakes.notices[-1][2] and "评委会办公室" in run.fakes.notices[-1][2]
    run.complete("confirm_payment", payment_reference="WRONG-0001")
    run.complete("verify_payment", decision="refuse", payment_refuse_reason="未查到该笔到账")
    task = run.task("confirm_payment")
    assert run.status(task) == "awaiting_payment"
    assert task.data["payment_refuse_reason"] == "未查到该笔到账"
    assert run.fakes.kinds()[-1] == "payment_refused"
    assert "未查到该笔到账" in run.fakes.notices[-1][2]
    close(run, payment=True)
    assert [n for n, _ in run.history].count("verify_payment") == 2


@ROUND_TRIP
def test_short_paper_delivery_keeps_the_step_open(specs, round_trip):
    run = start_title(specs, round_trip, charges=False)
    submit_and_unit_approve(run)
    climb(run, 5)
    run.complete("receive_paper", copies=1, missing="评审表 2 份（加盖单位公章）")
    task = run.task("receive_paper")
    assert run.status(task) == "awaiting_paper" and run.org(task) == "nb-office"
    assert not run.wf.is_completed()
    to, kind, text = run.fakes.notices[-1]
    assert (to, kind) == (APPLICANT, "paper_missing")
    assert "1 份" in text and "评审表 2 份" in text and "丽江东路366号" in text
    close(run, payment=False)


@ROUND_TRIP
@pytest.mark.parametrize("where", ["unit", 3, 5])
def test_return_then_resubmit_restarts_climb(specs, round_trip, where):
    run = start_title(specs, round_trip)
    run.complete("submit_application", **SUBMIT)
    if where == "unit":
        run.complete("unit_review", **ret("请补充公示材料"))
    else:
        run.complete("unit_review", **approve(**CHECKS, **PUBLICITY))
        climb(run, where - 1, last_decision=ret("请补充公示材料"))
    assert run.fakes.kinds()[-1] == "application_returned"
    assert "请补充公示材料" in run.fakes.notices[-1][2]
    task = run.task("submit_application")
    assert run.status(task) == "returned"
    assert task.data["return_count"] == 1
    # resubmitted: the climb starts again at the unit and walks the whole chain in order
    run.history.clear()
    run.complete("submit_application", **SUBMIT)
    assert run.ready_names() == ["unit_review"]
    run.complete("unit_review", **approve(**CHECKS, **PUBLICITY))
    climb(run, 5)
    close(run, payment=True)
    assert [org for name, org in run.history if name == "level_review"] == CHAIN
    assert run.data["return_count"] == 1


@ROUND_TRIP
def test_reject_at_level_two(specs, round_trip):
    run = start_title(specs, round_trip)
    submit_and_unit_approve(run)
    climb(run, 1, last_decision=reject("继续教育学时不足"))
    assert run.wf.is_completed()
    assert run.data["outcome"] == "rejected"
    assert run.ready_names() == []
    assert run.history[-1] == ("level_review", "yz-hrss")
    assert run.fakes.kinds()[-1] == "application_rejected"
    assert "继续教育学时不足" in run.fakes.notices[-1][2]


@ROUND_TRIP
def test_reject_at_unit(specs, round_trip):
    run = start_title(specs, round_trip)
    run.complete("submit_application", **SUBMIT)
    run.complete("unit_review", **reject())
    assert run.wf.is_completed()
    assert run.data["outcome"] == "rejected"
    assert "level_review" not in [n for n, _ in run.history]


def fire_timer(run):
    """Fire the waiting timer the way the scheduler and the operators' 'fire now' do."""
    (timer,) = runtime.snapshot(run.wf).timers
    assert runtime.fire_timer(run.wf, timer.task_id)
    run.reload()


@ROUND_TRIP
@pytest.mark.parametrize("decision", ["approve", "return", "reject"])
def test_publicity_window_open_waits_on_timer(specs, round_trip, decision):
    run = start_title(specs, round_trip, over=False)
    submit_and_unit_approve(run)
    assert run.ready_names() == []
    (waiting,) = run.wf.waiting_events()
    assert waiting.event_type == "TimeDateEventDefinition"
    assert waiting.value == FUTURE
    (timer,) = run.wf.get_tasks(state=TaskState.WAITING, spec_name="publicity_wait")
    assert run.status(timer) == "publicity"
    assert run.fakes.kinds() == ["publicity_started"]
    (due,) = runtime.snapshot(run.wf).timers  # what the engine writes as the timer row
    assert (due.name, due.due_at) == ("publicity_wait", datetime.fromisoformat(FUTURE))
    # polling, even long after the due time, changes nothing: only the engine fires timers
    with time_machine.travel(datetime(2100, 1, 1, tzinfo=UTC), tick=False):
        run.wf.refresh_timers()
        runtime.advance(run.wf)
    assert run.ready_names() == []
    fire_timer(run)
    task = run.task("publicity_result")
    assert task.data["decision"] is None
    assert run.status(task) == "publicity"
    assert run.org(task) == "unit-1"
    assert run.fakes.kinds()[-1] == "publicity_closed"
    assert run.fakes.notices[-1][0] == "unit-1"
    if decision == "approve":
        run.complete("publicity_result", publicity_objections="无异议", **approve())
        climb(run, 5)
        close(run, payment=True)
    elif decision == "return":
        run.complete("publicity_result", publicity_objections="有异议", **ret())
        assert run.status(run.task("submit_application")) == "returned"
    else:
        run.complete("publicity_result", publicity_objections="异议属实", **reject())
        assert run.data["outcome"] == "rejected"
        assert run.wf.is_completed()


@ROUND_TRIP
def test_level_without_decision_fails_instead_of_reusing_previous_one(specs, round_trip):
    """Level 1 approved; if level 2's data somehow lacks a decision, the instance stops with an
    error rather than routing on level 1's (or the unit's) 'approve'."""
    run = start_title(specs, round_trip)
    submit_and_unit_approve(run)
    climb(run, 1)
    task = run.task("level_review")
    assert task.data["decision"] is None
    task.data.update(opinion="忘了选择结论")
    with pytest.raises(WorkflowException, match="No conditions satisfied"):
        task.run()
        run.wf.do_engine_steps()
    assert [t.task_spec.name for t in run.wf.get_tasks(state=TaskState.ERROR)] == [
        "gw_level_decision"
    ]
    assert run.fakes.kinds() == ["unit_approved", "level_approved"]


def instance_size(specs, wf):
    """The stored size: the engine stores the spec once per version, not per instance."""
    return len(runtime.dump(serializer(specs), wf))


def test_repeated_returns_keep_growth_small(specs):
    """Each return round adds a bounded, constant amount (the task tree is never pruned)."""
    run = start_title(specs, False)
    sizes = []
    for _ in range(3):
        run.complete("submit_application", **SUBMIT)
        run.complete("unit_review", **approve(**CHECKS, **PUBLICITY))
        climb(run, 2, last_decision=ret())
        sizes.append(instance_size(specs, run.wf))
    assert run.task("submit_application").data["return_count"] == 3
    growth = [b - a for a, b in itertools.pairwise(sizes)]
    assert max(growth) - min(growth) < 500  # linear in rounds, nothing accumulates
    # about 18 KB for a return at level 3 (the withdrawal boundary events wait beside the tasks)
    assert max(growth) < 20_000


def test_levels_do_not_copy_the_application_data(specs):
    """The level loop lives in the main process (no subprocess per level), so a long work
    summary is stored once and each level costs the same few KB whatever the data size."""
    per_level = []
    for length in (10, 3000):
        run = start_title(specs, False)
        run.complete("submit_application", **{**SUBMIT, "work_summary": "水" * length})
        run.complete("unit_review", **approve(**CHECKS, **PUBLICITY))
        before = instance_size(specs, run.wf)
        climb(run, 5)
        per_level.append((instance_size(specs, run.wf) - before) / 5)
    assert abs(per_level[1] - per_level[0]) < 200
    assert per_level[0] < 4_000


# --------------------------------------------------------------------------- forms


def load_form(name):
    return json.loads((FORMS_DIR / name).read_text(encoding="utf-8"))


def form_errors(name, data):
    schema = load_form(name)
    validator = jsonschema.Draft202012Validator(
        schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )
    return sorted(
        ".".join(map(str, e.absolute_path)) or e.validator for e in validator.iter_errors(data)
    )


@pytest.mark.parametrize(
    ("form", "data", "ok"),
    [
        ("review_dossier.schema.json", approve(), True),
        ("review_dossier.schema.json", {"decision": "return", "opinion": "x"}, False),
        ("review_dossier.schema.json", ret(), True),
        ("review_dossier.schema.json", reject(), False),
        ("review_entrustment.schema.json", reject(), True),
        ("review_entrustment.schema.json", {"decision": "reject", "opinion": "x"}, False),
        ("review_entrustment.schema.json", ret(), False),
        ("unit_review.schema.json", approve(**CHECKS, **PUBLICITY), True),
        ("unit_review.schema.json", approve(**PUBLICITY), False),  # the four checks
        ("unit_review.schema.json", approve(**{**CHECKS, "post_quota_ok": None}, **PUBLICITY), False),
        ("unit_review.schema.json", approve(), False),
        ("unit_review.schema.json", ret(), True),
        ("unit_review.schema.json", {**approve(**PUBLICITY), "publicity_end": "2025-13-01"}, False),
        ("unit_review.schema.json", {**approve(**PUBLICITY), "extra": 1}, False),
        ("publicity_result.schema.json", {**approve(), "publicity_objections": ""}, True),
        ("level_review.schema.json", approve(**CHECKS), True),
        ("level_review.schema.json", {"decision": "approve", "opinion": ""}, False),
        ("level_review.schema.json", approve(), False),  # an approval confirms the four checks
        ("level_review.schema.json", approve(**CHECKS), True),
        ("level_review.schema.json", approve(**CHECKS, exceptional_ok=True), True),
        ("level_review.schema.json", ret(), True),  # a return needs no checks
        ("level_review.schema.json", {"decision": "return", "opinion": "x"}, False),
        ("level_review.schema.json", {"decision": "reject", "opinion": "x", "reject_reason": "y"}, True),
        ("recommend.schema.json", {}, True),
        ("recommend.schema.json", {"decision": "approve"}, False),
        ("submit_application.schema.json", SUBMIT, True),
        ("submit_application.schema.json", {**SUBMIT, "pledge": False}, False),
        ("submit_application.schema.json", {**SUBMIT, "attachments": [1]}, False),
        ("submit_application.schema.json", {**SUBMIT, "exceptional": True}, False),
        ("submit_application.schema.json",
         {**SUBMIT, "exceptional": True, "exceptional_conditions": [], "exceptional_evidence": ["f"]},
         False),
        ("submit_application.schema.json",
         {**SUBMIT, "exceptional": True, "exceptional_conditions": ["major_award"],
          "exceptional_evidence": ["f-1"]}, True),
        ("submit_application.schema.json",
         {**SUBMIT, "exceptional": True, "exceptional_conditions": ["nonsense"],
          "exceptional_evidence": ["f-1"]}, False),
        ("confirm_payment.schema.json", {"payment_reference": "NB2025-001",
                                         "paid_on": "2025-04-01"}, True),
        ("confirm_payment.schema.json", {"paid_on": "2025-04-01"}, False),
        ("verify_payment.schema.json", {"decision": "confirm"}, True),
        ("verify_payment.schema.json", {"decision": "refuse"}, False),  # needs the reason
        ("verify_payment.schema.json", {"decision": "refuse",
                                        "payment_refuse_reason": "未查到到账"}, True),
        ("receive_paper.schema.json", {"copies": 3}, True),
        ("receive_paper.schema.json", {"copies": 2}, False),  # says what is missing
        ("receive_paper.schema.json", {"copies": 2, "missing": "评审表 1 份"}, True),
        ("dossier.schema.json", {}, False),
        (
            "dossier.schema.json",
            {
                "highest_education": "本科",
                "work_start_date": "2015-07-01",
                "current_title": {"name": "助理工程师", "series": "工程", "obtained": "2019-12-01"},
                "education": [{"school": "河海大学", "major": "水利水电工程", "degree": "本科",
                               "graduated": "2015-06-30"}],
                "appraisals": [{"year": 2024, "grade": "优秀"}],
                "continuing_education": [{"year": 2024, "public_hours": 30,
                                          "professional_hours": 60}],
                "papers": [{"title": "论堤防渗流", "journal": "浙江水利科技", "rank": 1,
                            "representative": True}],
            },
            True,
        ),
        (
            "dossier.schema.json",
            {"highest_education": "本科", "work_start_date": "2015-07-01",
             "current_title": {"name": "助理工程师", "series": "工程", "obtained": "2019-12-01"},
             "is_public_institution_staff": True},
            False,  # 事业编制 needs the post quota
        ),
    ],
)  # fmt: skip
def test_form_rules(form, data, ok):
    assert (form_errors(form, data) == []) is ok, form_errors(form, data)


def walk_titles(schema, path="$"):
    """Yield the paths of properties that have no Chinese title."""
    for key, sub in schema.get("properties", {}).items():
        if not re.search(r"[\u4e00-\u9fff]", sub.get("title", "")):
            yield f"{path}.{key}"
        yield from walk_titles(sub, f"{path}.{key}")
        if isinstance(sub.get("items"), dict):
            yield from walk_titles(sub["items"], f"{path}.{key}[]")


@pytest.mark.parametrize("path", sorted(FORMS_DIR.glob("*.schema.json")), ids=lambda p: p.name)
def test_form_files_are_valid_schemas(path):
    schema = json.loads(path.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["additionalProperties"] is False
    assert list(walk_titles(schema)) == []
    ui_path = path.with_name(path.name.replace(".schema.json", ".ui.json"))
    if ui_path.exists():
        ui = json.loads(ui_path.read_text(encoding="utf-8"))
        assert ui["ui:order"] == list(schema["properties"])


# --------------------------------------------------------------------------- static checks


def script_sources(loaded):
    """Every script, condition, pre/postScript, status and timer expression: (where, src, mode)."""
    out = []
    for ts in runtime.all_task_specs(loaded.spec, loaded.subprocess_specs):
        for cond, target in getattr(ts, "cond_task_specs", []):
            if cond is not None:
                out.append((f"{ts.name}->{target}", cond.args[0], "eval"))
        for attr in ("script", "prescript", "postscript"):
            if isinstance(getattr(ts, attr, None), str):
                out.append((f"{ts.name}.{attr}", getattr(ts, attr), "exec"))
        props = getattr(ts, "extensions", {}).get("properties", {})
        if "status" in props:
            out.append((f"{ts.name}.status", props["status"], "eval"))
        event = getattr(ts, "event_definition", None)
        if isinstance(event, TimeDateEventDefinition):
            out.append((f"{ts.name}.timeDate", event.expression, "eval"))
    return out


def test_every_diagram_passes_the_deploy_time_validation():
    """What `bpmn deploy` checks (engine.specs): XSD, lanes, forms, validators, every script
    and expression under the sandbox's allow-list, only registered functions called."""
    validator = SpecValidator(ENGINE_FUNCTIONS, [*default_validators(), "eligibility"])
    files = {p.name: p.read_bytes() for p in sorted(BPMN_DIR.glob("*.bpmn"))}
    forms = {p.name: p.read_text(encoding="utf-8") for p in sorted(FORMS_DIR.glob("*.json"))}
    report = validator.validate(files, forms)
    assert [str(p) for p in report.problems] == []
    assert sorted(c.process_id for c in report.candidates) == sorted(PROCESSES)


@pytest.mark.parametrize("process_id", PROCESSES)
def test_scripts_use_only_safe_builtins_and_registered_functions(specs, process_id):
    sources = script_sources(specs[process_id])
    assert sources
    allowed = set(SAFE_BUILTINS) | REGISTERED
    for where, src, mode in sources:
        compile_checked(src, mode)  # the sandbox's allow-list: imports, lambdas, _names ...
        assert called_names(src, mode) <= allowed, where
        for node in ast.walk(ast.parse(src, mode=mode)):
            if isinstance(node, ast.Call):  # diagrams call functions, never methods
                assert isinstance(node.func, ast.Name), (where, ast.unparse(node))


def user_tasks(loaded):
    for ts in runtime.all_task_specs(loaded.spec, loaded.subprocess_specs):
        if getattr(ts, "manual", False):
            yield ts


@pytest.mark.parametrize("process_id", PROCESSES)
def test_user_tasks_carry_what_the_engine_needs(specs, process_id):
    tasks = list(user_tasks(specs[process_id]))
    assert tasks
    for ts in tasks:
        props = ts.extensions.get("properties", {})
        form = props.get("formJsonSchemaFilename")
        assert form and (FORMS_DIR / form).is_file(), ts.name
        jsonschema.Draft202012Validator.check_schema(load_form(form))
        if "formUiSchemaFilename" in props:
            assert (FORMS_DIR / props["formUiSchemaFilename"]).is_file(), ts.name
        lane = specs[process_id].user_tasks[ts.bpmn_id].lane
        assert lane in LANES, ts.name
        if lane == "applicant":
            assert "orgVariable" not in props, ts.name
        elif lane == "expert":  # a personal task: an expression names the account
            assert props.get("userVariable"), ts.name
        else:
            assert re.fullmatch(r"[a-z_]+", props.get("orgVariable", "")), ts.name
        if process_id == "title_application":
            assert "status" in props, ts.name
        if "validator" in props:
            names = props["validator"].split()
            assert set(names) <= {"publicity_window", "eligibility", "payment_reference"}, ts.name
            if "publicity_window" in names:
                assert int(props["publicityWorkdays"]) == 5
            if "payment_reference" in names:
                assert props["paymentProvider"] == "bank_transfer"
        if ts.name in ("unit_review", "level_review"):
            assert "eligibility" in props.get("validator", "").split(), ts.name
        assert props.get("prefill", "false") == (
            "true" if ts.name == "submit_application" else "false"
        )
        assert re.search(r"[\u4e00-\u9fff]", ts.bpmn_name), ts.name
        assert re.fullmatch(r"[a-z][a-z0-9_]*", ts.bpmn_id), ts.name


def test_title_statuses_are_known_constants(specs):
    """Status expressions only yield known statuses (evaluated with both return_count values)."""
    engine = script_engine(Fakes().functions())
    loaded = specs["title_application"]
    for ts in [*user_tasks(loaded), loaded.spec.task_specs["publicity_wait"]]:
        expr = ts.extensions["properties"]["status"]
        for count in (0, 2):
            value = engine.environment.evaluate(expr, {"return_count": count})
            assert value in STATUSES, (ts.name, value)


def test_api_task_names_exist(specs):
    names = {pid: {ts.bpmn_id for ts in user_tasks(specs[pid])} for pid in PROCESSES}
    assert names == {
        "dossier_review": {"review_dossier"},
        "unit_registration": {"review_entrustment"},
        "title_application": {"submit_application", "unit_review", "publicity_result",
                              "level_review", "recommend", "confirm_payment", "verify_payment",
                              "receive_paper", "expert_vote", "review_objection"},
    }  # fmt: skip


# --------------------------------------------------------------------------- diagram (BPMNDI)


def local(el):
    return etree.QName(el).localname


def bounds_of(shape):
    b = shape.find("dc:Bounds", NS)
    return tuple(float(b.get(k)) for k in ("x", "y", "width", "height"))


def inside(inner, outer, slack=0.0):
    x, y, w, h = inner
    ox, oy, ow, oh = outer
    return (
        x >= ox - slack
        and y >= oy - slack
        and x + w <= ox + ow + slack
        and y + h <= oy + oh + slack
    )


def overlaps(a, b):
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    return ax < bx + bw and bx < ax + aw and ay < by + bh and by < ay + ah


@pytest.mark.parametrize("process_id", PROCESSES)
def test_diagram_is_complete(process_id):
    path = BPMN_DIR / f"{process_id}.bpmn"
    root = etree.parse(str(path)).getroot()
    (process,) = root.findall("bpmn:process", NS)
    assert process.get("id") == path.stem == process_id
    assert process.get("isExecutable") == "true"
    (participant,) = root.findall("bpmn:collaboration/bpmn:participant", NS)
    assert participant.get("processRef") == process_id
    shapes = {s.get("bpmnElement"): s for s in root.iter(f"{{{NS['bpmndi']}}}BPMNShape")}
    edges = {e.get("bpmnElement"): e for e in root.iter(f"{{{NS['bpmndi']}}}BPMNEdge")}
    (plane,) = root.iter(f"{{{NS['bpmndi']}}}BPMNPlane")
    assert plane.get("bpmnElement") == root.find("bpmn:collaboration", NS).get("id")
    assert participant.get("id") in shapes

    nodes = [el for el in process.iter() if isinstance(el.tag, str)
             and etree.QName(el).namespace == BPMN_NS and local(el) in FLOW_NODE_TAGS]  # fmt: skip
    flows = list(process.iter(f"{{{BPMN_NS}}}sequenceFlow"))
    ids = [el.get("id") for el in nodes + flows]
    assert len(ids) == len(set(ids))
    for el in nodes:
        assert el.get("id") in shapes, f"no BPMNShape for {el.get('id')}"
        assert shapes[el.get("id")].find("dc:Bounds", NS) is not None
        assert re.fullmatch(r"[a-z][a-z0-9_]*", el.get("id"))
        if local(el) != "exclusiveGateway":  # merge gateways stay unnamed, as drawn by hand
            assert re.search(r"[\u4e00-\u9fff]", el.get("name", "")), el.get("id")
    for flow in flows:
        edge = edges.get(flow.get("id"))
        assert edge is not None, f"no BPMNEdge for {flow.get('id')}"
        points = [(float(p.get("x")), float(p.get("y"))) for p in edge.findall("di:waypoint", NS)]
        assert len(points) >= 2
        for (x1, y1), (x2, y2) in itertools.pairwise(points):
            assert x1 == x2 or y1 == y2, f"{flow.get('id')} is not orthogonal"
        # the edge starts and ends on the shapes it connects
        for end, ref in ((points[0], "sourceRef"), (points[-1], "targetRef")):
            x, y, w, h = bounds_of(shapes[flow.get(ref)])
            assert x - 1 <= end[0] <= x + w + 1 and y - 1 <= end[1] <= y + h + 1, flow.get("id")

    # lanes: every top-level node sits inside the lane that lists it; lanes inside the pool
    pool = bounds_of(shapes[participant.get("id")])
    lanes = process.findall("bpmn:laneSet/bpmn:lane", NS)
    # a lane's id names its roles (lane_<role>); its name is the Chinese the diagram shows
    assert lanes and {lane.get("id").removeprefix("lane_") for lane in lanes} <= LANES
    assert all(re.search(r"[\u4e00-\u9fff]", lane.get("name") or "") for lane in lanes)
    top_level = {
        el.get("id") for el in process if isinstance(el.tag, str) and local(el) in FLOW_NODE_TAGS
    }
    listed = set()
    for lane in lanes:
        lane_box = bounds_of(shapes[lane.get("id")])
        assert inside(lane_box, pool)
        for ref in lane.findall("bpmn:flowNodeRef", NS):
            listed.add(ref.text)
            assert inside(bounds_of(shapes[ref.text]), lane_box), ref.text
    assert listed == top_level
    lane_boxes = [bounds_of(shapes[lane.get("id")]) for lane in lanes]
    for i, a in enumerate(lane_boxes):
        for b in lane_boxes[i + 1 :]:
            assert not overlaps(a, b)

    # no two shapes overlap, except a subprocess and what it contains
    children = {el.get("id"): {c.get("id") for c in el.iter() if c is not el and c.get("id")}
                for el in nodes if local(el) == "subProcess"}  # fmt: skip
    boxes = [(el.get("id"), bounds_of(shapes[el.get("id")])) for el in nodes]
    # a boundary event sits on the edge of the task it is attached to
    attached = {
        (el.get("id"), el.get("attachedToRef")) for el in nodes if local(el) == "boundaryEvent"
    }
    for i, (a_id, a) in enumerate(boxes):
        for b_id, b in boxes[i + 1 :]:
            if (a_id, b_id) in attached or (b_id, a_id) in attached:
                continue
            if b_id in children.get(a_id, ()) or a_id in children.get(b_id, ()):
                assert inside(b, a) or inside(a, b), (a_id, b_id)
                continue
            assert not overlaps(a, b), (a_id, b_id)


def test_no_stray_bpmn_files():
    assert sorted(p.stem for p in BPMN_DIR.glob("*.bpmn")) == sorted(PROCESSES)


@ROUND_TRIP
def test_unit_review_takes_the_current_dossier(specs, round_trip):
    """A resubmission carries the dossier as the applicant corrected it, not the one filed."""
    run = start_title(specs, round_trip)
    run.complete("submit_application", **SUBMIT)
    assert run.task("unit_review").data["dossier"] == TITLE_DATA["dossier"]
    run.complete("unit_review", **ret("第3年度考核有误"), marks=[])
    corrected = {"appraisals": [{"year": 2023, "grade": "优秀"}]}
    run.fakes.dossier = corrected
    run.complete("submit_application", **SUBMIT)
    assert run.task("unit_review").data["dossier"] == corrected
    assert run.fakes.dossier_reads == [APPLICANT, APPLICANT]


# --------------------------------------------------------------------------- committee stage


def deliver(run, message, payload):
    """Hand a message to the catch event waiting for it, as ProcessRuntime.deliver does."""
    from SpiffWorkflow.bpmn.util.event import BpmnEvent

    catcher = runtime.waiting_message(run.wf, message)
    assert catcher is not None, message
    run.wf.catch(BpmnEvent(catcher.task_spec.event_definition, payload))
    runtime.advance(run.wf)
    run.reload()


def at_committee(specs, round_trip):
    run = start_title(specs, round_trip)
    submit_and_unit_approve(run)
    climb(run, 5)
    close(run, payment=True)
    return run


def vote_all(run, experts):
    """Every seated expert's ballot task completes with what the runtime keeps of a vote."""
    tasks = run.ready()
    seated = [t.data["ballot_experts"][t.data["ballot_index"]] for t in tasks]
    assert sorted(seated) == sorted(experts)
    assert {run.lane(t) for t in tasks} == {"expert"}
    assert {run.status(t) for t in tasks} == {"expert_review"}
    for task in tasks:
        task.data.update({"voted": True})
        task.run()
    runtime.advance(run.wf)
    run.reload()
    assert runtime.waiting_message(run.wf, "ballot_tallied") is not None


PASSED = {"agree": 4, "disagree": 1, "abstain": 0, "present": 5, "passed": True,
          "publicity_start": "2025-05-06", "publicity_end": "2025-05-12",
          "publicity_release": FUTURE}  # fmt: skip


@ROUND_TRIP
def test_committee_pass_publicity_then_certificate(specs, round_trip):
    run = at_committee(specs, round_trip)
    deliver(run, "ballot_open", {"session_id": 3, "experts": [11, 12, 13, 14, 15]})
    assert run.data["review_session_id"] == 3
    vote_all(run, [11, 12, 13, 14, 15])
    assert "vote" not in run.wf.last_task.data
    deliver(run, "ballot_tallied", {**PASSED, "session_id": 3})
    (due,) = runtime.snapshot(run.wf).timers
    assert due.name == "result_publicity_wait" and due.due_at == datetime.fromisoformat(FUTURE)
    assert run.fakes.kinds()[-1] == "result_publicity_started"
    fire_timer(run)
    assert run.wf.is_completed()
    assert run.data["outcome"] == "certified" and run.data["certificate_number"] == "NBSL202600001"
    assert run.fakes.kinds()[-1] == "certificate_issued"


@ROUND_TRIP
def test_committee_fail_ends_not_passed_with_the_tally(specs, round_trip):
    run = at_committee(specs, round_trip)
    deliver(run, "ballot_open", {"session_id": 3, "experts": [11, 12, 13, 14, 15]})
    vote_all(run, [11, 12, 13, 14, 15])
    summary = "评审会表决未通过：出席并参加表决专家 5 人，同意 3 票，不同意 2 票，弃权 0 票"
    failed = {"agree": 3, "disagree": 2, "passed": False, "summary": summary}
    deliver(run, "ballot_tallied", {**PASSED, **failed})
    assert run.wf.is_completed() and run.data["outcome"] == "not_passed"
    assert "同意 3 票" in run.fakes.notices[-1][2]


@ROUND_TRIP
@pytest.mark.parametrize("upheld", [False, True])
def test_objection_during_results_publicity(specs, round_trip, upheld):
    run = at_committee(specs, round_trip)
    deliver(run, "ballot_open", {"session_id": 3, "experts": [11, 12, 13]})
    vote_all(run, [11, 12, 13])
    deliver(run, "ballot_tallied", {**PASSED, "present": 3, "agree": 3, "disagree": 0})
    deliver(run, "result_objection", {"text": "反映论文抄袭", "recorded_by": "孙八"})
    task = run.task("review_objection")
    assert run.org(task) == "nb-office" and run.status(task) == "result_publicity"
    assert runtime.snapshot(run.wf).timers == []  # the objection interrupts the wait
    if upheld:
        run.complete("review_objection", decision="reject", opinion="属实", reject_reason="抄袭")
        assert run.data["outcome"] == "not_passed"
        assert "抄袭" in run.fakes.notices[-1][2]
    else:
        run.complete("review_objection", decision="approve", opinion="反映不实")
        (due,) = runtime.snapshot(run.wf).timers  # the same window goes on
        assert due.due_at == datetime.fromisoformat(FUTURE)
        fire_timer(run)
        assert run.data["outcome"] == "certified"
