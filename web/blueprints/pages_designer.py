"""Process designers' pages: deployed versions (make one current again), a version's diagram,
upload to validate or deploy. Designers and admins only (engine policy ``may_deploy``)."""

from __future__ import annotations

import json
import logging
import re
import secrets
import time
from pathlib import Path, PurePosixPath
from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from lxml import etree
from markupsafe import Markup

from engine import DeployError, InvalidDataError, may_deploy
from web.blueprints._common import deployments
from web.blueprints._page_common import allowed_by, me
from web.errors import http_status

bp = Blueprint("designer_pages", __name__, url_prefix="/admin/processes")
log = logging.getLogger(__name__)

SUFFIXES = (".bpmn", ".dmn", ".json")
_TOKEN = re.compile(r"[A-Za-z0-9_-]{24}")
MAX_FILES = 50
SVG_NS = "{http://www.w3.org/2000/svg}"
# What engine/diagram.py draws; anything else (script, foreignObject, on* handlers, links)
# means the text was not escaped somewhere, so it is not embedded.
SVG_TAGS = {
    "svg", "defs", "marker", "path", "g", "title", "rect", "circle", "polygon", "polyline", "text",
}  # fmt: skip
SVG_ATTRS = {
    "xmlns", "viewBox", "width", "height", "font-family", "id", "refX", "refY", "markerWidth",
    "markerHeight", "orient", "d", "fill", "stroke", "stroke-width", "class", "x", "y", "rx",
    "cx", "cy", "r", "points", "font-size", "text-anchor", "dominant-baseline", "transform",
    "marker-end", "data-id", "data-state",
}  # fmt: skip
SVG_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)


def inline_svg(svg: str) -> Markup:
    """Server-drawn SVG, re-serialized after checking it holds only drawing elements."""
    try:
        root = etree.fromstring(svg.encode("utf-8"), parser=SVG_PARSER)
    except etree.XMLSyntaxError:
        log.warning("diagram SVG is not well-formed; not embedded")
        return Markup('<p class="error">流程图无法显示（图形数据有误）</p>')
    for el in root.iter():
        tag = el.tag if isinstance(el.tag, str) else ""
        bad_tag = not tag.startswith(SVG_NS) or tag.removeprefix(SVG_NS) not in SVG_TAGS
        if bad_tag or set(el.attrib) - SVG_ATTRS:
            log.warning("diagram SVG holds %s %s; not embedded", tag, sorted(el.attrib))
            return Markup('<p class="error">流程图包含不允许的内容，无法显示</p>')
    if root.find(f"{SVG_NS}g") is None:
        return Markup('<p class="muted">流程文件没有图形布局（BPMN DI），无法绘制流程图。</p>')
    return Markup(etree.tostring(root, encoding="unicode"))


def _uploaded() -> dict[str, bytes]:
    uploads = [f for f in request.files.getlist("files") if f and f.filename]
    if not uploads:
        raise InvalidDataError("请选择要上传的文件", fields={"files": "必填"})
    if len(uploads) > MAX_FILES:
        raise InvalidDataError(
            f"一次最多上传 {MAX_FILES} 个文件", fields={"files": f"最多 {MAX_FILES} 个文件"}
        )
    out = {}
    for upload in uploads:
        name = PurePosixPath((upload.filename or "").replace("\\", "/")).name
        if not name.endswith(SUFFIXES):
            raise InvalidDataError(
                f"只接受 .bpmn、.dmn、.json 文件：{name}", fields={"files": "不支持的文件类型"}
            )
        out[name] = upload.read()
    return out


def _index(failed: tuple[str, int] | None = None, error: InvalidDataError | None = None) -> Any:
    return render_template(
        "designer/index.html",
        versions=deployments().list_versions(),
        failed=failed,
        error=error,
        values=request.form if failed else {},
    ), (http_status(error) if error else 200)


@bp.get("")
@allowed_by(may_deploy)
def index() -> Any:
    return _index()


@bp.post("/<process_id>/<id:version>/promote")
@allowed_by(may_deploy)
def promote(process_id: str, version: int) -> Any:
    try:
        result = deployments().promote(
            process_id, version, actor=me(), reason=request.form.get("reason")
        )
    except InvalidDataError as exc:
        return _index((process_id, version), exc)
    if result["changed"]:
        flash(
            f"新发起的流程将使用第 {version} 版（原为第 {result['previous_version']} 版）",
            "success",
        )
    else:
        flash(f"第 {version} 版已是当前版本", "success")
    return redirect(url_for("designer_pages.index", _anchor=f"process-{process_id}"))


@bp.get("/<process_id>/<id:version>")
@allowed_by(may_deploy)
def diagram(process_id: str, version: int) -> Any:
    svg = inline_svg(deployments().version_diagram(process_id, version))
    rows = [
        v
        for v in deployments().list_versions()
        if v["process_id"] == process_id and v["version"] == version
    ]
    return render_template(
        "designer/diagram.html",
        svg=svg,
        process_id=process_id,
        version=version,
        row=rows[0] if rows else None,
    )


# Files that passed 校验 wait here (one JSON file per token, for the designer who uploaded
# them) so that 发布 needs no second pick; the deploy validates them again anyway.
STAGED_TTL_SECONDS = 3600


def _staging_dir() -> Path:
    folder = Path(current_app.config["FILES_DIR"]) / "staged-deploys"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _stage(files: dict[str, bytes]) -> str:
    token = secrets.token_urlsafe(18)
    for old in _staging_dir().glob("*.json"):  # sweep what nobody deployed
        if time.time() - old.stat().st_mtime > STAGED_TTL_SECONDS:
            old.unlink(missing_ok=True)
    body = {
        "user_id": me().id,
        "files": {n: b.decode("utf-8", "replace") for n, b in files.items()},
    }
    (_staging_dir() / f"{token}.json").write_text(json.dumps(body, ensure_ascii=False), "utf-8")
    return token


def _staged(token: str) -> dict[str, bytes]:
    path = _staging_dir() / f"{token}.json"
    fresh = path.is_file() and time.time() - path.stat().st_mtime <= STAGED_TTL_SECONDS
    body = json.loads(path.read_text("utf-8")) if fresh and _TOKEN.fullmatch(token) else None
    if body is None or body.get("user_id") != me().id:
        raise InvalidDataError(
            "校验结果已过期或不属于您，请重新选择文件",
            fields={"files": "校验结果已过期，请重新选择文件"},
        )
    return {name: text.encode("utf-8") for name, text in body["files"].items()}


def _unstage(token: str) -> None:
    if token and _TOKEN.fullmatch(token):
        (_staging_dir() / f"{token}.json").unlink(missing_ok=True)


@bp.get("/upload")
@allowed_by(may_deploy)
def upload() -> Any:
    return render_template("designer/upload.html", outcome=None)


@bp.post("/upload")
@allowed_by(may_deploy)
def check_or_deploy() -> Any:
    op = "deploy" if request.form.get("op") == "deploy" else "validate"
    outcome: dict[str, Any] = {"op": op, "files": [], "problems": [], "versions": [], "error": None}
    outcome["staged"] = None
    status = 200
    token = request.form.get("staged", "")
    try:
        picked = [f for f in request.files.getlist("files") if f and f.filename]
        files = _uploaded() if picked or not token else _staged(token)
        outcome["files"] = sorted(files)
        if op == "deploy":
            outcome["versions"] = deployments().deploy(files, actor=me().username)
            _unstage(token)
        else:
            outcome["problems"] = deployments().validate(files)
            if not outcome["problems"]:
                outcome["staged"] = _stage(files)
    except DeployError as exc:
        outcome["problems"], status = exc.problems, http_status(exc)
    except InvalidDataError as exc:
        outcome["error"], status = exc.message, http_status(exc)
    return render_template("designer/upload.html", outcome=outcome), status
