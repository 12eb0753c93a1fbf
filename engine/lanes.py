"""Lanes: which roles act on a user task is named by its lane's id, not by what people read.

A lane ``<bpmn:lane id="lane_unit" name="用人单位">`` keys its tasks ``unit``; engine/roles.py
says which roles act in lane ``unit``. The ``name`` is free for the Chinese the diagrams show.
A lane whose id lacks the ``lane_`` prefix (diagrams from before) is keyed by its name.
"""

from __future__ import annotations

from lxml import etree

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
LANE_ID_PREFIX = "lane_"


def lane_keys(root: etree._Element) -> dict[str, str]:
    """Flow node id -> the key of its lane, which names the roles that act there: the lane's
    id after ``lane_`` (``lane_unit`` -> ``unit``), so the lane's ``name`` is free to be what
    people read (用人单位); a lane whose id lacks the prefix is keyed by its name."""
    out: dict[str, str] = {}
    for lane in root.iter(f"{{{BPMN_NS}}}lane"):
        lane_id, name = lane.get("id") or "", lane.get("name") or ""
        key = lane_id[len(LANE_ID_PREFIX) :] if lane_id.startswith(LANE_ID_PREFIX) else name
        for ref in lane.iter(f"{{{BPMN_NS}}}flowNodeRef"):
            if ref.text:
                out[ref.text.strip()] = key
    return out
