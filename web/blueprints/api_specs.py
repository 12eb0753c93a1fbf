"""Process definitions for designers: list, validate, deploy, promote, start a bare instance.

Who may manage definitions is the engine's rule ``may_deploy`` (designers and admins)."""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import Any

from flask import Blueprint, Response, jsonify, request
from werkzeug.exceptions import BadRequest

from engine import ForbiddenError, InvalidDataError, may_deploy
from web.api_schemas import Reply, page, ref, svg
from web.blueprints._common import actor, deployments, json_body, operations

bp = Blueprint("specs", __name__, url_prefix="/specs")

OBJ = {"type": "object"}
FILES = {
    "type": "object",
    "properties": {"files": {"type": "array", "items": {"type": "string", "format": "binary"}}},
}
DOCS = [
    (
        "get",
        "/specs",
        "Deployed process versions, `current` marking the one new instances start on",
        "designers",
        False,
        None,
        page("Version"),
    ),
    (
        "post",
        "/specs/validate",
        "Validate .bpmn/.dmn/.json files (multipart `files`)",
        "designers",
        False,
        FILES,
        ref("Validation"),
    ),
    (
        "post",
        "/specs/deploy",
        "Deploy files (designers, admins): new content becomes a new, current version (201). "
        "Content identical to a stored version is a no-op answering 200 with that version; "
        '`"current": false` then says it is not the version new instances start on (use promote)',
        "designers",
        False,
        FILES,
        Reply("201", ref("Deployment"), also=("200",)),
    ),
    (
        "post",
        "/specs/{process_id}/{version}/promote",
        "Make a stored version current (designers, admins): new instances start on it from now "
        "on; rolls back a bad deploy. `reason` required (422); audited with from/to version; "
        "404 unknown process or version",
        "designers",
        False,
        {
            "type": "object",
            "required": ["reason"],
            "properties": {"reason": {"type": "string", "minLength": 1}},
        },
        ref("Promotion"),
    ),
    (
        "post",
        "/specs/{process_id}/instances",
        "Start a bare instance (admin)",
        "designers",
        False,
        {"type": "object", "properties": {"data": OBJ, "version": {"type": "integer"}}},
        Reply("201", ref("InstanceStarted")),
    ),
    (
        "get",
        "/specs/{process_id}/{version}/files",
        "The files of a version as deployed (designers, admins): `files` maps file names to "
        "their text, `<process_id>.bpmn` and the form files it uses; edit and deploy them again "
        "to make a new version. 404 unknown process or version",
        "designers",
        False,
        None,
        ref("VersionFiles"),
    ),
    (
        "get",
        "/specs/{process_id}/{version}/diagram.svg",
        "The diagram of a version (SVG)",
        "designers",
        False,
        None,
        svg(),
    ),
]
MAX_FILES = 50


def _designer() -> Any:
    who = actor()
    if not may_deploy(who):
        raise ForbiddenError("只有流程设计人员和平台管理员可以管理流程定义")
    return who


def _uploaded() -> dict[str, bytes]:
    uploads = request.files.getlist("files") or request.files.getlist("file")
    if not uploads:
        raise BadRequest('需要 multipart 字段 "files"')
    if len(uploads) > MAX_FILES:
        raise BadRequest(f"一次最多上传 {MAX_FILES} 个文件")
    out = {}
    for upload in uploads:
        name = PurePosixPath((upload.filename or "").replace("\\", "/")).name
        if not name.endswith((".bpmn", ".dmn", ".json")):
            raise InvalidDataError(
                "只接受 .bpmn、.dmn、.json 文件", fields={name or "files": "不支持的文件类型"}
            )
        out[name] = upload.read()
    return out


@bp.get("")
def index() -> Any:
    _designer()
    rows = deployments().list_versions()
    return jsonify({"items": rows, "total": len(rows)})


@bp.post("/validate")
def validate() -> Any:
    _designer()
    problems = deployments().validate(_uploaded())
    return jsonify({"ok": not problems, "problems": problems})


@bp.post("/deploy")
def deploy() -> Any:
    who = _designer()
    rows = deployments().deploy(_uploaded(), actor=who.username)
    status = 201 if any(r["created"] for r in rows) else 200
    return jsonify({"versions": rows}), status


@bp.post("/<process_id>/<id:version>/promote")
def promote(process_id: str, version: int) -> Any:
    who = _designer()
    body = json_body()
    return jsonify(deployments().promote(process_id, version, actor=who, reason=body.get("reason")))


@bp.post("/<process_id>/instances")
def start(process_id: str) -> Any:
    body = json_body() if request.data else {}
    data = body.get("data", {})
    version = body.get("version")
    if not isinstance(data, dict) or (version is not None and not isinstance(version, int)):
        raise BadRequest('"data" 必须是对象，"version" 必须是整数')
    inst_id = operations().start_bare(process_id, data, actor=actor(), version=version)
    return jsonify({"instance_id": str(inst_id)}), 201


@bp.get("/<process_id>/<id:version>/diagram.svg")
def diagram(process_id: str, version: int) -> Any:
    actor()
    svg = deployments().version_diagram(process_id, version)
    return Response(svg, mimetype="image/svg+xml")


@bp.get("/<process_id>/<id:version>/files")
def files(process_id: str, version: int) -> Any:
    _designer()
    return jsonify(deployments().version_source(process_id, version))
