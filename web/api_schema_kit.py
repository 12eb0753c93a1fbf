"""Building blocks of the OpenAPI components in web/api_schemas.py and
web/api_schemas_ops.py: scalar shapes, objects, references, pages of results, replies."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

STR: dict[str, Any] = {"type": "string"}
OPT_STR: dict[str, Any] = {"type": ["string", "null"]}
INT: dict[str, Any] = {"type": "integer"}
BOOL: dict[str, Any] = {"type": "boolean"}
ANY_OBJ: dict[str, Any] = {"type": "object"}
TIME: dict[str, Any] = {"type": "string", "format": "date-time"}
OPT_TIME: dict[str, Any] = {"type": ["string", "null"], "format": "date-time"}


def obj(required: dict[str, Any], optional: dict[str, Any] | None = None) -> dict[str, Any]:
    """An object whose ``required`` fields are always present."""
    return {
        "type": "object",
        "required": sorted(required),
        "properties": {**required, **(optional or {})},
    }


def array(item: dict[str, Any]) -> dict[str, Any]:
    return {"type": "array", "items": item}


@dataclass(frozen=True)
class Reply:
    """A success answer other than a 200 JSON one, e.g. ``Reply("201", ref("Created"))``."""

    status: str
    schema: dict[str, Any] | None
    media: str = "application/json"
    also: tuple[str, ...] = ()  # further success statuses with the same body


def pdf() -> Reply:
    """A PDF download (an attachment)."""
    return Reply("200", {"type": "string", "format": "binary"}, "application/pdf")


def svg() -> Reply:
    """An SVG diagram."""
    return Reply("200", {"type": "string"}, "image/svg+xml")
