"""OpenAPI components of the hand-offs (转办 / 委派 / 抄送): web/blueprints/api_handoffs.py."""

from __future__ import annotations

from typing import Any

from web.api_schema_kit import BOOL, OPT_STR, STR, TIME, array, obj

PERSON = obj({"username": STR, "name": STR})
DATE = {"type": "string", "format": "date"}
STAND_IN_RANGE = obj({"username": STR, "name": STR, "from": DATE, "until": DATE, "active": BOOL})

HANDOFF_SCHEMAS: dict[str, dict[str, Any]] = {
    "TransferResult": obj({"task_id": STR, "to": PERSON, "reason": STR, "at": TIME}),
    "StandIn": obj(
        {
            "stand_in": {"oneOf": [{"type": "null"}, STAND_IN_RANGE]},
            "standing_in_for": array(STAND_IN_RANGE),
        }
    ),
    "CopyResult": obj(
        {"application_id": STR, "to": array(STR), "note": OPT_STR, "at": TIME},
    ),
    "CopyToMe": obj(
        {
            "application_id": STR,
            "series": STR,
            "level": STR,
            "specialty": STR,
            "status": STR,
            "at": TIME,
        },
        {"applicant": OPT_STR, "by": OPT_STR, "note": OPT_STR},
    ),
    "Colleague": obj({"username": STR, "name": STR}, {"org": OPT_STR}),
}
