"""JSON Schema forms: one schema validates on the server, renders in the web, ships in the API."""

from __future__ import annotations

import json
from collections.abc import Mapping
from copy import deepcopy
from functools import lru_cache
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import SchemaError

from engine.errors import InvalidDataError
from engine.workdays import parse_date

FORMAT_CHECKER = FormatChecker()


@FORMAT_CHECKER.checks("date", raises=ValueError)
def _is_date(value: object) -> bool:
    """Strict YYYY-MM-DD, the one date rule of every form; date.fromisoformat alone also
    takes week dates ('2026-W49-1') and compact ones ('20261201')."""
    if isinstance(value, str):
        parse_date(value)
    return True


def json_object(text: str, what: str) -> tuple[dict[str, Any], str | None]:
    """The JSON object a file holds, or ({}, why it holds none)."""
    try:
        doc = json.loads(text)
    except ValueError as exc:
        return {}, f"不是有效的 JSON：{exc}"
    if not isinstance(doc, dict):
        return {}, f"{what} 须为 JSON 对象"
    return doc, None


@lru_cache(maxsize=256)
def schema_problem(text: str) -> str | None:
    """Why a form file is not a usable JSON Schema, or None (cached per text: a deploy checks
    the same form files each time)."""
    schema, problem = json_object(text, "a form schema")
    if problem:
        return problem
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as exc:
        return f"不是有效的 JSON Schema：{exc.message}"
    return None


def _missing_name(error: Any) -> str:
    """The property a 'required' / 'dependentRequired' error is about (its first quoted name)."""
    return error.message.split("'")[1] if "'" in error.message else ""


def _field_of(error: Any) -> str:
    path = [str(p) for p in error.absolute_path]
    if error.validator in ("required", "dependentRequired", "additionalProperties"):
        path.append(_missing_name(error))
    return ".".join(p for p in path if p) or "_form"


def _title(schema: Mapping, field: str) -> str:
    """The title a user reads for a field path ('papers.0.title'), or the field name."""
    prop: Any = schema
    for part in field.split("."):
        if not isinstance(prop, Mapping):
            return field
        prop = prop.get("items") if part.isdigit() else (prop.get("properties") or {}).get(part)
    if isinstance(prop, Mapping) and prop.get("title"):
        return str(prop["title"])
    return field.rsplit(".", 1)[-1]


TYPE_WORDS = {
    "string": "文字",
    "integer": "整数",
    "number": "数字",
    "boolean": "是或否",
    "array": "列表",
    "object": "一组字段",
    "null": "空值",
}
# One Chinese sentence per JSON Schema keyword: 「title」 + what the value must be.
KEYWORD_MESSAGES = {
    "required": "「{t}」为必填项",
    "dependentRequired": "「{t}」为必填项",
    "additionalProperties": "表单中没有「{t}」这一项",
    "enum": "「{t}」的取值不在可选范围内",
    "oneOf": "「{t}」的取值不在可选范围内",
    "anyOf": "「{t}」的取值不符合要求",
    "minimum": "「{t}」不能小于 {v}",
    "maximum": "「{t}」不能大于 {v}",
    "exclusiveMinimum": "「{t}」必须大于 {v}",
    "exclusiveMaximum": "「{t}」必须小于 {v}",
    "multipleOf": "「{t}」必须是 {v} 的整数倍",
    "minLength": "「{t}」至少 {v} 个字",
    "maxLength": "「{t}」不能超过 {v} 个字",
    "pattern": "「{t}」的格式不正确",
    "minItems": "「{t}」至少填写 {v} 项",
    "maxItems": "「{t}」不能超过 {v} 项",
    "uniqueItems": "「{t}」中有重复的项",
    "minProperties": "「{t}」至少填写 {v} 项",
    "maxProperties": "「{t}」不能超过 {v} 项",
}


def _message(error: Any, schema: Mapping, field: str) -> str:
    title = _title(schema, field) if field != "_form" else "表单"
    keyword, value = error.validator, error.validator_value
    if keyword == "const":
        return f"请勾选「{title}」" if value is True else f"「{title}」的取值不在可选范围内"
    if keyword == "type":
        kinds = value if isinstance(value, list) else [value]
        words = "或".join(TYPE_WORDS.get(k, "正确的类型") for k in kinds if k != "null")
        return f"「{title}」应为{words or '空值'}"
    if keyword == "format":
        if value == "date":
            return f"「{title}」应为日期，按 年-月-日 填写，如 2026-12-01"
        return f"「{title}」的格式不正确"
    if keyword == "minLength" and value == 1:
        return f"「{title}」不能为空"
    template = KEYWORD_MESSAGES.get(keyword, "「{t}」不符合要求")
    return template.format(t=title, v=value)


def validate(schema: Mapping, data: Any) -> dict[str, str]:
    """Validate data against a form schema; map each error to its field."""
    validator = Draft202012Validator(schema, format_checker=FORMAT_CHECKER)
    fields: dict[str, str] = {}
    for error in sorted(validator.iter_errors(data), key=lambda e: list(e.absolute_path)):
        field = _field_of(error)
        fields.setdefault(field, _message(error, schema, field))
    return fields


def check(schema: Mapping, data: Any) -> None:
    """Raise InvalidDataError with per-field messages when data fails the schema."""
    if not isinstance(data, dict):
        raise InvalidDataError("表单数据必须是 JSON 对象", fields={"_form": "应为一组字段"})
    fields = validate(schema, data)
    if fields:
        raise InvalidDataError("表单数据有误，请按提示修改", fields=fields)


def file_fields(schema: Mapping, data: Any, prefix: str = "") -> list[tuple[str, str]]:
    """(field path, file id) for every 'file-id' value in the data, however nested."""
    found: list[tuple[str, str]] = []
    if schema.get("format") == "file-id" and isinstance(data, str):
        return [(prefix or "_form", data)]
    if schema.get("type") == "array" and isinstance(data, list):
        for i, item in enumerate(data):
            found += file_fields(
                schema.get("items") or {}, item, f"{prefix}.{i}" if prefix else str(i)
            )
    if isinstance(data, Mapping):
        for name, prop in (schema.get("properties") or {}).items():
            if name in data:
                found += file_fields(prop, data[name], f"{prefix}.{name}" if prefix else name)
    return found


def with_defaults(schema: Mapping, data: Mapping[str, Any]) -> dict[str, Any]:
    """The data with each missing top-level field set to its schema ``default``."""
    out = dict(data)
    for name, prop in (schema.get("properties") or {}).items():
        if name not in out and "default" in prop:
            out[name] = deepcopy(prop["default"])
    return out


def prefill(schema: Mapping, data: Mapping) -> dict[str, Any]:
    """The current values of the form's own fields."""
    props = schema.get("properties") or {}
    return {k: data[k] for k in props if k in data}
