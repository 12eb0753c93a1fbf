"""Operators' pages: instances (stuck ones with their reasons), one instance's diagram, tasks,
timers, data and history, and the repairs: retry, reset, suspend, resume, terminate, migrate,
one instance or many. Every repair needs a reason; migration always reports before it moves."""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from werkzeug.datastructures import MultiDict

from engine import ConflictError, EngineError, InvalidDataError, NotFoundError, parse_id, policy
from web.answers import bulk_results_json, instance_detail_json, instance_json
from web.blueprints._common import deployments, operations, timers
from web.blueprints._page_common import PAGE, allowed_by, me, page_offset
from web.blueprints.pages_designer import inline_svg
from web.errors import http_status
from web.input_guard import InputRefused, query_flag, strict_loads
from web.labels import ACTIONS

bp = Blueprint("ops_pages", __name__, url_prefix="/admin/instances")
BULK_ACTIONS = ("suspend", "resume", "terminate", "retry", "migrate")
REFUSALS = (InvalidDataError, ConflictError)


def _filters() -> dict[str, Any]:
    return {
        "status": request.args.get("status") or None,
        "process": request.args.get("process") or None,
        "stuck": query_flag("stuck"),  # 1 / true / yes, as the API takes it
    }


def _version(raw: str | None) -> int:
    version = parse_id((raw or "").strip())
    if version is None:
        raise InvalidDataError("请选择目标版本", fields={"version": "请填写目标版本号"})
    return version


def _json_data(raw: str | None) -> Any:
    """The optional JSON to merge on retry; None when left empty."""
    if not (raw or "").strip():
        return None
    try:
        return strict_loads(raw or "")
    except InputRefused as exc:
        raise InvalidDataError("补充数据不是合法的 JSON", fields={"data": str(exc)}) from exc


def _index(
    error: EngineError | None = None, values: MultiDict | None = None, status: int = 200
) -> Any:
    filters, offset = _filters(), page_offset()
    found, total = operations().list_instances(me(), limit=PAGE, offset=offset, **filters)
    items = [instance_json(i) for i in found]
    processes = sorted({v["process_id"] for v in deployments().list_versions()})
    return render_template(
        "ops/index.html",
        items=items,
        total=total,
        offset=offset,
        page=PAGE,
        filters=filters,
        query={k: v for k, v in request.args.items() if k != "offset"},
        processes=processes,
        actions=BULK_ACTIONS,
        error=error,
        values=values or {},
        chosen=set(values.getlist("ids")) if values else set(),
    ), status


def _show(
    instance_id: int,
    failed: str | None = None,
    error: EngineError | None = None,
    report: dict[str, Any] | None = None,
    status: int = 200,
) -> Any:
    detail = instance_detail_json(operations().get_instance(instance_id, me()))
    versions = [v for v in deployments().list_versions() if v["process_id"] == detail["process"]]
    return render_template(
        "ops/show.html",
        inst=detail,
        svg=inline_svg(deployments().instance_diagram(int(detail["id"]))),
        data_json=json.dumps(detail["data"], ensure_ascii=False, indent=2, sort_keys=True),
        overdue={t["id"] for t in detail["timers"] if t["overdue"]},
        versions=versions,
        reset_targets=detail["reset_targets"],
        failed=failed,
        error=error,
        values=request.form if request.method == "POST" else {},
        report=report,
    ), status


def _done(instance_id: int, message: str) -> Any:
    flash(message, "success")
    return redirect(url_for("ops_pages.show", instance_id=instance_id))


@bp.get("")
@allowed_by(policy.may_operate)
def index() -> Any:
    return _index()


@bp.post("/bulk")
@allowed_by(policy.may_operate)
def bulk() -> Any:
    form = request.form
    action, ids = form.get("action", ""), form.getlist("ids")
    try:
        if not ids:
            raise InvalidDataError("请至少勾选一个实例", fields={"ids": "必选"})
        extra: dict[str, Any] = {}
        if action == "migrate":  # migration always reports first; only the report confirms
            extra = {
                "version": _version(form.get("version")),
                "dry_run": form.get("confirm") != "1",
            }
        elif form.get("dry_run"):
            raise InvalidDataError("只有迁移可以试运行", fields={"action": "请选择迁移或直接执行"})
        results = bulk_results_json(
            operations().bulk(action, ids, me(), form.get("reason"), **extra)
        )
    except InvalidDataError as exc:
        return _index(exc, form, http_status(exc))
    return render_template(
        "ops/bulk_result.html",
        results=results,
        action=action,
        reason=form.get("reason", ""),
        version=extra.get("version"),
        dry_run=extra.get("dry_run", False),
        movable=[r["id"] for r in results if r["ok"]],
    )


@bp.get("/<id:instance_id>")
@allowed_by(policy.may_operate)
def show(instance_id: int) -> Any:
    return _show(instance_id)


@bp.post("/<id:instance_id>/retry")
@allowed_by(policy.may_operate)
def retry(instance_id: int) -> Any:
    try:
        data = _json_data(request.form.get("data"))
        operations().retry(instance_id, me(), request.form.get("reason"), data)
    except REFUSALS as exc:
        return _show(instance_id, "retry", exc, status=http_status(exc))
    return _done(instance_id, "已重试出错的任务")


@bp.post("/<id:instance_id>/reset")
@allowed_by(policy.may_operate)
def reset(instance_id: int) -> Any:
    task = request.form.get("task")
    try:
        operations().reset(instance_id, me(), request.form.get("reason"), task)
    except REFUSALS as exc:
        return _show(instance_id, "reset", exc, status=http_status(exc))
    return _done(instance_id, f"已回退到任务 {task}")


@bp.post("/<id:instance_id>/<any(suspend, resume, terminate):action>")
@allowed_by(policy.may_operate)
def change_state(instance_id: int, action: str) -> Any:
    verb = {"suspend": operations().suspend, "resume": operations().resume}.get(
        action, operations().terminate
    )
    try:
        verb(instance_id, me(), request.form.get("reason"))
    except REFUSALS as exc:
        return _show(instance_id, "state", exc, status=http_status(exc))
    return _done(instance_id, f"已{ACTIONS.get(action, action)}")


@bp.post("/<id:instance_id>/migrate")
@allowed_by(policy.may_operate)
def migrate(instance_id: int) -> Any:
    form = request.form
    try:
        version = _version(form.get("version"))
        dry_run = form.get("confirm") != "1"
        report = operations().migrate(
            instance_id, me(), form.get("reason"), version, dry_run=dry_run
        )
    except REFUSALS as exc:
        return _show(instance_id, "migrate", exc, status=http_status(exc))
    if dry_run:
        return _show(instance_id, report=report)
    return _done(instance_id, f"已从第 {report['from_version']} 版迁移到第 {version} 版")


@bp.post("/<id:instance_id>/timers/<id:timer_id>/fire")
@allowed_by(policy.may_operate)
def fire_timer(instance_id: int, timer_id: int) -> Any:
    reason = request.form.get("reason", "").strip()
    try:
        if not reason:
            raise InvalidDataError("请填写操作原因", fields={"reason": "必填"})
        timers().fire_timer(timer_id, actor=me(), reason=reason)
    except (*REFUSALS, NotFoundError) as exc:
        return _show(instance_id, f"timer-{timer_id}", exc, status=http_status(exc))
    return _done(instance_id, "定时器已触发")
