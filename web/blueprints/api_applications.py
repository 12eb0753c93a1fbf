"""Title applications: file, list, show, the review form and its public verification."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, jsonify, request

from web.blueprints._common import actor, json_body, listing, paging

bp = Blueprint("applications", __name__)

OBJ = {"type": "object"}
DOCS = [
    (
        "post",
        "/applications",
        "File an application (needs an approved dossier)",
        "applications",
        False,
        {"type": "object", "required": ["series", "level", "specialty"]},
        OBJ,
    ),
    (
        "get",
        "/applications",
        "Applications visible to the caller (filters: status, org)",
        "applications",
        False,
        None,
        OBJ,
    ),
    (
        "get",
        "/applications/{application_id}",
        "One application with tasks, chain and timeline",
        "applications",
        False,
        None,
        OBJ,
    ),
]


def applications() -> Any:
    return current_app.extensions["applications"]


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
    return jsonify(listing(items, total))


@bp.get("/applications/<application_id>")
def show(application_id: str) -> Any:
    return jsonify(applications().get(application_id, actor()))
