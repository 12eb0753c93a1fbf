"""Form rendering (web/formrender.py) on its own: schema -> fields, posted fields -> data.

No Flask app and no database: the functions take a schema and plain values. The schemas are
the real forms of bpmn/forms/ where one shows the point, small ones otherwise.
"""

from __future__ import annotations

import json
from pathlib import Path

from werkzeug.datastructures import MultiDict

from web.formrender import (
    BLANK_ROWS,
    ROW_DELETE,
    ROW_PLACEHOLDER,
    build_fields,
    error_key,
    file_ids,
    mark_notes,
    parse_form,
    unplaced_errors,
)

FORMS = Path(__file__).resolve().parents[2] / "bpmn" / "forms"


def form(name: str) -> dict:
    return json.loads((FORMS / name).read_text(encoding="utf-8"))


PAPERS = {
    "type": "object",
    "properties": {
        "papers": {
            "type": "array",
            "title": "论文",
            "items": {
                "type": "object",
                "required": ["title"],
                "properties": {
                    "title": {"type": "string", "title": "题目"},
                    "rank": {"type": "integer", "title": "排名"},
                    "kind": {"type": "string", "title": "类别", "enum": ["期刊", "会议"]},
                },
            },
        }
    },
}

KINDS = {
    "type": "object",
    "required": ["name"],
    "properties": {
        "name": {"type": "string", "title": "姓名"},
        "summary": {"type": "string", "title": "摘要", "maxLength": 2000},
        "note": {"type": "string"},
        "born": {"type": "string", "format": "date", "title": "出生日期"},
        "photo": {"type": "string", "format": "file-id", "title": "照片"},
        "scans": {"type": "array", "items": {"type": "string", "format": "file-id"}},
        "grade": {"type": "string", "enum": ["优秀", "合格", "不合格"]},
        "degree": {"type": "string", "enum": ["博士", "硕士", "本科", "大专", "中专"]},
        "hours": {"type": ["integer", "null"]},
        "score": {"type": "number"},
        "pledge": {"type": "boolean"},
        "tags": {"type": "array", "items": {"type": "string"}},
        "areas": {"type": "array", "items": {"type": "string", "enum": ["水利", "电力"]}},
        "title": {
            "type": "object",
            "title": "现任职称",
            "properties": {"name": {"type": "string", "title": "名称"}},
        },
    },
}


def by_name(fields):
    return {f.name: f for f in fields}


def test_each_schema_type_gets_its_widget():
    kinds = {
        f.name: f.kind for f in build_fields(KINDS, {"note": {"ui:widget": "textarea"}}, {}, {})
    }
    assert kinds == {
        "name": "text",
        "summary": "textarea",  # long texts get a text area
        "note": "textarea",  # ... and so does a field the ui schema asks for
        "born": "date",
        "photo": "file",
        "scans": "files",
        "grade": "radio",  # up to four choices
        "degree": "select",  # more than four
        "hours": "integer",  # a nullable type is its non-null type
        "score": "number",
        "pledge": "checkbox",
        "tags": "list",
        "areas": "multiselect",
        "title": "object",
    }


def test_fields_follow_the_ui_order_then_the_schema_order_with_titles_and_required():
    fields = build_fields(KINDS, {"ui:order": ["pledge", "name", "missing"]}, {}, {})
    assert [f.name for f in fields][:3] == ["pledge", "name", "summary"]
    named = by_name(fields)
    assert named["name"].required and not named["summary"].required
    assert named["name"].title == "姓名"
    assert named["note"].title == "note"  # no title: the key stands in
    assert named["grade"].options == [("优秀", "优秀"), ("合格", "合格"), ("不合格", "不合格")]


def test_values_and_errors_reach_their_fields_nested_ones_too():
    values = {"name": "王五", "title": {"name": "工程师"}}
    errors = {"name": "必填 (required)", "title.name": "不能为空 (must not be empty)"}
    named = by_name(build_fields(KINDS, None, values, errors))
    assert named["name"].value == "王五" and named["name"].error == "必填 (required)"
    (child,) = named["title"].children
    assert (child.name, child.value, child.error) == ("title.name", "工程师", errors["title.name"])


def test_real_forms_render_with_chinese_titles_and_one_of_choices():
    schema, ui = form("level_review.schema.json"), form("level_review.ui.json")
    named = by_name(build_fields(schema, ui, {"decision": "approve"}, {}))
    assert list(named) == ui["ui:order"]
    decision = named["decision"]
    assert decision.kind == "radio" and decision.value == "approve" and decision.required
    assert [value for value, _ in decision.options] == [
        o["const"] for o in schema["properties"]["decision"]["oneOf"]
    ]
    assert all(f.title != f.name for f in named.values())


def test_a_table_shows_its_rows_two_blank_ones_and_a_template_row():
    rows = [{"title": "论堤防渗流", "rank": 1, "kind": "期刊"}]
    errors = {"papers.0.title": "必填 (required)"}
    (table,) = build_fields(PAPERS, None, {"papers": rows}, errors)
    assert table.kind == "table"
    assert len(table.rows) == len(rows) + BLANK_ROWS
    first = by_name(table.rows[0])
    assert first["papers[0].title"].value == "论堤防渗流"
    assert first["papers[0].title"].error == "必填 (required)"  # 'papers.0.title' as rendered
    assert first["papers[0].kind"].kind == "select"  # radios read badly in a narrow cell
    assert all(f.value is None for f in table.rows[1])
    assert [f.name for f in table.template_row] == [
        f"papers[{ROW_PLACEHOLDER}].{k}" for k in ("title", "rank", "kind")
    ]
    assert [f.name for f in table.children] == ["title", "rank", "kind"]  # the header


def test_a_table_value_that_is_not_a_list_shows_blank_rows_only():
    (table,) = build_fields(PAPERS, None, {"papers": "oops"}, {})
    assert len(table.rows) == BLANK_ROWS


def test_errors_no_field_shows_are_listed_apart():
    fields = build_fields(PAPERS, None, {"papers": [{"title": "x"}]}, {})
    errors = {
        "papers.0.title": "shown in the cell",
        "papers": "shown on the table",
        "_form": "a cross-field rule",
        "extra": "表单中没有这个字段 (unknown field)",
    }
    assert unplaced_errors(fields, errors) == {
        "_form": "a cross-field rule",
        "extra": "表单中没有这个字段 (unknown field)",
    }
    assert error_key("papers[12].title") == "papers.12.title"


def test_posted_fields_become_typed_json_and_blank_ones_are_left_out():
    posted = MultiDict(
        [
            ("name", "王五"),
            ("summary", ""),
            ("hours", "60"),
            ("score", "4.5"),
            ("pledge", "on"),
            ("tags", "a"),
            ("tags", ""),
            ("tags", "b"),
            ("areas", "水利"),
            ("title.name", "工程师"),
            ("photo", "f-old"),
            ("photo", "f-new"),  # a fresh upload comes after the kept value and wins
            ("scans", "f-1"),
            ("scans", "f-2"),
        ]
    )
    assert parse_form(KINDS, posted) == {
        "name": "王五",
        "hours": 60,
        "score": 4.5,
        "pledge": True,
        "tags": ["a", "b"],
        "areas": ["水利"],
        "title": {"name": "工程师"},
        "photo": "f-new",
        "scans": ["f-1", "f-2"],
    }


def test_unticked_checkbox_is_false_and_empty_lists_stay_lists():
    assert parse_form(KINDS, MultiDict()) == {"pledge": False, "tags": [], "areas": [], "scans": []}


def test_numbers_that_do_not_read_stay_text_for_the_schema_to_refuse():
    posted = MultiDict([("hours", "sixty"), ("score", "nan"), ("pledge", "no")])
    data = parse_form(KINDS, posted)
    assert data["hours"] == "sixty"
    assert data["score"] == "nan"  # float("nan") would read; the schema must see the text
    assert parse_form(KINDS, MultiDict([("score", "inf")]))["score"] == "inf"
    assert parse_form(KINDS, MultiDict([("score", "7")]))["score"] == 7
    assert data["pledge"] is False


def test_table_rows_come_back_in_order_without_blank_or_deleted_rows():
    posted = MultiDict(
        [
            ("papers[2].title", "第三篇"),
            ("papers[0].title", "第一篇"),
            ("papers[0].rank", "1"),
            ("papers[1].title", "删掉的"),
            (f"papers[1].{ROW_DELETE}", "on"),
            ("papers[3].title", ""),  # a blank row
            (f"papers[{ROW_PLACEHOLDER}].title", "the template row is never data"),
        ]
    )
    assert parse_form(PAPERS, posted) == {
        "papers": [{"title": "第一篇", "rank": 1}, {"title": "第三篇"}]
    }


def test_file_ids_are_found_at_any_depth():
    schema = {
        "type": "object",
        "properties": {
            "scan": {"type": "string", "format": "file-id"},
            "more": {"type": "array", "items": {"type": "string", "format": "file-id"}},
            "rows": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {"proof": {"type": "string", "format": "file-id"}},
                },
            },
        },
    }
    value = {"scan": "f-1", "more": ["f-2", ""], "rows": [{"proof": "f-3"}, {"proof": None}]}
    assert file_ids(schema, value) == ["f-1", "f-2", "f-3"]
    assert file_ids(schema, None) == []


def test_return_marks_become_notes_beside_the_fields_they_name():
    schema = form("dossier.schema.json")
    marks = [
        {"path": "/dossier/highest_education", "note": "与证书不符"},
        {"path": "/dossier/highest_education", "note": "请核对"},
        {"path": "/dossier/papers/0", "note": "期刊不在目录"},  # a whole row: its first cell
        {"path": "/form/work_summary", "note": "another root"},
        {"path": 7, "note": "not a path"},
    ]
    notes = mark_notes(marks, schema, "dossier")
    first_paper_field = next(iter(schema["properties"]["papers"]["items"]["properties"]))
    assert notes == {
        "highest_education": "退回标记：与证书不符；退回标记：请核对",
        f"papers.0.{first_paper_field}": "退回标记：期刊不在目录",
    }
