"""职称证书: the public lookup by number and name, revocation, the electronic certificate PDF."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, jsonify, request

from engine import Certificates, InvalidDataError
from web.api_schemas import pdf, ref
from web.blueprints._common import actor, json_body
from web.blueprints.api_accounts import pdf_response
from web.security import lookup_limit

bp = Blueprint("certificates", __name__)

MAX_NAME = 100
DOCS = [
    (
        "get",
        "/certificates/{number}",
        "Public (rate-limited): a certificate by its number and the holder's full name (query"
        " `name`); the name comes back masked. 404 when number and name do not match (the same"
        " for an unknown number and a wrong name)",
        "certificates",
        True,
        None,
        ref("CertificateLookup"),
    ),
    (
        "post",
        "/certificates/{number}/revoke",
        "Revoke a certificate with a reason: the HRSS department that issued it (or an"
        " administrator); the holder is told by message and SMS. 409 already_revoked",
        "certificates",
        False,
        {
            "type": "object",
            "required": ["reason"],
            "properties": {"reason": {"type": "string", "minLength": 1, "maxLength": 2000}},
            "examples": [{"reason": "经查，申报材料中的业绩证明系伪造，依规撤销"}],
        },
        ref("CertificateRevoked"),
    ),
    (
        "get",
        "/applications/{application_id}/certificate.pdf",
        "The electronic certificate (watermark, QR code to the public lookup, verification"
        " code); 409 not_certified before it is issued",
        "certificates",
        False,
        None,
        pdf(),
    ),
]


def certificates() -> Certificates:
    """Issue, look up, revoke and print certificates."""
    return current_app.extensions["certificates"]


def holder_name(value: Any) -> str:
    """The full name a lookup asks with; 422 when missing or implausibly long."""
    name = value.strip() if isinstance(value, str) else ""
    if not name:
        raise InvalidDataError("请填写持证人姓名", fields={"name": "必填"})
    if len(name) > MAX_NAME:
        raise InvalidDataError("姓名过长", fields={"name": f"不超过 {MAX_NAME} 个字"})
    return name


@bp.get("/certificates/<number>")
@lookup_limit
def lookup(number: str) -> Any:
    return jsonify(certificates().lookup(number, holder_name(request.args.get("name"))))


@bp.post("/certificates/<number>/revoke")
def revoke(number: str) -> Any:
    return jsonify(certificates().revoke(actor(), number, json_body()))


@bp.get("/applications/<id:application_id>/certificate.pdf")
def certificate_pdf(application_id: int) -> Any:
    data = certificates().pdf(actor(), application_id)
    name = certificates().download_name(actor(), application_id)
    return pdf_response(data, name, f"certificate-{application_id}.pdf")
