"""Title applications: file, list, show, the review form and its public verification."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request

from web.answers import application_detail_json, application_json
from web.api_schemas import Reply, page, pdf, ref, svg
from web.blueprints._common import (
    actor,
    deployments,
    json_body,
    listing,
    notices,
    paging,
)
from web.blueprints.api_accounts import pdf_response

bp = Blueprint("applications", __name__)

OBJ = {"type": "object"}
DOCS = [
    (
        "get",
        "/committees",
        "The committee catalogue (评委会): office, address, contacts, what it reviews, fees"
        " (any signed-in user)",
        "applications",
        False,
        None,
        page("Committee"),
    ),
    (
        "post",
        "/applications",
        "File an application (needs an approved dossier)",
        "applications",
        False,
        {
            "type": "object",
            "required": ["series", "level", "specialty"],
            "examples": [{"series": "工程", "level": "中级", "specialty": "水利工程"}],
        },
        Reply("201", ref("ApplicationCreated")),
    ),
    (
        "get",
        "/applications",
        "Applications visible to the caller (filters: status, org)",
        "applications",
        False,
        None,
        page("Application"),
    ),
    (
        "get",
        "/applications/{application_id}",
        "One application with tasks, chain and timeline",
        "applications",
        False,
        None,
        ref("ApplicationDetail"),
    ),
    (
        "get",
        "/applications/{application_id}/review-form.pdf",
        "The watermarked review form (409 until final approval and payment)",
        "applications",
        False,
        None,
        pdf(),
    ),
    (
        "get",
        "/applications/{application_id}/review-form-public.pdf",
        "The publicity version (no ID number or phone) for the unit's notice",
        "applications",
        False,
        None,
        pdf(),
    ),
    (
        "get",
        "/verify/{code}",
        "Public: does a verification code belong to a real exported form",
        "applications",
        True,
        None,
        ref("Verification"),
    ),
    (
        "get",
        "/applications/{application_id}/diagram.svg",
        "The application's process diagram with its progress marked",
        "applications",
        False,
        None,
        svg(),
    ),
    (
        "post",
        "/applications/{application_id}/urge",
        "催办: remind the holders of the current tasks (once per task per day)",
        "applications",
        False,
        None,
        ref("UrgeResult"),
    ),
    (
        "post",
        "/applications/{application_id}/withdraw",
        "撤回: the applicant withdraws (until the unit completes its review; status withdrawn), "
        "or the unit withdraws its recommendation (until the first level decides; back to the "
        "unit's review). 409 withdraw_too_late once it is too late, saying why",
        "applications",
        False,
        {
            "type": "object",
            "required": ["reason"],
            "properties": {"reason": {"type": "string", "minLength": 1, "maxLength": 2000}},
            "examples": [{"reason": "今年暂不申报，明年材料齐全后再报"}],
        },
        ref("WithdrawResult"),
    ),
]


def applications() -> Any:
    return current_app.extensions["applications"]


@bp.get("/committees")
def committees() -> Any:
    actor()  # any signed-in user: applicants choose from it, offices and reviewers read it
    limit, offset = paging()
    rows = current_app.extensions["designer_forms"].committees_listing()
    return jsonify(listing(rows[offset : offset + limit], len(rows)))


@bp.post("/applications")
def create() -> Any:
    return jsonify(applications().create(json_body(), actor())), 201


@bp.get("/applications")
def index() -> Any:
    limit, offset = paging()
    items, total = applications().list(
        actor(),
        status=request.args.get("status") or None,
        org=request.args.get("org") or None,
        limit=limit,
        offset=offset,
    )
    return jsonify(listing([application_json(a) for a in items], total))


@bp.get("/applications/<id:application_id>")
def show(application_id: int) -> Any:
    return jsonify(application_detail_json(applications().get(application_id, actor())))


def exports() -> Any:
    return current_app.extensions["exports"]


@bp.get("/applications/<id:application_id>/review-form.pdf")
def review_form(application_id: int) -> Any:
    pdf = exports().review_form(application_id, actor())
    name = exports().download_name(application_id, actor())
    return pdf_response(pdf, name, f"review-form-{application_id}.pdf")


@bp.get("/applications/<id:application_id>/review-form-public.pdf")
def review_form_public(application_id: int) -> Any:
    pdf = exports().public_version(application_id, actor())
    name = exports().download_name(application_id, actor(), public=True)
    return pdf_response(pdf, name, f"review-form-public-{application_id}.pdf")


@bp.get("/verify/<code>")
def verify(code: str) -> Any:
    return jsonify(exports().verify(code))


@bp.get("/applications/<id:application_id>/diagram.svg")
def diagram(application_id: int) -> Any:
    detail = applications().get(application_id, actor())
    svg = deployments().instance_diagram(int(detail.summary.instance_id))
    return Response(svg, mimetype="image/svg+xml")


@bp.post("/applications/<id:application_id>/urge")
def urge(application_id: int) -> Any:
    return jsonify(notices().urge(application_id, actor()))


def withdrawals() -> Any:
    return current_app.extensions["withdrawals"]


@bp.post("/applications/<id:application_id>/withdraw")
def withdraw(application_id: int) -> Any:
    return jsonify(withdrawals().withdraw(application_id, json_body(), actor()))
