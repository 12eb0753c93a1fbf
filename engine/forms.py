"""JSON Schema forms: one schema validates on the server, renders in the web, ships in the API."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
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


@lru_cache(maxsize=256)
def schema_problem(text: str) -> str | None:
    """Why a form file is not a usable JSON Schema, or None (cached per text: a deploy checks
    the same form files each time)."""
    try:
        schema = json.loads(text)
    except ValueError as exc:
        return f"not valid JSON: {exc}"
    if not isinstance(schema, dict):
        return "a form schema must be a JSON object"
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as exc:
        return f"not a valid JSON Schema: {exc.message}"
    return None


def _field_of(error: Any) -> str:
    path = [str(p) for p in error.absolute_path]
    if error.validator == "required":
        missing = error.message.split("'")[1] if "'" in error.message else ""
        path.append(missing)
    elif error.validator == "additionalProperties" and "'" in error.message:
        path.append(error.message.split("'")[1])
    return ".".join(p for p in path if p) or "_form"


def _message(error: Any, schema: Mapping) -> str:
    if error.validator == "required":
        return "必填 (required)"
    if error.validator == "additionalProperties":
        return "表单中没有这个字段 (unknown field)"
    if error.validator in ("const", "enum"):
        return "取值不在允许范围内 (value not allowed)"
    if error.validator == "format":
        return f"格式不正确，应为 {error.validator_value} (invalid {error.validator_value})"
    if error.validator == "type":
        return f"类型不正确，应为 {error.validator_value} (expected {error.validator_value})"
    if error.validator == "minLength" and error.validator_value == 1:
        return "不能为空 (must not be empty)"
    return error.message


def validate(schema: Mapping, data: Any) -> dict[str, str]:
    """Validate data against a form schema; map each error to its field."""
    validator = Draft202012Validator(schema, format_checker=FORMAT_CHECKER)
    fields: dict[str, str] = {}
    for error in sorted(validator.iter_errors(data), key=lambda e: list(e.absolute_path)):
        fields.setdefault(_field_of(error), _message(error, schema))
    return fields


def check(schema: Mapping, data: Any) -> None:
    """Raise InvalidDataError with per-field messages when data fails the schema."""
    if not isinstance(data, dict):
        raise InvalidDataError("表单数据必须是 JSON 对象", fields={"_form": "expected an object"})
    fields = validate(schema, data)
    if fields:
        raise InvalidDataError("表单数据有误，请按提示修改 (form data invalid)", fields=fields)


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


Validator = Callable[[Mapping[str, Any], Mapping[str, Any], Mapping[str, str]], dict[str, str]]
