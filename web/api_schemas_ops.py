"""The JSON shapes of the designers' and operators' calls (specs, instances, timers); part of
the OpenAPI components (see web/api_schemas.py)."""

from __future__ import annotations

from typing import Any

from engine import INSTANCE_STATUSES
from web.api_schema_kit import ANY_OBJ, BOOL, INT, OPT_STR, OPT_TIME, STR, TIME, array, obj

OPERATOR_SCHEMAS: dict[str, dict[str, Any]] = {
    "Version": obj(
        {"process_id": STR, "version": INT, "sha256": STR, "deployed_at": TIME},
        {"created": BOOL, "current": BOOL},
    ),
    "Problem": obj(
        {"file": STR, "element": OPT_STR, "message": STR}, {"line": {"type": ["integer", "null"]}}
    ),
    "VersionFiles": obj(
        {
            "process_id": STR,
            "version": INT,
            "sha256": STR,
            "files": {"type": "object", "additionalProperties": STR},
        }
    ),
    "Validation": obj({"ok": BOOL, "problems": array({"$ref": "#/components/schemas/Problem"})}),
    "Deployment": obj({"versions": array({"$ref": "#/components/schemas/Version"})}),
    "Promotion": obj(
        {"process_id": STR, "version": INT, "current": BOOL, "changed": BOOL},
        {"previous_version": {"type": ["integer", "null"]}},
    ),
    "InstanceStarted": obj({"instance_id": STR}),
    "Instance": obj(
        {
            "id": STR,
            "process": STR,
            "version": INT,
            "status": {"enum": list(INSTANCE_STATUSES)},
            "problem": OPT_STR,
            "application_id": OPT_STR,
            "updated_at": TIME,
        },
        {"problems": array(STR), "business_key": OPT_STR},
    ),
    "InstanceDetail": {
        "allOf": [
            {"$ref": "#/components/schemas/Instance"},
            obj(
                {
                    "tasks": array(
                        obj(
                            {"id": STR, "name": STR, "state": STR},
                            {"title": OPT_STR, "error": OPT_STR},
                        )
                    ),
                    "timers": array(ANY_OBJ),
                    "data": ANY_OBJ,
                    "history": array(ANY_OBJ),
                },
                {
                    "can": ANY_OBJ,
                    "reset_candidates": array(STR),
                    "reset_targets": array(obj({"task": STR, "title": STR})),
                },
            ),
        ]
    },
    "OperationResult": obj({"id": STR, "status": STR, "action": STR}, {"problem": OPT_STR}),
    "Migration": obj(
        {"id": STR, "ok": BOOL, "dry_run": BOOL, "problems": array(STR)},
        {"from_version": INT, "to_version": INT},
    ),
    "BulkResults": obj(
        {
            "results": array(
                obj(
                    {"id": STR, "ok": BOOL},
                    {"result": ANY_OBJ, "error": {"type": ["object", "null"]}},
                )
            )
        }
    ),
    "Timer": obj(
        {
            "id": STR,
            "instance_id": STR,
            "name": STR,
            "due_at": TIME,
            "status": STR,
            "created_at": TIME,
        },
        {
            "application_id": OPT_STR,
            "task_id": OPT_STR,
            "fired_at": OPT_TIME,
            "instance_status": STR,
        },
    ),
}
