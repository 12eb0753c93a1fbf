"""Server-side SVG of a BPMN diagram from its DI layout, with an instance's path marked."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from xml.sax.saxutils import escape, quoteattr

from lxml import etree
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import select

from engine import runtime
from engine.errors import NotFoundError
from engine.runtime import parse_xml
from storage import ProcessInstance, ProcessVersion

NS = {
    "bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL",
    "bpmndi": "http://www.omg.org/spec/BPMN/20100524/DI",
    "dc": "http://www.omg.org/spec/DD/20100524/DC",
    "di": "http://www.omg.org/spec/DD/20100524/DI",
}
COLOURS = {
    "completed": ("#e8f5e9", "#2e7d32"),
    "ready": ("#e3f2fd", "#1565c0"),
    "error": ("#ffebee", "#c62828"),
    "waiting": ("#fff8e1", "#ef6c00"),
}
PLAIN = ("#ffffff", "#37474f")


@dataclass
class Marks:
    """Element ids to highlight, by state."""

    completed: set[str] = field(default_factory=set)
    ready: set[str] = field(default_factory=set)
    error: set[str] = field(default_factory=set)
    waiting: set[str] = field(default_factory=set)

    def state_of(self, element_id: str) -> str | None:
        for state in ("error", "ready", "waiting", "completed"):
            if element_id in getattr(self, state):
                return state
        return None


def _kind(root: etree._Element, element_id: str) -> tuple[str, str]:
    hits = root.xpath("//bpmn:*[@id=$id]", namespaces=NS, id=element_id)
    if not hits:
        return "unknown", ""
    el = hits[0]
    return etree.QName(el).localname, el.get("name") or ""


def _bounds(shape: etree._Element) -> tuple[float, float, float, float]:
    b = shape.find("dc:Bounds", NS)
    return tuple(float(b.get(k, 0)) for k in ("x", "y", "width", "height"))  # type: ignore[return-value]


def _text(x: float, y: float, label: str, width: float, size: int = 12) -> str:
    per_line = max(1, int(width // size))
    lines = [label[i : i + per_line] for i in range(0, len(label), per_line)][:4]
    top = y - (len(lines) - 1) * (size + 2) / 2
    return "".join(
        f'<text x="{x:.0f}" y="{top + i * (size + 2):.0f}" font-size="{size}" '
        f'text-anchor="middle" dominant-baseline="middle">{escape(line)}</text>'
        for i, line in enumerate(lines)
    )


def _shape(
    kind: str, name: str, box: tuple[float, float, float, float], state: str | None, element_id: str
) -> str:
    x, y, w, h = box
    fill, stroke = COLOURS.get(state or "", PLAIN)
    width = 3 if state in ("ready", "error") else 1.5
    attrs = f'fill="{fill}" stroke="{stroke}" stroke-width="{width}"'
    title = f"<title>{escape(name or element_id)}{' · ' + state if state else ''}</title>"
    cx, cy = x + w / 2, y + h / 2
    if kind in ("participant", "lane"):
        label = (
            f'<text x="{x + 15:.0f}" y="{cy:.0f}" font-size="12" text-anchor="middle" '
            f'dominant-baseline="middle" transform="rotate(-90 {x + 15:.0f} {cy:.0f})">'
            f"{escape(name)}</text>"
        )
        return (
            f'<g class="{kind}"><rect x="{x}" y="{y}" width="{w}" height="{h}" fill="none" '
            f'stroke="#90a4ae"/>{label}</g>'
        )
    if kind.endswith("Event"):
        ring = 3 if kind == "endEvent" else 1.5
        inner = (
            f'<circle cx="{cx}" cy="{cy}" r="{w / 2 - 4}" fill="none" stroke="{stroke}"/>'
            if kind.startswith("intermediate")
            else ""
        )
        return (
            f'<g class="{kind}" data-id={quoteattr(element_id)}>{title}<circle cx="{cx}" cy="{cy}" '
            f'r="{w / 2}" fill="{fill}" stroke="{stroke}" stroke-width="{ring if not state else width}"/>'
            f"{inner}{_text(cx, y + h + 14, name, 90, 11)}</g>"
        )
    if kind.endswith("Gateway"):
        pts = f"{cx},{y} {x + w},{cy} {cx},{y + h} {x},{cy}"
        return (
            f'<g class="{kind}" data-id={quoteattr(element_id)}>{title}<polygon points="{pts}" {attrs}/>'
            f"{_text(cx, y + h + 14, name, 100, 11)}</g>"
        )
    return (
        f'<g class="{kind}" data-id={quoteattr(element_id)} data-state="{state or ""}">{title}'
        f'<rect x="{x}" y="{y}" width="{w}" height="{h}" rx="8" {attrs}/>'
        f"{_text(cx, cy, name, w - 8)}</g>"
    )


def render_svg(bpmn_xml: str, marks: Marks | None = None) -> str:
    """The diagram as standalone SVG; marked elements are coloured by state."""
    marks = marks or Marks()
    root = parse_xml(bpmn_xml.encode("utf-8"))
    shapes, edges = [], []
    max_x = max_y = 0.0
    for shape in root.iterfind(".//bpmndi:BPMNShape", NS):
        element_id = shape.get("bpmnElement", "")
        kind, name = _kind(root, element_id)
        box = _bounds(shape)
        max_x, max_y = max(max_x, box[0] + box[2]), max(max_y, box[1] + box[3])
        layer = 0 if kind in ("participant", "lane") else 1
        shapes.append((layer, _shape(kind, name, box, marks.state_of(element_id), element_id)))
    for edge in root.iterfind(".//bpmndi:BPMNEdge", NS):
        pts = [
            (float(p.get("x", 0)), float(p.get("y", 0))) for p in edge.iterfind("di:waypoint", NS)
        ]
        if len(pts) < 2:
            continue
        kind, name = _kind(root, edge.get("bpmnElement", ""))
        path = " ".join(f"{x},{y}" for x, y in pts)
        label = (
            _text(pts[0][0] + (pts[1][0] - pts[0][0]) / 2, pts[0][1] - 8, name, 80, 10)
            if name
            else ""
        )
        edges.append(
            f'<g class="{kind}"><polyline points="{path}" fill="none" stroke="#546e7a" '
            f'stroke-width="1.3" marker-end="url(#arrow)"/>{label}</g>'
        )
    body = "".join(s for _, s in sorted(shapes, key=lambda s: s[0]) if _ == 0)
    body += "".join(edges) + "".join(s for layer, s in shapes if layer == 1)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {max_x + 40:.0f} {max_y + 40:.0f}" '
        f'width="{max_x + 40:.0f}" height="{max_y + 40:.0f}" font-family="sans-serif">'
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" '
        'markerHeight="7" orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" '
        'fill="#546e7a"/></marker></defs>' + body + "</svg>"
    )


def marks_for(task_states: Iterable[tuple[str, str]]) -> Marks:
    """Marks from (bpmn id, state name) pairs of an instance's tasks."""
    marks = Marks()
    for bpmn_id, state in task_states:
        if state == "COMPLETED":
            marks.completed.add(bpmn_id)
        elif state == "READY":
            marks.ready.add(bpmn_id)
        elif state == "ERROR":
            marks.error.add(bpmn_id)
        elif state in ("WAITING", "STARTED"):
            marks.waiting.add(bpmn_id)
    return marks


class DiagramViews:
    """Mixed into WorkflowEngine: diagrams of a version or of an instance."""

    def version_diagram(self, process_id: str, version: int) -> str:
        """The SVG of one deployed version."""
        with self._uow() as uow:
            row = uow.session.scalars(
                select(ProcessVersion).where(
                    ProcessVersion.process_id == process_id, ProcessVersion.version == version
                )
            ).first()
            if row is None:
                raise NotFoundError("没有这个流程版本")
            return render_svg(row.bpmn_xml)

    def instance_diagram(self, instance_id: int) -> str:
        """The SVG of an instance's version with its completed, ready and errored tasks."""
        with self._uow() as uow:
            inst = uow.session.get(ProcessInstance, instance_id)
            if inst is None:
                raise NotFoundError("流程实例不存在")
            self.version(uow.session, inst.process_version_id)
            wf = runtime.load(self._serializer, inst.state, None)
            states = [
                (t.task_spec.bpmn_id, TaskState.get_name(t.state))
                for t in wf.get_tasks()
                if t.task_spec.bpmn_id
            ]
            for sub in wf.subprocesses.values():
                states += [
                    (t.task_spec.bpmn_id, TaskState.get_name(t.state))
                    for t in sub.get_tasks()
                    if t.task_spec.bpmn_id
                ]
            xml = uow.session.get(ProcessVersion, inst.process_version_id).bpmn_xml
            return render_svg(xml, marks_for(states))
