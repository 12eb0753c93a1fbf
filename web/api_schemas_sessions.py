"""OpenAPI components of the committee's review sessions (评审会) and results objections."""

from __future__ import annotations

from typing import Any

from web.api_schema_kit import BOOL, INT, STR, array, obj

DATE: dict[str, Any] = {"type": "string", "format": "date"}
OPT_INT: dict[str, Any] = {"type": ["integer", "null"]}
USERNAMES: dict[str, Any] = {"type": "array", "items": {"type": "string"}, "minItems": 1}

SESSION_SCHEMAS: dict[str, dict[str, Any]] = {
    "ReviewSession": obj(
        {
            "session_id": STR,
            "id": STR,
            "cycle_id": STR,
            "committee_id": STR,
            "date": DATE,
            "status": {"enum": ["formed", "voting", "tallied"]},
            "status_name": STR,
            "experts": array(STR),
            "panel": array(
                obj(
                    {
                        "username": STR,
                        "name": STR,
                        "chosen_by": {"enum": ["draw", "pick"]},
                        "present": BOOL,
                    },
                    {"specialty": {"type": ["string", "null"]}},
                )
            ),
            "present": array(STR),
            "applications": array(obj({"application_id": STR, "applicant_name": STR})),
            "recusals": array(obj({"expert": STR, "application_id": STR, "reason": STR})),
            "progress": obj({"cast": INT, "expected": INT}),
            "tallies": {
                "type": ["array", "null"],
                "items": obj(
                    {
                        "application_id": STR,
                        "applicant_name": STR,
                        "agree": INT,
                        "disagree": INT,
                        "abstain": INT,
                        "present": INT,
                        "passed": BOOL,
                        "comments": array(STR),
                    }
                ),
            },
            "skipped": array(STR),
        }
    ),
    "ObjectionRecorded": obj({"application_id": STR, "status": STR}),
}

FORM_SESSION_BODY: dict[str, Any] = {
    "type": "object",
    "required": ["date"],
    "properties": {
        "date": DATE,
        "experts": USERNAMES,
        "draw": {
            "type": "object",
            "required": ["size"],
            "properties": {
                "size": {"type": "integer", "minimum": 1, "maximum": 500},
                "specialty": {"type": "string"},
            },
        },
    },
    "examples": [
        {"date": "2027-06-10", "draw": {"size": 7, "specialty": "水利工程"}},
        {"date": "2027-06-10", "experts": ["exp_wang", "exp_li", "exp_zhao"]},
    ],
}

ATTENDANCE_BODY: dict[str, Any] = {
    "type": "object",
    "required": ["present"],
    "properties": {"present": USERNAMES},
    "examples": [{"present": ["exp_wang", "exp_li", "exp_zhao", "exp_qian", "exp_sun"]}],
}

OBJECTION_BODY: dict[str, Any] = {
    "type": "object",
    "required": ["objection"],
    "properties": {"objection": {"type": "string", "minLength": 1, "maxLength": 4000}},
    "examples": [{"objection": "实名反映：申报人论文存在抄袭嫌疑"}],
}
