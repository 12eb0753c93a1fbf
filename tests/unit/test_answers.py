"""web/answers.py: the engine's DTOs become API.md's JSON, under the API's field names."""

from __future__ import annotations

from engine.dtos import (
    Failure,
    InstanceDetail,
    InstanceSummary,
    InstanceTimer,
    ItemOutcome,
    OperatorActions,
)
from web.answers import (
    bulk_results_json,
    instance_detail_json,
    instance_json,
    task_results_json,
)

SUMMARY = InstanceSummary(
    id="7",
    process="title_application",
    version_number=3,
    status="error",
    application_id=None,
    business_key="application-1",
    updated_at="2026-11-26T02:00:00+00:00",
    problems=("任务 a 出错：x", "调度器未运行"),
)


def test_instance_answer_names_the_deploy_number_version_and_joins_the_problems():
    out = instance_json(SUMMARY)

    assert out["version"] == 3 and "version_number" not in out
    assert out["problem"] == "任务 a 出错：x；调度器未运行"
    assert out["problems"] == ["任务 a 出错：x", "调度器未运行"]


def test_instance_without_problems_has_none():
    quiet = InstanceSummary(**{**SUMMARY.__dict__, "problems": ()})

    assert instance_json(quiet)["problem"] is None


def test_instance_detail_answer_lists_timers_and_allowed_actions():
    detail = InstanceDetail(
        summary=SUMMARY,
        tasks=(),
        timers=(InstanceTimer("1", "publicity_wait", None, "pending", True),),
        history=(),
        data={"a": 1},
        reset_candidates=("submit_application",),
        reset_targets=({"task": "submit_application", "title": "填写申报表"},),
        can=OperatorActions(True, True, True, False, True, True),
    )

    out = instance_detail_json(detail)

    assert out["timers"] == [
        {"id": "1", "name": "publicity_wait", "due_at": None, "status": "pending", "overdue": True}
    ]
    assert out["can"]["retry"] is True and out["can"]["resume"] is False
    assert out["reset_candidates"] == ["submit_application"]
    assert out["reset_targets"] == [{"task": "submit_application", "title": "填写申报表"}]


def test_batch_completion_reports_field_problems_only_when_there_are_some():
    out = task_results_json(
        [
            ItemOutcome("t1", True),
            ItemOutcome("t2", False, failure=Failure("invalid_data", "信息有误", {"a": "必填"})),
            ItemOutcome("t3", False, failure=Failure("task_not_ready", "任务已办理", {})),
        ]
    )

    assert out == [
        {"task_id": "t1", "ok": True, "error": None},
        {
            "task_id": "t2",
            "ok": False,
            "error": {"code": "invalid_data", "message": "信息有误", "fields": {"a": "必填"}},
        },
        {
            "task_id": "t3",
            "ok": False,
            "error": {"code": "task_not_ready", "message": "任务已办理"},
        },
    ]


def test_bulk_answer_carries_the_result_or_the_error():
    report = {"id": "1", "ok": False, "dry_run": True, "problems": ["x"]}
    out = bulk_results_json(
        [
            ItemOutcome("1", False, result=report),
            ItemOutcome("2", False, failure=Failure("instance_completed", "已办结", {"a": "b"})),
        ]
    )

    assert out == [
        {"id": "1", "ok": False, "result": report},
        {"id": "2", "ok": False, "error": {"code": "instance_completed", "message": "已办结"}},
    ]
