"""Helpers shared by the page blueprints: services of the app, the signed-in actor, uploads."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import abort, current_app
from flask_login import login_required
from werkzeug.datastructures import MultiDict

from engine import (
    Actor,
    Applicants,
    Applications,
    Documents,
    Dossiers,
    FeeSettings,
    FileRejectedError,
    Units,
)
from engine.read_models import DesignerForms, Directory, Inbox, Profiles, Worklists
from web.auth import page_actor
from web.input_guard import MAX_OFFSET, query_int

UPLOAD_SUFFIX = "__upload"
PAGE = 50  # the rows a list page shows at a time (上一页 / 下一页: macros/pager.html)


def page_offset() -> int:
    """A list page's ``?offset=`` (0 .. MAX_OFFSET; 400 otherwise)."""
    return query_int("offset", 0, 0, MAX_OFFSET)


def units() -> Units:
    return current_app.extensions["units"]


def applicants() -> Applicants:
    return current_app.extensions["applicants"]


def dossiers() -> Dossiers:
    return current_app.extensions["dossiers"]


def fee_settings() -> FeeSettings:
    return current_app.extensions["fee_settings"]


def applications() -> Applications:
    return current_app.extensions["applications"]


def documents() -> Documents:
    return current_app.extensions["documents"]


def directory() -> Directory:
    return current_app.extensions["directory"]


def designer_forms() -> DesignerForms:
    return current_app.extensions["designer_forms"]


def profiles() -> Profiles:
    return current_app.extensions["profiles"]


def inbox() -> Inbox:
    return current_app.extensions["inbox"]


def worklists() -> Worklists:
    return current_app.extensions["worklists"]


def me() -> Actor:
    """The signed-in actor (views are wrapped in login_required)."""
    who = page_actor()
    if who is None:
        abort(401)
    return who


def whole_number(value: str) -> Any:
    """A whole number typed in a form field; anything else goes on for the service to refuse."""
    text = value.strip()
    if not text:
        return None
    return int(text) if text.isascii() and text.isdigit() and len(text) < 10 else text


def allowed_by(rule: Callable[[Actor], bool]) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Sign-in required, and 403 unless the engine's access rule admits the actor."""

    def wrap(view: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(view)
        def inner(*args: Any, **kwargs: Any) -> Any:
            if not rule(me()):
                abort(403, "该页面不适用于您的角色")
            return view(*args, **kwargs)

        return login_required(inner)

    return wrap


def org_names_of(application: dict[str, Any]) -> dict[str, str]:
    """Names of every org an application detail mentions (chain, tasks, timeline, unit)."""
    ids = [*application.get("chain", []), application["unit"]["id"]]
    ids += [t.get("org_id") for t in application.get("current_tasks", [])]
    ids += [e.get("org") for e in application.get("timeline", [])]
    return directory().org_names(ids)


def merge_uploads(
    form: MultiDict, files: MultiDict, actor: Actor
) -> tuple[MultiDict, dict[str, str]]:
    """Store each `<field>__upload` file; its id joins the posted values of `<field>`.

    Returns the merged fields and per-field messages for refused files.
    """
    merged = MultiDict(form)
    errors: dict[str, str] = {}
    for key in files:
        if not key.endswith(UPLOAD_SUFFIX):
            continue
        base = key.removesuffix(UPLOAD_SUFFIX)
        for upload in files.getlist(key):
            if not upload or not upload.filename:
                continue
            try:
                info = documents().upload(upload.read(), upload.filename, actor)
            except FileRejectedError as exc:
                errors[base] = f"{upload.filename}：{exc.message}"
                continue
            merged.add(base, info["file_id"])
    return merged, errors
