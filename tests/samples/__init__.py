"""Small BPMN documents built in code for engine tests (not the real processes)."""

from __future__ import annotations

import itertools
from xml.sax.saxutils import escape

HEAD = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
    'xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" '
    'id="defs" targetNamespace="http://zhiping.test">\n'
)


def user_task(
    task_id: str = "approve",
    form: str = "review_dossier.schema.json",
    org_variable: str = "unit_org_id",
) -> str:
    return (
        f'<bpmn:userTask id="{task_id}" name="审批"><bpmn:extensionElements>'
        f"<spiffworkflow:properties>"
        f'<spiffworkflow:property name="formJsonSchemaFilename" value="{form}"/>'
        f'<spiffworkflow:property name="orgVariable" value="{org_variable}"/>'
        f"</spiffworkflow:properties></bpmn:extensionElements></bpmn:userTask>"
    )


def process(
    pid: str = "sample",
    *,
    script: str = "x = 1",
    before_task: bool = True,
    task: str | None = None,
    with_task: bool = True,
) -> bytes:
    """start -> script -> user task (lane unit) -> end, or script after the task."""
    task = task if task is not None else user_task()
    script_el = f'<bpmn:scriptTask id="compute" name="计算"><bpmn:script>{escape(script)}</bpmn:script></bpmn:scriptTask>'
    order = (
        ["start", "compute", "approve", "end"]
        if before_task
        else ["start", "approve", "compute", "end"]
    )
    if not with_task:
        order = [n for n in order if n != "approve"]
        task = ""
    flows = "".join(
        f'<bpmn:sequenceFlow id="f{i}" sourceRef="{a}" targetRef="{b}"/>'
        for i, (a, b) in enumerate(itertools.pairwise(order))
    )
    body = (
        f'<bpmn:process id="{pid}" isExecutable="true">'
        '<bpmn:laneSet id="ls"><bpmn:lane id="lane_unit" name="unit">'
        + "".join(f"<bpmn:flowNodeRef>{n}</bpmn:flowNodeRef>" for n in order)
        + "</bpmn:lane></bpmn:laneSet>"
        '<bpmn:startEvent id="start"/>'
        + script_el
        + task
        + '<bpmn:endEvent id="end"/>'
        + flows
        + "</bpmn:process>\n"
    )
    return (HEAD + body + "</bpmn:definitions>\n").encode("utf-8")


XXE = (
    b'<?xml version="1.0"?>\n<!DOCTYPE d [<!ENTITY xxe SYSTEM "file:///etc/hostname">]>\n'
    b'<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d" '
    b'targetNamespace="x"><bpmn:process id="xxe" isExecutable="true">'
    b"<bpmn:documentation>&xxe;</bpmn:documentation></bpmn:process></bpmn:definitions>"
)

BILLION_LAUGHS = (
    b'<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol "lol">'
    + b"".join(
        b'<!ENTITY lol%d "%s">' % (i, (b"&lol%d;" % (i - 1) if i > 1 else b"&lol;") * 10)
        for i in range(1, 10)
    )
    + b']>\n<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
    b'id="d" targetNamespace="x"><bpmn:process id="lolz" isExecutable="true">'
    b"<bpmn:documentation>&lol9;</bpmn:documentation></bpmn:process></bpmn:definitions>"
)
