"""Tasks of any process: list, show with form, complete, batch-complete."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, request
from werkzeug.exceptions import BadRequest

from web.answers import task_results_json
from web.api_schemas import page, ref
from web.blueprints._common import actor, json_body, listing, paging, tasks

bp = Blueprint("tasks", __name__, url_prefix="/tasks")

OBJ = {"type": "object"}
DOCS = [
    (
        "get",
        "/tasks",
        "Ready tasks the caller may complete (filters: name, application, process)",
        "tasks",
        False,
        None,
        page("TaskSummary"),
    ),
    (
        "get",
        "/tasks/{task_id}",
        "A task with its JSON Schema form, UI schema and current data",
        "tasks",
        False,
        None,
        ref("TaskDetail"),
    ),
    (
        "post",
        "/tasks/{task_id}/complete",
        "Complete a task with form data",
        "tasks",
        False,
        {
            "type": "object",
            "properties": {"data": OBJ},
            "examples": [{"data": {"decision": "approve", "opinion": "同意推荐"}}],
        },
        ref("CompleteResult"),
    ),
    (
        "post",
        "/tasks/batch-complete",
        "Complete several tasks with the same data, each on its own",
        "tasks",
        False,
        {
            "type": "object",
            "required": ["task_ids"],
            "properties": {"task_ids": {"type": "array", "items": {"type": "string"}}, "data": OBJ},
            "examples": [{"task_ids": ["<task id>", "<task id>"], "data": {"decision": "approve"}}],
        },
        ref("BatchResults"),
    ),
]


@bp.get("")
def list_tasks() -> Any:
    limit, offset = paging()
    items, total = tasks().list_tasks(
        actor(),
        name=request.args.get("name") or None,
        application=request.args.get("application") or None,
        process=request.args.get("process") or None,
        limit=limit,
        offset=offset,
    )
    return jsonify(listing([t.as_dict() for t in items], total))


@bp.get("/<task_id>")
def show(task_id: str) -> Any:
    return jsonify(tasks().get_task(task_id, actor()).as_dict())


def _data_of(body: dict[str, Any]) -> dict[str, Any]:
    data = body.get("data", {})
    if not isinstance(data, dict):
        raise BadRequest('"data" 必须是 JSON 对象')
    return data


@bp.post("/<task_id>/complete")
def complete(task_id: str) -> Any:
    result = tasks().complete(task_id, _data_of(json_body()), actor=actor())
    return jsonify(result.as_dict())


@bp.post("/batch-complete")
def batch_complete() -> Any:
    body = json_body()
    ids = body.get("task_ids")
    if not isinstance(ids, list) or not ids or not all(isinstance(i, str) for i in ids):
        raise BadRequest('"task_ids" 必须是非空的字符串数组')
    if len(ids) > 500:
        raise BadRequest("一次最多处理 500 个任务")
    results = tasks().complete_many(ids, _data_of(body), actor=actor())
    return jsonify({"results": task_results_json(results)})
