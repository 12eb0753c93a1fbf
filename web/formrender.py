"""Render a JSON Schema as HTML form fields and turn posted fields back into JSON data.

The same schema the server validates with; the browser only gets a convenience view of it.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from werkzeug.datastructures import MultiDict

BLANK_ROWS = 2
ROW_DELETE = "__delete"
ROW_PLACEHOLDER = "__i__"


@dataclass
class Field:
    name: str
    title: str
    kind: str
    required: bool = False
    value: Any = None
    error: str | None = None
    description: str | None = None
    options: list[tuple[Any, str]] = field(default_factory=list)
    children: list[Field] = field(default_factory=list)
    rows: list[list[Field]] = field(default_factory=list)
    template_row: list[Field] = field(default_factory=list)
    height: int = 4
    # [controller, value] pairs: the field belongs to those choices (JSON Schema if/then)
    show_when: list[list[Any]] = field(default_factory=list)
    # titles of the choices that make the field required ("审查通过")
    required_with: list[str] = field(default_factory=list)


def conditions(schema: Mapping[str, Any]) -> dict[str, list[tuple[str, Any, bool]]]:
    """Field -> (controller, value, required) for each ``if {controller: const} then`` rule of
    the schema (its own or in ``allOf``) naming the field in the branch's ``required`` or
    ``properties``: the field belongs to that choice. Other rules are left to the server."""
    rules = [schema, *(schema.get("allOf") or [])]
    found: dict[str, list[tuple[str, Any, bool]]] = {}
    for rule in rules:
        props = (rule.get("if") or {}).get("properties") or {}
        then = rule.get("then") or {}
        if len(props) != 1 or not isinstance(then, Mapping):
            continue
        ((controller, test),) = props.items()
        if not isinstance(test, Mapping) or "const" not in test:
            continue
        required = set(then.get("required") or [])
        for name in required | set(then.get("properties") or {}):
            found.setdefault(name, []).append((controller, test["const"], name in required))
    return found


def _attach_conditions(fields: list[Field], schema: Mapping[str, Any]) -> None:
    rules = conditions(schema)
    titles = {f.name: dict(f.options) for f in fields}
    for f in fields:
        for controller, value, required in rules.get(f.name, []):
            f.show_when.append([controller, value])
            if required:
                title = str(titles.get(controller, {}).get(value, value))
                f.required_with.append(title.split("（")[0])  # 「通过（…）」 reads 「通过」


def error_key(name: str) -> str:
    """The validator's key for a rendered field name: 'papers[0].title' -> 'papers.0.title'."""
    return re.sub(r"\[(\d+)\]", r".\1", name)


def _error(errors: Mapping[str, str], name: str) -> str | None:
    return errors.get(name) or errors.get(error_key(name))


def _options(prop: Mapping[str, Any]) -> list[tuple[Any, str]]:
    if "oneOf" in prop:
        return [(o.get("const"), o.get("title") or str(o.get("const"))) for o in prop["oneOf"]]
    if "enum" in prop:
        return [(v, str(v)) for v in prop["enum"]]
    items = prop.get("items") or {}
    if prop.get("type") == "array" and ("enum" in items or "oneOf" in items):
        return _options(items)
    return []


def _kind(prop: Mapping[str, Any], ui: Mapping[str, Any]) -> str:
    kind = prop.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "string")
    items = prop.get("items") or {}
    if kind == "object":
        return "object"
    if kind == "array":
        if items.get("type") == "object":
            return "table"
        if items.get("format") == "file-id":
            return "files"
        return "multiselect" if _options(prop) else "list"
    if _options(prop):
        return "radio" if len(_options(prop)) <= 4 else "select"
    if kind == "boolean":
        return "checkbox"
    if kind in ("integer", "number"):
        return kind
    if prop.get("format") == "date":
        return "date"
    if prop.get("format") == "file-id":
        return "file"
    if ui.get("ui:widget") == "textarea" or (prop.get("maxLength") or 0) > 200:
        return "textarea"
    return "text"


def _ordered(schema: Mapping[str, Any], ui: Mapping[str, Any]) -> list[str]:
    props = list((schema.get("properties") or {}).keys())
    order = [p for p in ui.get("ui:order", []) if p in props]
    return order + [p for p in props if p not in order]


def build_fields(
    schema: Mapping[str, Any],
    ui: Mapping[str, Any] | None,
    values: Mapping[str, Any],
    errors: Mapping[str, str],
    prefix: str = "",
) -> list[Field]:
    """Field descriptors for a schema's properties, with values and errors attached."""
    ui = ui or {}
    required = set(schema.get("required") or [])
    out = []
    for key in _ordered(schema, ui):
        prop = schema["properties"][key]
        sub_ui = ui.get(key) or {}
        name = f"{prefix}{key}"
        kind = _kind(prop, sub_ui)
        f = Field(
            name=name,
            title=prop.get("title") or key,
            kind=kind,
            required=key in required,
            value=values.get(key),
            error=_error(errors, name),
            description=prop.get("description") or sub_ui.get("ui:help"),
            options=_options(prop),
            height=int((sub_ui.get("ui:options") or {}).get("rows") or 4),
        )
        if kind == "object":
            f.children = build_fields(prop, sub_ui, values.get(key) or {}, errors, f"{name}.")
        elif kind == "table":
            _table(f, prop["items"], sub_ui.get("items") or {}, values.get(key), errors)
        out.append(f)
    if not prefix:
        _attach_conditions(out, schema)
    return out


def _table(
    f: Field,
    items: Mapping[str, Any],
    ui: Mapping[str, Any],
    value: Any,
    errors: Mapping[str, str],
) -> None:
    existing = value if isinstance(value, list) else []
    for i in range(len(existing) + BLANK_ROWS):
        row_values = existing[i] if i < len(existing) and isinstance(existing[i], dict) else {}
        f.rows.append(_cells(build_fields(items, ui, row_values, errors, f"{f.name}[{i}].")))
    f.children = build_fields(items, ui, {}, {}, "")
    f.template_row = _cells(build_fields(items, ui, {}, {}, f"{f.name}[{ROW_PLACEHOLDER}]."))


def _cells(row: list[Field]) -> list[Field]:
    # Radio buttons stack up in a narrow table cell; a select reads better there.
    for cell in row:
        if cell.kind == "radio":
            cell.kind = "select"
    return row


def _placed(fields: Iterable[Field]) -> set[str]:
    names: set[str] = set()
    for f in fields:
        names.update({f.name, error_key(f.name)})
        names |= _placed(f.children) if f.kind == "object" else set()
        for row in f.rows:
            names |= _placed(row)
    return names


def unplaced_errors(fields: Iterable[Field], errors: Mapping[str, str]) -> dict[str, str]:
    """Errors no rendered field shows (cross-field rules, unknown fields, file references)."""
    placed = _placed(fields)
    return {k: v for k, v in errors.items() if k not in placed}


def _scalar(prop: Mapping[str, Any], raw: str) -> Any:
    kind = prop.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "string")
    if kind == "integer":
        try:
            return int(raw)
        except ValueError:
            return raw
    if kind == "number":
        try:
            return int(raw)
        except ValueError:
            pass
        try:
            number = float(raw)
        except ValueError:
            return raw
        # float() reads "nan" and "inf": left as text, the schema refuses them (422).
        return number if math.isfinite(number) else raw
    if kind == "boolean":
        return raw.lower() in ("on", "true", "1", "yes")
    return raw


def parse_form(schema: Mapping[str, Any], form: MultiDict, prefix: str = "") -> dict[str, Any]:
    """Posted HTML fields -> JSON data shaped by the schema (blank fields left out)."""
    data: dict[str, Any] = {}
    for key, prop in (schema.get("properties") or {}).items():
        name = f"{prefix}{key}"
        kind = _kind(prop, {})
        if kind == "object":
            sub = parse_form(prop, form, f"{name}.")
            if sub:
                data[key] = sub
        elif kind == "table":
            data[key] = _parse_table(prop["items"], form, name)
        elif kind in ("files", "multiselect", "list"):
            items = prop.get("items") or {}
            data[key] = [_scalar(items, v) for v in form.getlist(name) if v != ""]
        elif kind == "checkbox":
            data[key] = name in form and _scalar(prop, form.get(name, "")) is True
        elif kind == "file":
            # A fresh upload is appended after the kept hidden value, so the last one wins.
            chosen = [v for v in form.getlist(name) if v != ""]
            if chosen:
                data[key] = chosen[-1]
        else:
            raw = form.get(name, "")
            if raw != "":
                data[key] = _scalar(prop, raw)
    return data


def _parse_table(items: Mapping[str, Any], form: MultiDict, name: str) -> list[dict[str, Any]]:
    """Rows posted as name[i].field; blank rows and rows ticked for deletion are dropped."""
    indexes = sorted(
        {
            int(k[len(name) + 1 :].split("]")[0])
            for k in form
            if k.startswith(f"{name}[") and k[len(name) + 1 :].split("]")[0].isdigit()
        }
    )
    rows = []
    for i in indexes:
        if form.get(f"{name}[{i}].{ROW_DELETE}"):
            continue
        row = parse_form(items, form, f"{name}[{i}].")
        if any(v not in ("", None, False) for v in row.values()):
            rows.append(row)
    return rows


def file_ids(schema: Mapping[str, Any], value: Any) -> list[str]:
    """Every file id the value holds in fields of format 'file-id', at any depth."""
    if schema.get("format") == "file-id":
        return [value] if isinstance(value, str) and value else []
    if isinstance(value, list):
        items = schema.get("items") or {}
        return [i for v in value for i in file_ids(items, v)]
    if isinstance(value, Mapping):
        props = schema.get("properties") or {}
        return [i for k, p in props.items() for i in file_ids(p, value.get(k))]
    return []


def mark_notes(marks: Iterable[Any], schema: Mapping[str, Any], root: str) -> dict[str, str]:
    """Field name -> '退回标记：note' for marks under /<root>/, to show beside the fields
    (a whole list element is shown on its first cell)."""
    notes: dict[str, str] = {}
    for mark in marks:
        path = mark.get("path") if isinstance(mark, Mapping) else None
        if not isinstance(path, str) or not path.startswith(f"/{root}/"):
            continue
        parts = path[len(root) + 2 :].split("/")
        prop: Mapping[str, Any] = schema
        for key in parts:
            prop = (
                prop.get("items") if key.isdigit() else (prop.get("properties") or {}).get(key)
            ) or {}
        if prop.get("type") == "object" and parts[-1].isdigit():
            first = next(iter(prop.get("properties") or {}), None)
            parts = [*parts, first] if first else parts
        name = ".".join(parts)
        text = f"退回标记：{mark.get('note') or ''}"
        notes[name] = f"{notes[name]}；{text}" if name in notes else text
    return notes
