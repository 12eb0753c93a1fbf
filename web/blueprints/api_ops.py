"""Operators: stuck instances and their repair (retry, reset, suspend, resume, terminate,
migrate), one at a time or in bulk with a dry run."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify, request
from werkzeug.exceptions import BadRequest

from web.answers import bulk_results_json, instance_detail_json, instance_json
from web.api_schemas import page, ref, svg
from web.blueprints._common import actor, deployments, json_body, listing, operations, paging
from web.input_guard import query_flag

bp = Blueprint("ops", __name__, url_prefix="/ops/instances")

OBJ = {"type": "object"}
REASON = {"type": "object", "required": ["reason"], "properties": {"reason": {"type": "string"}}}
DOCS = [
    (
        "get",
        "/ops/instances",
        "Instances (filters: status, stuck=true, process) with problems",
        "operations",
        False,
        None,
        page("Instance"),
    ),
    (
        "get",
        "/ops/instances/{instance_id}",
        "One instance: tasks, timers, data, history",
        "operations",
        False,
        None,
        ref("InstanceDetail"),
    ),
    (
        "post",
        "/ops/instances/{instance_id}/retry",
        "Merge data into the errored task and rerun it; the audit event keeps every key the "
        "data changed with its old and new value (`detail.data_changes` in the history)",
        "operations",
        False,
        {**REASON, "properties": {"reason": {"type": "string"}, "data": OBJ}},
        ref("OperationResult"),
    ),
    (
        "post",
        "/ops/instances/{instance_id}/reset",
        "Back to a task (by BPMN id)",
        "operations",
        False,
        {**REASON, "properties": {"reason": {"type": "string"}, "task": {"type": "string"}}},
        ref("OperationResult"),
    ),
    (
        "post",
        "/ops/instances/{instance_id}/suspend",
        "Suspend: no completions, no timers",
        "operations",
        False,
        REASON,
        ref("OperationResult"),
    ),
    (
        "post",
        "/ops/instances/{instance_id}/resume",
        "Resume a suspended instance",
        "operations",
        False,
        REASON,
        ref("OperationResult"),
    ),
    (
        "post",
        "/ops/instances/{instance_id}/terminate",
        "Cancel every open task; a dossier under review returns to draft and its applicant "
        "gets an in-app message and SMS",
        "operations",
        False,
        REASON,
        ref("OperationResult"),
    ),
    (
        "post",
        "/ops/instances/{instance_id}/migrate",
        "Move to another version of the process (dry_run reports only)",
        "operations",
        False,
        {
            **REASON,
            "properties": {
                "reason": {"type": "string"},
                "version": {"type": "integer"},
                "dry_run": {"type": "boolean"},
            },
        },
        ref("Migration"),
    ),
    (
        "post",
        "/ops/instances/bulk",
        "One action on many instances, each on its own",
        "operations",
        False,
        {"type": "object", "required": ["action", "ids", "reason"]},
        ref("BulkResults"),
    ),
    (
        "get",
        "/ops/instances/{instance_id}/diagram.svg",
        "The instance's diagram: completed path, ready and errored tasks marked",
        "operations",
        False,
        None,
        svg(),
    ),
]


@bp.get("")
def index() -> Any:
    limit, offset = paging()
    stuck = query_flag("stuck")
    items, total = operations().list_instances(
        actor(),
        status=request.args.get("status") or None,
        stuck=stuck,
        process=request.args.get("process") or None,
        limit=limit,
        offset=offset,
    )
    return jsonify(listing([instance_json(i) for i in items], total))


@bp.get("/<id:instance_id>")
def show(instance_id: int) -> Any:
    return jsonify(instance_detail_json(operations().get_instance(instance_id, actor())))


@bp.post("/<id:instance_id>/retry")
def retry(instance_id: int) -> Any:
    body = json_body()
    return jsonify(operations().retry(instance_id, actor(), body.get("reason"), body.get("data")))


@bp.post("/<id:instance_id>/reset")
def reset(instance_id: int) -> Any:
    body = json_body()
    return jsonify(operations().reset(instance_id, actor(), body.get("reason"), body.get("task")))


@bp.post("/<id:instance_id>/suspend")
def suspend(instance_id: int) -> Any:
    return jsonify(operations().suspend(instance_id, actor(), json_body().get("reason")))


@bp.post("/<id:instance_id>/resume")
def resume(instance_id: int) -> Any:
    return jsonify(operations().resume(instance_id, actor(), json_body().get("reason")))


@bp.post("/<id:instance_id>/terminate")
def terminate(instance_id: int) -> Any:
    return jsonify(operations().terminate(instance_id, actor(), json_body().get("reason")))


@bp.post("/<id:instance_id>/migrate")
def migrate(instance_id: int) -> Any:
    body = json_body()
    return jsonify(
        operations().migrate(
            instance_id,
            actor(),
            body.get("reason"),
            body.get("version"),
            dry_run=bool(body.get("dry_run")),
        )
    )


@bp.post("/bulk")
def bulk() -> Any:
    body = json_body()
    ids = body.get("ids")
    if not isinstance(ids, list) or not ids or len(ids) > 500:
        raise BadRequest('"ids" 必须是 1..500 个实例编号')
    extra = {}
    if body.get("action") == "migrate":
        extra = {"version": body.get("version"), "dry_run": bool(body.get("dry_run"))}
    results = operations().bulk(str(body.get("action")), ids, actor(), body.get("reason"), **extra)
    return jsonify({"results": bulk_results_json(results)})


@bp.get("/<id:instance_id>/diagram.svg")
def diagram(instance_id: int) -> Any:
    operations().get_instance(str(instance_id), actor())  # operators only
    return Response(deployments().instance_diagram(instance_id), mimetype="image/svg+xml")
