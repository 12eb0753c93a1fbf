"""A user task's lane key (which roles act there) comes from the lane's id; its name is what
people read on the diagram."""

from __future__ import annotations

from pathlib import Path

from engine import runtime
from engine.diagram import render_svg
from engine.lanes import lane_keys

BPMN_DIR = Path(__file__).resolve().parents[2] / "bpmn"
NS = 'xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"'


def _lanes(*lanes: str) -> bytes:
    return (
        f'<bpmn:definitions {NS}><bpmn:process id="p"><bpmn:laneSet id="ls">'
        + "".join(lanes)
        + "</bpmn:laneSet></bpmn:process></bpmn:definitions>"
    ).encode()


def test_the_lane_id_names_the_role_and_the_name_is_free_for_people():
    root = runtime.parse_xml(
        _lanes(
            '<bpmn:lane id="lane_unit" name="用人单位"><bpmn:flowNodeRef>a</bpmn:flowNodeRef>'
            "</bpmn:lane>",
            '<bpmn:lane id="Lane_1" name="reviewer"><bpmn:flowNodeRef>b</bpmn:flowNodeRef>'
            "</bpmn:lane>",
        )
    )
    # an id without the lane_ prefix (diagrams from before) keeps keying by the name
    assert lane_keys(root) == {"a": "unit", "b": "reviewer"}


def test_the_real_diagrams_show_chinese_lanes_and_key_their_tasks_by_role():
    path = BPMN_DIR / "title_application.bpmn"
    root = runtime.parse_xml(path.read_bytes())
    loaded = runtime.load_spec("title_application", root, path.name)
    lanes = {meta.lane for meta in loaded.user_tasks.values()}
    assert lanes == {"applicant", "unit", "reviewer", "expert"}
    svg = render_svg(path.read_text(encoding="utf-8"))
    for name in ("申报人", "用人单位", "审查部门", "平台", "评审专家"):
        assert name in svg
    for key in ("applicant", "reviewer", "platform", "expert"):
        assert f">{key}<" not in svg
