"""Item-by-item review (逐条逐项): marks on single items of an application, and what changed.

A mark names one item by a JSON-pointer-like path and carries a note::

    {"path": "/submitted/work_summary", "note": "..."}
    {"path": "/dossier/appraisals/2", "note": "..."}

``/submitted/<field>`` is a field of the applicant's form (the process's prefilled user task);
``/dossier/...`` is the dossier snapshot the instance carries, down to one element of a list
or one cell of it. A path must exist in the data; a form field of the applicant's form may be
marked even while empty (so a reviewer can ask for it to be filled).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from engine.errors import InvalidDataError

ROOTS = {"submitted": "申报表", "dossier": "业绩档案"}
MAX_DIFF_ENTRIES = 200


def split(path: Any) -> list[str] | None:
    """The segments of a '/a/b/0' path ('~1' is '/', '~0' is '~'), None when malformed."""
    if not isinstance(path, str) or not path.startswith("/") or len(path) > 300:
        return None
    parts = [p.replace("~1", "/").replace("~0", "~") for p in path[1:].split("/")]
    return parts if all(parts) else None


def _step(value: Any, key: str) -> tuple[bool, Any]:
    if isinstance(value, Mapping):
        return (key in value, value.get(key))
    if isinstance(value, list) and key.isdigit() and (len(key) == 1 or key[0] != "0"):
        index = int(key)
        return (index < len(value), value[index] if index < len(value) else None)
    return (False, None)


def roots(data: Mapping[str, Any], submission: Mapping[str, Any] | None) -> dict[str, Any]:
    """What paths may point into: the applicant's form values and the dossier snapshot."""
    out: dict[str, Any] = {}
    if submission:
        props = submission.get("properties") or {}
        out["submitted"] = {k: data.get(k) for k in props}
    if isinstance(data.get("dossier"), Mapping):
        out["dossier"] = data["dossier"]
    return out


def resolves(path: Any, values: Mapping[str, Any]) -> bool:
    """Whether the path names an item in the values that ``roots`` returned."""
    parts = split(path)
    if not parts or parts[0] not in values:
        return False
    value = values[parts[0]]
    for i, key in enumerate(parts[1:]):
        found, value = _step(value, key)
        if not found:
            return parts[0] == "submitted" and i == 0 and key in values["submitted"]
    return True


def check(
    marks: Any,
    data: Mapping[str, Any],
    submission: Mapping[str, Any] | None,
    dossier_schema: Mapping[str, Any],
) -> list[dict[str, Any]]:
    """The marks with a Chinese label each; 422 on ``marks`` naming every bad path."""
    values = roots(data, submission)
    out, bad = [], []
    for i, mark in enumerate(marks or []):
        path = mark.get("path") if isinstance(mark, Mapping) else None
        if not resolves(path, values):
            bad.append(f"第{i + 1}项：{path!s} 不是本申报中的项目")
            continue
        out.append(
            {
                "path": path,
                "note": mark.get("note"),
                "label": label(str(path), submission, dossier_schema, values),
            }
        )
    if bad:
        raise InvalidDataError("标记的项目不存在", fields={"marks": "；".join(bad)})
    return out


def _describe(value: Any) -> str:
    if isinstance(value, Mapping):
        shown = [str(v) for v in value.values() if isinstance(v, str | int | float) and v != ""]
        return "，".join(shown[:2])
    return ""


def label(
    path: str,
    submission: Mapping[str, Any] | None,
    dossier_schema: Mapping[str, Any],
    values: Mapping[str, Any] | None = None,
) -> str:
    """'/dossier/appraisals/2' -> '业绩档案 · 任现职以来年度考核 · 第3条（2023，合格）'."""
    parts = split(path) or []
    if not parts:
        return str(path)
    schema: Mapping[str, Any] = (submission or {}) if parts[0] == "submitted" else dossier_schema
    value: Any = (values or {}).get(parts[0])
    words = [ROOTS.get(parts[0], parts[0])]
    for key in parts[1:]:
        if schema.get("type") == "array" or key.isdigit():
            _, value = _step(value, key)
            words.append(f"第{int(key) + 1}条" if key.isdigit() else key)
            detail = _describe(value)
            if detail:
                words[-1] += f"（{detail}）"
            schema = schema.get("items") or {}
        else:
            schema = (schema.get("properties") or {}).get(key) or {}
            _, value = _step(value, key)
            words.append(schema.get("title") or key)
    return " · ".join(words)


def options(
    data: Mapping[str, Any],
    submission: Mapping[str, Any] | None,
    dossier_schema: Mapping[str, Any],
) -> list[dict[str, str]]:
    """Items a reviewer may pick: each form field, each dossier field and list element."""
    values = roots(data, submission)
    out = []
    for root, value in values.items():
        schema = submission if root == "submitted" else dossier_schema
        for key in (schema or {}).get("properties") or {}:
            if root == "dossier" and key not in value:
                continue
            path = f"/{root}/{_escape(key)}"
            out.append({"const": path, "title": label(path, submission, dossier_schema, values)})
            if isinstance(value.get(key), list):
                for i in range(len(value[key])):
                    sub = f"{path}/{i}"
                    out.append(
                        {"const": sub, "title": label(sub, submission, dossier_schema, values)}
                    )
    return out


def _escape(key: str) -> str:
    return key.replace("~", "~0").replace("/", "~1")


def diff(old: Any, new: Any, path: str = "") -> list[dict[str, Any]]:
    """Field by field: what was added, removed or changed (lists compared by position)."""
    out: list[dict[str, Any]] = []
    if isinstance(old, Mapping) and isinstance(new, Mapping):
        for key in list(old) + [k for k in new if k not in old]:
            sub = f"{path}/{_escape(str(key))}"
            if key not in new:
                if old[key] not in (None, "", [], {}):
                    out.append({"path": sub, "change": "removed", "old": old[key], "new": None})
            elif key not in old:
                if new[key] not in (None, "", [], {}):
                    out.append({"path": sub, "change": "added", "old": None, "new": new[key]})
            else:
                out += diff(old[key], new[key], sub)
    elif isinstance(old, list) and isinstance(new, list):
        for i in range(max(len(old), len(new))):
            sub = f"{path}/{i}"
            if i >= len(new):
                out.append({"path": sub, "change": "removed", "old": old[i], "new": None})
            elif i >= len(old):
                out.append({"path": sub, "change": "added", "old": None, "new": new[i]})
            else:
                out += diff(old[i], new[i], sub)
    elif old != new:
        if old in (None, ""):
            out.append({"path": path, "change": "added", "old": None, "new": new})
        elif new in (None, ""):
            out.append({"path": path, "change": "removed", "old": old, "new": None})
        else:
            out.append({"path": path, "change": "changed", "old": old, "new": new})
    return out[:MAX_DIFF_ENTRIES]


def changes(
    returned: Mapping[str, Any],
    data: Mapping[str, Any],
    submission: Mapping[str, Any] | None,
    dossier_schema: Mapping[str, Any],
) -> list[dict[str, Any]]:
    """What changed since the returned version, each change with its Chinese label."""
    now = roots(data, submission)
    entries = diff(dict(returned), now)
    for entry in entries:
        entry["label"] = label(entry["path"], submission, dossier_schema, now)
    return entries
