"""OpenAPI components of the annual cycles (申报年度): web/api_schemas.py merges them."""

from __future__ import annotations

from typing import Any

from web.api_schema_kit import BOOL, INT, OPT_STR, OPT_TIME, STR, obj

DATE: dict[str, Any] = {"type": "string", "format": "date"}
OPT_INT: dict[str, Any] = {"type": ["integer", "null"]}

CYCLE_SCHEMAS: dict[str, dict[str, Any]] = {
    "Cycle": obj(
        {
            "cycle_id": STR,
            "committee_id": STR,
            "year": INT,
            "opens_on": DATE,
            "closes_on": DATE,
            "quota": OPT_INT,
            "status": {"enum": ["open", "closed"]},
            "version": OPT_INT,
            "accepting": BOOL,
            "phase": {"enum": ["upcoming", "accepting", "ended", "closed"]},
            "full": BOOL,
        },
        {
            "committee_name": OPT_STR,
            "applications": OPT_INT,
            "created_by": STR,
            "created_at": OPT_TIME,
            "closed_at": OPT_TIME,
            "closed_by": OPT_STR,
            "close_reason": OPT_STR,
        },
    ),
    "CycleSummary": obj({"id": STR, "year": INT, "opens_on": DATE, "closes_on": DATE}),
}

OPEN_CYCLE_BODY: dict[str, Any] = {
    "type": "object",
    "required": ["year", "opens_on", "closes_on"],
    "properties": {
        "year": {"type": "integer", "minimum": 2000, "maximum": 2100},
        "opens_on": DATE,
        "closes_on": DATE,
        "quota": {"type": ["integer", "null"], "minimum": 1},
        "version": {"type": ["integer", "null"], "minimum": 1},
    },
    "examples": [{"year": 2027, "opens_on": "2027-03-01", "closes_on": "2027-04-30", "quota": 200}],
}

CLOSE_CYCLE_BODY: dict[str, Any] = {
    "type": "object",
    "properties": {"reason": {"type": "string", "maxLength": 2000}},
    "examples": [{"reason": "本年度申报受理结束"}],
}
