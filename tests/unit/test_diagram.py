"""Server-side diagrams: every shape drawn, states marked, hostile ids and names escaped."""

from __future__ import annotations

from pathlib import Path

from lxml import etree

from engine.diagram import Marks, render_svg

BPMN = Path(__file__).resolve().parents[2] / "bpmn"
SVG = "{http://www.w3.org/2000/svg}"


def test_title_application_renders_every_shape_with_marks():
    xml = (BPMN / "title_application.bpmn").read_text(encoding="utf-8")
    svg = render_svg(
        xml, Marks(completed={"submit_application"}, ready={"unit_review"}, error={"open_level"})
    )
    tree = etree.fromstring(svg.encode())
    ids = {g.get("data-id"): g.get("data-state") for g in tree.iter(f"{SVG}g") if g.get("data-id")}
    assert ids["unit_review"] == "ready" and ids["submit_application"] == "completed"
    lanes_and_pool = xml.count('bpmnElement="lane_') + 1
    assert xml.count("<bpmndi:BPMNShape") - lanes_and_pool <= len(ids)
    assert "单位资格审查与公示" in svg


def test_hostile_ids_and_names_cannot_inject_markup():
    xml = (BPMN / "dossier_review.bpmn").read_text(encoding="utf-8")
    xml = xml.replace('name="审核业绩档案"', 'name="&lt;script&gt;alert(1)&lt;/script&gt;"')
    xml = xml.replace('bpmnElement="review_dossier"', 'bpmnElement="x&quot;&gt;&lt;script&gt;y"')
    svg = render_svg(xml)
    tree = etree.fromstring(svg.encode())
    assert not list(tree.iter(f"{SVG}script")) and not list(tree.iter("script"))
    assert "<script>" not in svg
