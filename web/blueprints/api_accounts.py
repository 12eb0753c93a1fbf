"""Self-registration, the entrustment certificate, dossiers, files and fee settings."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request
from werkzeug.exceptions import BadRequest

from engine import FileRejectedError, policy
from web.api_schemas import Reply, page, pdf, ref
from web.blueprints._common import actor, json_body
from web.downloads import pdf_download
from web.security import register_limit

bp = Blueprint("accounts", __name__)

OBJ = {"type": "object"}
# The account fields both registrations share, with the rules the server applies to them.
ACCOUNT_PROPS = {
    "username": {
        "type": "string",
        "description": "3-64 letters, digits or _ . -; trimmed, NFKC-normalised and lower-cased"
        " before the uniqueness check (409 username_taken)",
    },
    "password": {
        "type": "string",
        "description": "at least 8 characters from 3 of: lower case, upper case, digits, symbols;"
        " not containing the username; not a common password (422 on password)",
    },
    "name": {
        "type": "string",
        "description": "trimmed and NFKC-normalised; invisible or bidi control characters: 422",
    },
}
FILE = {"type": "object", "properties": {"file": {"type": "string", "format": "binary"}}}
DOCS = [
    (
        "post",
        "/units/register",
        "A unit registers itself (GB 32100 credit code; rate-limited per address, 429)",
        "accounts",
        True,
        {
            "type": "object",
            "properties": ACCOUNT_PROPS,
            "required": [
                "name",
                "credit_code",
                "dept_org_id",
                "contact",
                "phone",
                "username",
                "password",
            ],
        },
        Reply("201", ref("UnitRegistered")),
    ),
    (
        "get",
        "/units/{unit_id}/entrustment-template.pdf",
        "The entrustment certificate to stamp",
        "accounts",
        False,
        None,
        pdf(),
    ),
    (
        "post",
        "/units/{unit_id}/entrustment",
        "Upload the stamped certificate (multipart file)",
        "accounts",
        False,
        FILE,
        Reply("202", ref("EntrustmentAccepted")),
    ),
    (
        "post",
        "/applicants/register",
        "An applicant registers (GB 11643 ID number; rate-limited per address, 429)",
        "accounts",
        True,
        {
            "type": "object",
            "properties": ACCOUNT_PROPS,
            "required": ["name", "id_number", "phone", "unit_id", "username", "password"],
        },
        Reply("201", ref("ApplicantRegistered")),
    ),
    (
        "get",
        "/me/dossier",
        "The caller's achievement dossier with its form",
        "dossier",
        False,
        None,
        ref("Dossier"),
    ),
    (
        "put",
        "/me/dossier",
        "Replace the dossier's data (validated against its schema)",
        "dossier",
        False,
        OBJ,
        ref("Dossier"),
    ),
    (
        "post",
        "/me/dossier/submit",
        "Send the dossier to the unit for review",
        "dossier",
        False,
        None,
        ref("DossierSubmitted"),
    ),
    (
        "post",
        "/files",
        "Upload a checked PDF (multipart file)",
        "files",
        False,
        FILE,
        Reply("201", ref("StoredFile")),
    ),
    (
        "get",
        "/files/{file_id}",
        "Download a file the caller may see",
        "files",
        False,
        None,
        pdf(),
    ),
    (
        "get",
        "/orgs/{org_id}/fee-setting",
        "A department's fee switch",
        "orgs",
        False,
        None,
        ref("FeeSetting"),
    ),
    (
        "put",
        "/orgs/{org_id}/fee-setting",
        "Set a department's fee switch",
        "orgs",
        False,
        {"type": "object", "required": ["charge"], "properties": {"charge": {"type": "boolean"}}},
        ref("FeeSetting"),
    ),
    (
        "get",
        "/me/messages",
        "The caller's in-app messages, newest first",
        "accounts",
        False,
        None,
        page("Message"),
    ),
    (
        "post",
        "/me/messages/{message_id}/read",
        "Mark a message read",
        "accounts",
        False,
        None,
        ref("MessageRead"),
    ),
]


def service(name: str) -> Any:
    return current_app.extensions[name]


def _upload() -> tuple[bytes, str]:
    upload = request.files.get("file")
    if upload is None:
        raise BadRequest('需要 multipart 字段 "file"')
    data = upload.read()
    if not data:
        raise FileRejectedError("文件为空", code="empty_file")
    return data, upload.filename or "upload.pdf"


def pdf_response(data: bytes, filename: str, ascii_name: str | None = None) -> Response:
    """A PDF to save, never to render in the API's origin (nosniff is on every response)."""
    return pdf_download(data, filename, ascii_name or filename)


@bp.post("/units/register")
@register_limit
def units_register() -> Any:
    return jsonify(service("units").register_unit(json_body())), 201


@bp.get("/units/<unit_id>/entrustment-template.pdf")
def entrustment_template(unit_id: str) -> Any:
    return pdf_response(service("units").entrustment_template(unit_id, actor()), "entrustment.pdf")


@bp.post("/units/<unit_id>/entrustment")
def entrustment(unit_id: str) -> Any:
    data, filename = _upload()
    return jsonify(service("units").upload_entrustment(unit_id, data, filename, actor())), 202


@bp.post("/applicants/register")
@register_limit
def applicants_register() -> Any:
    return jsonify(service("applicants").register_applicant(json_body())), 201


@bp.get("/me/dossier")
def dossier() -> Any:
    return jsonify(service("dossiers").get_dossier(actor()))


@bp.put("/me/dossier")
def dossier_put() -> Any:
    body = json_body()
    data = body.get("data", body) if set(body) == {"data"} else body
    return jsonify(service("dossiers").put_dossier(data, actor()))


@bp.post("/me/dossier/submit")
def dossier_submit() -> Any:
    return jsonify(service("dossiers").submit_dossier(actor()))


@bp.post("/files")
def files_upload() -> Any:
    data, filename = _upload()
    return jsonify(current_app.extensions["documents"].upload(data, filename, actor())), 201


@bp.get("/files/<file_id>")
def files_get(file_id: str) -> Any:
    data, name = current_app.extensions["documents"].download(file_id, actor())
    return pdf_response(data, name, f"file-{file_id}.pdf")


@bp.get("/orgs/<org_id>/fee-setting")
def fee_get(org_id: str) -> Any:
    return jsonify(service("fee_settings").get_fee(org_id, actor()))


@bp.put("/orgs/<org_id>/fee-setting")
def fee_put(org_id: str) -> Any:
    body = json_body()
    return jsonify(service("fee_settings").set_fee(org_id, body.get("charge"), actor()))


@bp.get("/me/messages")
def messages() -> Any:
    who = actor()
    items = current_app.extensions["inbox"].notifications(who.id, policy.message_org(who))
    return jsonify({"items": items, "total": len(items)})


@bp.post("/me/messages/<id:message_id>/read")
def message_read(message_id: int) -> Any:
    return jsonify(current_app.extensions["accounts"].mark_message_read(message_id, actor()))
