"""The designers' BPMN modeler: edit a deployed version (or a new diagram) in the browser with
the vendored bpmn-js, validate it and deploy it as a new version. Designers and admins only
(engine policy ``may_deploy``); the upload page stays as it is.

The page posts JSON (CSRF token in the ``X-CSRFToken`` header) and reads JSON back. The form
files of the version the diagram was opened from go along with the edited XML, so a deploy from
the editor is complete; a new diagram gets the form files of the bpmn directory."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, render_template
from lxml import etree
from werkzeug.exceptions import BadRequest

from engine import DeployError, NotFoundError, may_deploy
from web.blueprints._common import deployments, designer_files
from web.blueprints._page_common import allowed_by, me
from web.errors import http_status
from web.input_guard import request_json

bp = Blueprint("modeler_pages", __name__, url_prefix="/admin/processes")

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
XML_PARSER = etree.XMLParser(
    resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False
)
OPS = ("validate", "deploy")


def _page(source: dict[str, Any] | None) -> Any:
    """The modeler, holding a version's files (or the starting diagram when None)."""
    forms = set(designer_files().fallback_forms())
    if source is None:
        xml = render_template("designer/starter.bpmn")
    else:
        own = f"{source['process_id']}.bpmn"
        xml = source["files"][own]
        forms |= set(source["files"]) - {own}
    return render_template(
        "designer/modeler.html",
        source=source,
        xml=xml,
        forms=sorted(forms),
        versions=deployments().list_versions(),
    )


@bp.get("/modeler")
@allowed_by(may_deploy)
def new_diagram() -> Any:
    return _page(None)


@bp.get("/<process_id>/<id:version>/modeler")
@allowed_by(may_deploy)
def edit(process_id: str, version: int) -> Any:
    return _page(deployments().version_source(process_id, version))


def _problem(message: str, line: int | None = None, element: str = "-") -> dict[str, Any]:
    return {"file": "-", "line": line, "element": element, "message": message}


def _refused(status: int, error: str, problems: list[dict[str, Any]] | None = None) -> Any:
    body = {"ok": False, "error": error, "problems": problems or [], "versions": []}
    return jsonify(body), status


def _executable_ids(xml: bytes) -> list[str]:
    """Ids of the executable processes; XMLSyntaxError/ValueError when it is not BPMN XML."""
    root = etree.fromstring(xml, XML_PARSER)
    if root.getroottree().docinfo.internalDTD is not None:
        raise ValueError("不允许 DOCTYPE/ENTITY 声明")
    if root.tag != f"{{{BPMN_NS}}}definitions":
        raise ValueError("根元素不是 BPMN 2.0 的 definitions")
    return [
        p.get("id") or ""
        for p in root.iter(f"{{{BPMN_NS}}}process")
        if p.get("isExecutable") == "true"
    ]


def _base_forms(base: Any) -> dict[str, bytes]:
    """The form files of the version the diagram was opened from ({} for a new diagram)."""
    if base is None:
        return {}
    if not isinstance(base, dict) or not isinstance(base.get("process_id"), str):
        raise ValueError("base")
    version = base.get("version")
    if not isinstance(version, int) or isinstance(version, bool):
        raise ValueError("base")
    source = deployments().version_source(base["process_id"], version)
    own = f"{source['process_id']}.bpmn"
    return {n: t.encode("utf-8") for n, t in source["files"].items() if n != own}


@bp.post("/modeler")
@allowed_by(may_deploy)
def check_or_deploy() -> Any:
    try:
        body = request_json()
    except BadRequest:
        body = None
    if not isinstance(body, dict) or body.get("op") not in OPS:
        return _refused(400, "请求格式不正确：需要 op（validate 或 deploy）和 xml")
    xml = body.get("xml")
    if not isinstance(xml, str) or not xml.strip():
        return _refused(422, "流程图为空，无法校验或发布")
    data = xml.encode("utf-8")
    try:
        ids = _executable_ids(data)
    except etree.XMLSyntaxError as exc:
        where = f"第 {exc.lineno} 行" if exc.lineno else "开头"
        message = f"BPMN 文件不是格式正确的 XML（{where}）：{exc.msg}"
        return _refused(422, message, [_problem(message, exc.lineno, "xml")])
    except ValueError as exc:
        message = f"不是可用的 BPMN 文件：{exc}"
        return _refused(422, message, [_problem(message, 1, "xml")])
    if len(ids) != 1:
        message = f"流程图需要恰好一个可执行流程（isExecutable），现有 {len(ids)} 个"
        return _refused(422, message, [_problem(message, None, "process")])
    try:
        files = {**_base_forms(body.get("base")), f"{ids[0]}.bpmn": data}
    except ValueError:
        return _refused(400, "请求格式不正确：base 需要 process_id（文本）和 version（整数）")
    except NotFoundError:
        return _refused(404, "打开的流程版本不存在，请从流程定义页重新打开")
    if body["op"] == "validate":
        problems = deployments().validate(files)
        return jsonify({"ok": not problems, "problems": problems, "versions": []})
    try:
        rows = deployments().deploy(files, actor=me().username)
    except DeployError as exc:
        return _refused(http_status(exc), f"发现 {len(exc.problems)} 个问题，未发布", exc.problems)
    status = 201 if any(r["created"] for r in rows) else 200
    return jsonify({"ok": True, "problems": [], "versions": rows}), status
