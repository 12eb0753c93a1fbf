"""Validation messages a user reads: Chinese, one per JSON Schema keyword, with the field's
title; and the conditional fields (if/then) the page shows with their decision."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from engine import forms
from web.formrender import build_fields, conditions

FORMS = Path(__file__).resolve().parents[2] / "bpmn" / "forms"
SCHEMA = {
    "type": "object",
    "properties": {
        "copies": {"title": "推荐材料份数", "type": "integer", "minimum": 3, "maximum": 9},
        "name": {"title": "姓名", "type": "string", "minLength": 1, "maxLength": 4},
        "code": {"title": "编号", "type": "string", "pattern": "^[0-9]+$"},
        "day": {"title": "收件日期", "type": "string", "format": "date"},
        "pledge": {"title": "本人承诺", "type": "boolean", "const": True},
        "kind": {"title": "类别", "enum": ["a", "b"]},
        "rows": {
            "title": "论文",
            "type": "array",
            "maxItems": 1,
            "items": {
                "type": "object",
                "properties": {"title": {"title": "题目", "type": "string"}},
                "required": ["title"],
            },
        },
    },
    "required": ["name"],
    "additionalProperties": False,
}


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"copies": 2}, "copies", "「推荐材料份数」不能小于 3"),
        ({"copies": 10}, "copies", "「推荐材料份数」不能大于 9"),
        ({"copies": "两"}, "copies", "「推荐材料份数」应为整数"),
        ({}, "name", "「姓名」为必填项"),
        ({"name": ""}, "name", "「姓名」不能为空"),
        ({"name": "欧阳司马长"}, "name", "「姓名」不能超过 4 个字"),
        ({"code": "A1"}, "code", "「编号」的格式不正确"),
        ({"day": "2026/12/01"}, "day", "「收件日期」应为日期，按 年-月-日 填写，如 2026-12-01"),
        ({"pledge": False}, "pledge", "请勾选「本人承诺」"),
        ({"kind": "c"}, "kind", "「类别」的取值不在可选范围内"),
        ({"rows": [{}]}, "rows.0.title", "「题目」为必填项"),
        ({"rows": [{"title": "x"}, {"title": "y"}]}, "rows", "「论文」不能超过 1 项"),
        ({"extra": 1}, "extra", "表单中没有「extra」这一项"),
    ],
)
def test_validation_message_names_the_field_in_chinese(data, field, message):
    errors = forms.validate(SCHEMA, data if field == "name" else {"name": "张三", **data})
    assert errors[field] == message


def test_no_validation_message_carries_english():
    bad = {"copies": -1, "name": 5, "day": "x", "pledge": False, "kind": 1, "extra": True}
    for message in forms.validate(SCHEMA, bad).values():
        assert not re.search(r"[A-Za-z]{3,}", message.replace("「extra」", "")), message


def test_level_review_requires_each_reason_only_with_its_decision():
    schema = json.loads((FORMS / "level_review.schema.json").read_text())
    base = {"opinion": "意见"}
    assert forms.validate(schema, {**base, "decision": "return"}) == {
        "return_reason": "「退回原因（需修改的内容）」为必填项"
    }
    assert set(forms.validate(schema, {**base, "decision": "reject"})) == {"reject_reason"}
    approve = forms.validate(schema, {**base, "decision": "approve"})
    assert "return_reason" not in approve and "reject_reason" not in approve


def test_conditions_tie_fields_to_the_decision_that_needs_them():
    schema = json.loads((FORMS / "unit_review.schema.json").read_text())
    found = conditions(schema)
    assert found["return_reason"] == [("decision", "return", True)]
    assert ("decision", "approve", True) in found["publicity_start"]
    assert found["publicity_objections"] == [("decision", "approve", False)]
    assert "opinion" not in found and "marks" not in found


def test_rendered_fields_carry_their_decision_and_star():
    schema = json.loads((FORMS / "level_review.schema.json").read_text())
    fields = {f.name: f for f in build_fields(schema, {}, {}, {})}
    assert fields["reject_reason"].show_when == [["decision", "reject"]]
    assert fields["reject_reason"].required_with == ["评审不通过"]
    assert not fields["reject_reason"].required and fields["opinion"].required
    assert fields["opinion"].show_when == []
    assert [t for _v, t in fields["decision"].options] == ["审查通过", "退回", "评审不通过"]


def test_dependent_required_is_validated_with_the_missing_fields_title():
    schema = {
        "type": "object",
        "properties": {
            "start": {"title": "开始日期", "type": "string"},
            "end": {"title": "结束日期", "type": "string"},
        },
        "dependentRequired": {"start": ["end"]},
    }
    assert forms.validate(schema, {"start": "2026-12-01"}) == {"end": "「结束日期」为必填项"}
    assert forms.schema_problem(json.dumps(schema)) is None
