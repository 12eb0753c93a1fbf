"""What an application's detail shows of its committee, its payment and its paper copies."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from engine.committees import Committee
from storage import HumanTask

PAPER_COPIES = 3  # 纸质材料一式三份


def committee_summary(committee: Committee) -> dict[str, Any]:
    """Who reviews an application and where its paper goes."""
    return {
        "id": committee.id,
        "name": committee.name,
        "office_org_id": committee.office_org_id,
        "address": committee.address,
        "phone": committee.phone,
        "contacts": [dict(c) for c in committee.contacts],
    }


def payment_state(
    data: Mapping[str, Any], status: str, tasks: Sequence[HumanTask]
) -> dict[str, Any] | None:
    """The fee decided when the review completed, and where its payment stands (None before)."""
    fee = data.get("fee")
    if not isinstance(fee, Mapping) or "payment_due" not in data:
        return None
    names = {t.name for t in tasks}
    if not data.get("payment_due"):
        state = "not_required"
    elif "confirm_payment" in names:
        state = "refused" if data.get("payment_refuse_reason") else "awaiting_reference"
    elif "verify_payment" in names:
        state = "awaiting_confirmation"
    elif status in ("awaiting_paper", "completed"):
        state = "confirmed"
    else:
        state = "closed"
    return {
        "due": bool(data.get("payment_due")),
        "state": state,
        "item": fee.get("item"),
        "amount": fee.get("amount"),
        "currency": fee.get("currency", "CNY"),
        "payee": dict(fee.get("payee") or {}),
        "method": fee.get("method"),
        "instructions": list(fee.get("instructions") or []),
        "remark": fee.get("remark"),
        "reference": data.get("payment_reference"),
        "paid_on": data.get("paid_on"),
        "refuse_reason": data.get("payment_refuse_reason"),
    }


def paper_state(data: Mapping[str, Any]) -> dict[str, Any] | None:
    """What the office last recorded of the paper copies (None before any record)."""
    copies = data.get("copies")
    if not isinstance(copies, int) or isinstance(copies, bool):
        return None
    return {
        "copies": copies,
        "required": PAPER_COPIES,
        "missing": data.get("missing") if copies < PAPER_COPIES else None,
        "received_on": data.get("received_on"),
    }
