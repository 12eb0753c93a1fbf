"""How an applicant pays the committee's fee: a small provider interface.

Real payment gateways are out of reach here; the provider that ships is the offline bank
transfer: the applicant transfers the fee to the committee office's fiscal account, records the
transfer's reference, and the office (or the platform) confirms or refuses it against its bank
statement. A gateway would implement the same two calls.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from engine.committees import UNPUBLISHED


@dataclass(frozen=True)
class ReferenceCheck:
    """The outcome of checking a recorded payment reference."""

    ok: bool
    # True when the provider itself saw the money; False when someone must confirm it.
    settled: bool
    message: str = ""


class PaymentProvider(Protocol):
    """A way to pay: tell the applicant how, and check what they record."""

    method: str
    title: str

    def instructions(self, terms: Mapping[str, Any]) -> list[str]:
        """Steps shown on the payment step (Chinese), given the payment terms."""
        ...

    def check(self, reference: str) -> ReferenceCheck:
        """Whether a recorded reference is acceptable (and whether it is already settled)."""
        ...


REFERENCE = re.compile(r"[0-9A-Za-z][0-9A-Za-z\-_/]{5,63}")


class BankTransfer:
    """Offline bank transfer to the office's account; the office confirms the reference."""

    method = "bank_transfer"
    title = "银行转账"

    def instructions(self, terms: Mapping[str, Any]) -> list[str]:
        payee = terms.get("payee") or {}
        return [
            f"请通过银行转账向「{payee.get('account_name') or payee.get('name') or UNPUBLISHED}」"
            f"缴纳{terms.get('item') or '评审费'} {terms.get('amount')} 元。",
            f"开户银行：{payee.get('bank') or UNPUBLISHED}；"
            f"账号：{payee.get('account_no') or UNPUBLISHED}。",
            f"转账附言请填写：{terms.get('remark')}。",
            "转账后在本页填写银行交易流水号（转账凭证上的编号），由评委会办公室核对确认；"
            "核对不符的，将退回并说明原因。",
        ]

    def check(self, reference: str) -> ReferenceCheck:
        text = (reference or "").strip()
        if not REFERENCE.fullmatch(text):
            return ReferenceCheck(
                False,
                False,
                "请填写银行交易流水号：6–64 位字母、数字或 - _ /",
            )
        return ReferenceCheck(True, False)


PROVIDERS: dict[str, PaymentProvider] = {"bank_transfer": BankTransfer()}


def provider_for(method: str | None) -> PaymentProvider:
    """The provider of a method (the bank transfer when unknown or unset)."""
    return PROVIDERS.get(method or "", PROVIDERS["bank_transfer"])


def payment_terms(committee: Any, level: str, application_id: Any) -> dict[str, Any]:
    """Amount, payee and how to pay, for one application reviewed by one committee."""
    fee = committee.fee(level)
    provider = provider_for(committee.payment_method)
    terms: dict[str, Any] = {
        "committee_id": committee.id,
        "item": fee["item"],
        "amount": fee["amount"],
        "currency": "CNY",
        "payee": {
            "name": committee.payee.get("name"),
            "account_name": committee.payee.get("account_name"),
            "account_no": committee.payee.get("account_no"),
            "bank": committee.payee.get("bank"),
        },
        "method": provider.method,
        "method_title": provider.title,
        "remark": f"职称评审费-申报{application_id}",
    }
    terms["instructions"] = provider.instructions(terms)
    return terms
