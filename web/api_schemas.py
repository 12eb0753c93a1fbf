"""The JSON shapes the API answers with, once: OpenAPI components, checked against every answer
the test suite receives (tests/conftest.py), so the document cannot drift from the code.

Objects stay open (``additionalProperties`` is not false): a field may be added without
breaking clients; the listed required fields are what clients may rely on.
"""

from __future__ import annotations

from typing import Any

from web.api_schema_kit import (
    ANY_OBJ,
    BOOL,
    INT,
    OPT_STR,
    OPT_TIME,
    STR,
    TIME,
    Reply,
    array,
    obj,
    pdf,
    svg,
)
from web.api_schemas_cycles import CYCLE_SCHEMAS
from web.api_schemas_handoffs import HANDOFF_SCHEMAS
from web.api_schemas_ops import OPERATOR_SCHEMAS
from web.api_schemas_sessions import SESSION_SCHEMAS

__all__ = ["SCHEMAS", "Reply", "page", "pdf", "ref", "svg"]


def ref(name: str) -> dict[str, Any]:
    """A reference to one of SCHEMAS (checked when called, after SCHEMAS is built)."""
    assert name in SCHEMAS, name
    return {"$ref": f"#/components/schemas/{name}"}


def page(name: str) -> dict[str, Any]:
    """A list answer: ``{"items": [...], "total": N}``."""
    return obj({"items": array(ref(name)), "total": INT})


DATE: dict[str, Any] = {"type": "string", "format": "date"}
OPT_DATE: dict[str, Any] = {"type": ["string", "null"], "format": "date"}
NAMED_ORG = obj({"id": STR, "name": STR})

SCHEMAS: dict[str, dict[str, Any]] = {
    "Error": obj(
        {
            "error": obj(
                {"code": STR, "message": STR},
                {"fields": {"type": "object", "additionalProperties": STR}},
            )
        }
    ),
    "User": obj(
        {"id": STR, "username": STR, "name": STR, "role": STR, "org_id": OPT_STR},
        {"org_status": OPT_STR},
    ),
    "Token": obj(
        {
            "token": {"type": "string", "description": "Bearer token; shown once"},
            "expires_at": {**TIME, "description": "When the token stops working"},
            "user": {"$ref": "#/components/schemas/User"},
        }
    ),
    "Health": obj({"ok": BOOL, "db": STR, "scheduler": {"enum": ["running", "not running"]}}),
    "TaskSummary": obj(
        {
            "id": STR,
            "name": STR,
            "title": STR,
            "process": STR,
            "lane": STR,
            "instance_id": STR,
            "application_id": OPT_STR,
            "org_id": OPT_STR,
            "created_at": TIME,
        },
        {
            "handoff": {
                "description": "转办: holder, from, reason, at; stand_in_for when the caller"
                " acts as the holder's stand-in (委派)",
                "oneOf": [{"type": "null"}, {"type": "object"}],
            }
        },
    ),
    "TaskDetail": {
        "allOf": [
            {"$ref": "#/components/schemas/TaskSummary"},
            obj(
                {"form": ANY_OBJ, "data": ANY_OBJ},
                {
                    "ui_schema": {"type": ["object", "null"]},
                    "context": {
                        "type": "object",
                        "properties": {
                            "return_marks": array({"$ref": "#/components/schemas/ItemMark"}),
                            "changes_since_return": array(
                                {"$ref": "#/components/schemas/ItemChange"}
                            ),
                        },
                    },
                },
            ),
        ]
    },
    "CompleteResult": obj(
        {
            "instance_id": STR,
            "status": STR,
            "problem": OPT_STR,
            "next_tasks": array({"$ref": "#/components/schemas/TaskSummary"}),
        }
    ),
    "BatchResults": obj(
        {
            "results": array(
                obj(
                    {"task_id": STR, "ok": BOOL},
                    {"error": {"type": ["object", "null"]}, "result": ANY_OBJ},
                )
            )
        }
    ),
    "UnitRegistered": obj({"unit_id": STR, "org_id": STR, "status": STR}),
    "EntrustmentAccepted": obj({"unit_id": STR, "file_id": STR, "instance_id": STR, "status": STR}),
    "ApplicantRegistered": obj({"applicant_id": STR}),
    "Dossier": obj(
        {"status": STR, "data": ANY_OBJ},
        {"can_edit": BOOL, "can_submit": BOOL, "form": ANY_OBJ, "updated_at": OPT_TIME},
    ),
    "DossierSubmitted": obj({"instance_id": STR, "status": STR}),
    "StoredFile": obj({"file_id": STR, "filename": STR, "pages": INT, "sha256": STR, "size": INT}),
    "AffectedApplication": obj(
        {"id": STR, "status": STR, "series": STR, "level": STR, "specialty": STR},
        {"applicant": OPT_STR, "amount_after": INT},
    ),
    "FeeSetting": obj(
        {"org_id": STR, "charge": BOOL},
        {"affected": array({"$ref": "#/components/schemas/AffectedApplication"})},
    ),
    "Contact": obj({"role": STR}, {"name": OPT_STR, "phone": OPT_STR}),
    "Payee": obj({"name": STR}, {"account_name": OPT_STR, "account_no": OPT_STR, "bank": OPT_STR}),
    "Committee": obj(
        {
            "id": STR,
            "name": STR,
            "office_org_id": STR,
            "address": STR,
            "phone": OPT_STR,
            "contacts": array({"$ref": "#/components/schemas/Contact"}),
            "series": array(STR),
            "levels": array(STR),
            "specialties": array(STR),
        },
        {
            "fees": {
                "type": "object",
                "additionalProperties": obj({"item": STR, "amount": INT}),
            },
            "payee": {"$ref": "#/components/schemas/Payee"},
        },
    ),
    "CommitteeSummary": obj(
        {
            "id": STR,
            "name": STR,
            "office_org_id": STR,
            "address": STR,
            "phone": OPT_STR,
            "contacts": array({"$ref": "#/components/schemas/Contact"}),
        }
    ),
    "Payment": obj(
        {
            "due": BOOL,
            "state": {
                "type": "string",
                "enum": [
                    "not_required",
                    "awaiting_reference",
                    "awaiting_confirmation",
                    "refused",
                    "confirmed",
                    "closed",
                ],
            },
            "amount": INT,
            "payee": {"$ref": "#/components/schemas/Payee"},
            "instructions": array(STR),
        },
        {
            "item": OPT_STR,
            "currency": OPT_STR,
            "method": OPT_STR,
            "remark": OPT_STR,
            "reference": OPT_STR,
            "paid_on": OPT_STR,
            "refuse_reason": OPT_STR,
        },
    ),
    "Paper": obj(
        {"copies": INT, "required": INT},
        {"missing": OPT_STR, "received_on": OPT_STR},
    ),
    "Message": obj(
        {"id": INT, "at": TIME, "kind": STR, "text": STR, "read": BOOL},
        {"application_id": OPT_STR, "for": OPT_STR},
    ),
    "MessageRead": obj({"id": INT, "read": BOOL}),
    "ApplicationCreated": obj({"application_id": STR, "instance_id": STR, "status": STR}),
    "ItemMark": obj({"path": STR, "note": STR}, {"label": STR}),
    "ItemChange": obj(
        {"path": STR, "label": STR, "change": {"enum": ["added", "removed", "changed"]}},
        {"old": {}, "new": {}},
    ),
    "TimelineEntry": obj(
        {"at": TIME, "action": STR, "actor": STR},
        {
            "org": OPT_STR,
            "task": OPT_STR,
            "opinion": OPT_STR,
            "reason": OPT_STR,
            "status_after": OPT_STR,
            "marks": array({"$ref": "#/components/schemas/ItemMark"}),
            "checks": {"oneOf": [{"type": "null"}, {"type": "object"}]},
            "note": OPT_STR,
        },
    ),
    "ReviewFormRecord": obj(
        {"file_id": STR, "sha256": STR, "verification_code": STR, "exported_at": TIME}
    ),
    "Application": obj(
        {
            "id": STR,
            "status": STR,
            "series": STR,
            "level": STR,
            "specialty": STR,
            "applicant": NAMED_ORG,
            "unit": NAMED_ORG,
            "chain": array(STR),
            "instance_id": OPT_STR,
            "created_at": TIME,
            "updated_at": TIME,
        },
        {
            "stage": OPT_STR,
            "publicity_end": OPT_STR,
            "exceptional": BOOL,
            "review_form": {
                "oneOf": [{"type": "null"}, {"$ref": "#/components/schemas/ReviewFormRecord"}]
            },
        },
    ),
    "ApplicationDetail": {
        "allOf": [
            {"$ref": "#/components/schemas/Application"},
            obj(
                {
                    "submitted": ANY_OBJ,
                    "timeline": array({"$ref": "#/components/schemas/TimelineEntry"}),
                    "current_tasks": array({"$ref": "#/components/schemas/TaskSummary"}),
                    "can_urge": BOOL,
                    "can_export_review_form": BOOL,
                },
                {
                    "publicity_release_at": OPT_TIME,
                    "exceptional_conditions": array(STR),
                    "committee": {
                        "oneOf": [
                            {"type": "null"},
                            {"$ref": "#/components/schemas/CommitteeSummary"},
                        ]
                    },
                    "payment": {
                        "oneOf": [{"type": "null"}, {"$ref": "#/components/schemas/Payment"}]
                    },
                    "paper": {"oneOf": [{"type": "null"}, {"$ref": "#/components/schemas/Paper"}]},
                    "return_marks": array({"$ref": "#/components/schemas/ItemMark"}),
                    "cycle": {
                        "oneOf": [{"type": "null"}, {"$ref": "#/components/schemas/CycleSummary"}]
                    },
                    "certificate": {
                        "oneOf": [
                            {"type": "null"},
                            {"$ref": "#/components/schemas/CertificateFacts"},
                        ]
                    },
                },
            ),
        ]
    },
    "UrgeResult": obj({"urged": INT, "skipped": INT}),
    "WithdrawResult": obj(
        {"application_id": STR, "status": STR, "withdrawn_by": {"enum": ["applicant", "unit"]}}
    ),
    "Verification": obj(
        {"valid": BOOL, "verification_code": STR},
        {
            "applicant": STR,
            "series": STR,
            "level": STR,
            "specialty": STR,
            "status": STR,
            "sha256": STR,
            "exported_at": TIME,
        },
    ),
    "CertificateFacts": obj(
        {"number": STR, "verification_code": STR, "issued_on": DATE},
        {
            "title": STR,
            "revoked": BOOL,
            "revoked_on": OPT_DATE,
            "revoke_reason": OPT_STR,
            "can_revoke": BOOL,
        },
    ),
    "CertificateLookup": obj(
        {
            "valid": BOOL,
            "name": {**STR, "description": "The holder's name, masked (张*)"},
            "title": STR,
            "committee": STR,
            "issued_on": DATE,
            "revoked": BOOL,
        },
        {"number": STR, "verification_code": STR, "revoked_on": DATE, "revoke_reason": STR},
    ),
    "CertificateRevoked": obj({"number": STR, "revoked": BOOL, "revoked_on": DATE}),
    **OPERATOR_SCHEMAS,
    **CYCLE_SCHEMAS,
    **SESSION_SCHEMAS,
    **HANDOFF_SCHEMAS,
}
