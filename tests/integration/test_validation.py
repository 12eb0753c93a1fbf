"""Every class of problem a designer can make is reported with file, line, element, message."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from tests.samples import process, user_task

NO_LANE = process().replace(
    b'<bpmn:laneSet id="ls"><bpmn:lane id="lane_unit" name="unit">',
    b'<bpmn:laneSet id="ls"><bpmn:lane id="lane_nobody" name="unit">',
)
NO_FORM = process(
    task=user_task().replace(
        '<spiffworkflow:property name="formJsonSchemaFilename" value="review_dossier.schema.json"/>',
        "",
    )
)
MISSING_FORM = process(task=user_task(form="missing.schema.json"))
BAD_FORM_REF = process(task=user_task(form="broken.schema.json"))
XSD = process().replace(b'<bpmn:endEvent id="end"/>', b'<bpmn:endEvent id="end" bogus="1"/>')
DANGLING = process().replace(b'targetRef="end"', b'targetRef="nowhere"')
DOSSIER_BPMN = (Path(__file__).resolve().parents[2] / "bpmn" / "dossier_review.bpmn").read_bytes()
COND = DOSSIER_BPMN.replace(b'decision == "approve"', b'decision === "approve"')

CASES = [
    ("xml", b"<bpmn:definitions", {}, "xml", "line 1"),
    ("xsd", XSD, {}, "endEvent", "bogus"),
    ("dangling_flow", DANGLING, {}, "f2", "'nowhere' 不是本流程中的元素"),
    ("lane", NO_LANE, {}, "approve", "泳道"),
    ("form_property", NO_FORM, {}, "approve", "formJsonSchemaFilename"),
    ("form_missing", MISSING_FORM, {}, "approve", "找不到表单文件"),
    (
        "form_invalid_json",
        BAD_FORM_REF,
        {"broken.schema.json": b"{not json"},
        "approve",
        "不是有效的 JSON",
    ),
    (
        "form_invalid_schema",
        BAD_FORM_REF,
        {"broken.schema.json": b'{"type": "nonsense"}'},
        "approve",
        "不是有效的 JSON Schema",
    ),
    ("unregistered", process(script="y = send_email(1)"), {}, "compute", "调用了未注册的函数"),
    ("condition", COND, {}, "gw_dossier_decision", "无法编译"),
]


@pytest.mark.parametrize(
    ("case", "bpmn", "extra", "element", "words"), CASES, ids=[c[0] for c in CASES]
)
def test_validation_reports_each_problem_with_its_line(api, case, bpmn, extra, element, words):
    name = "dossier_review.bpmn" if bpmn is COND else "sample.bpmn"
    files = [(io.BytesIO(bpmn), name)]
    files += [(io.BytesIO(body), name) for name, body in extra.items()]
    r = api.post(
        "/specs/validate", "admin", data={"files": files}, content_type="multipart/form-data"
    )
    assert r.status == 200 and r.json["ok"] is False, r
    problem = r.json["problems"][0]
    assert problem["file"] == name
    assert problem["line"], problem
    if element:
        assert problem["element"] == element, problem
    assert words in problem["message"], problem


def test_valid_files_validate_ok(api):
    r = api.post(
        "/specs/validate",
        "admin",
        data={"files": [(io.BytesIO(process()), "sample.bpmn")]},
        content_type="multipart/form-data",
    )
    assert r.json == {"ok": True, "problems": []}
