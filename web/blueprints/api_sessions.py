"""Review sessions (评审会): the office forms a panel, records attendance, reads the tallies;
objections to a result during its publicity."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, jsonify

from engine.ballot_close import ResultObjections
from engine.review_sessions import ReviewSessions
from web.api_schemas import Reply, page, ref
from web.api_schemas_sessions import ATTENDANCE_BODY, FORM_SESSION_BODY, OBJECTION_BODY
from web.blueprints._common import actor, json_body, listing

bp = Blueprint("review_sessions", __name__)

DOCS = [
    (
        "post",
        "/cycles/{cycle_id}/sessions",
        "Form a review session (评审会) of a cycle: experts picked by username or drawn at random"
        " from the committee's pool by specialty, at least the rules file's min_panel_size. The"
        " session takes the cycle's applications whose paper has been received and that wait"
        " for a session; recusals (same unit, declared relation) are listed with reasons. The"
        " committee's office or an operator; 409 no_applications when none waits",
        "committee",
        False,
        FORM_SESSION_BODY,
        Reply("201", ref("ReviewSession")),
    ),
    (
        "get",
        "/cycles/{cycle_id}/sessions",
        "A cycle's review sessions, newest first (its office and the platform)",
        "committee",
        False,
        None,
        page("ReviewSession"),
    ),
    (
        "get",
        "/sessions/{session_id}",
        "A session: panel, attendance, recusals, voting progress; tallies null until every"
        " present expert has voted. Individual votes are never returned",
        "committee",
        False,
        None,
        ref("ReviewSession"),
    ),
    (
        "post",
        "/sessions/{session_id}/attendance",
        "Record who is present. Fewer than the quorum (two thirds of the panel) is 422"
        " no_quorum; otherwise each application gets an expert_vote task per present,"
        " non-recused expert (409 ballot_open once voting has started)",
        "committee",
        False,
        ATTENDANCE_BODY,
        ref("ReviewSession"),
    ),
    (
        "post",
        "/applications/{application_id}/result-objections",
        "Record an objection raised during the results publicity (评审结果公示); the office"
        " gets the task review_objection. 409 not_in_result_publicity outside the window",
        "committee",
        False,
        OBJECTION_BODY,
        ref("ObjectionRecorded"),
    ),
]


def sessions() -> ReviewSessions:
    return current_app.extensions["review_sessions"]


@bp.post("/cycles/<id:cycle_id>/sessions")
def form_session(cycle_id: int) -> Any:
    return jsonify(sessions().form_session(cycle_id, json_body(), actor()).as_dict()), 201


@bp.get("/cycles/<id:cycle_id>/sessions")
def index(cycle_id: int) -> Any:
    items = [s.as_dict() for s in sessions().list_sessions(cycle_id, actor())]
    return jsonify(listing(items, len(items)))


@bp.get("/sessions/<id:session_id>")
def show(session_id: int) -> Any:
    return jsonify(sessions().get_session(session_id, actor()).as_dict())


@bp.post("/sessions/<id:session_id>/attendance")
def attendance(session_id: int) -> Any:
    return jsonify(sessions().record_attendance(session_id, json_body(), actor()).as_dict())


@bp.post("/applications/<id:application_id>/result-objections")
def objection(application_id: int) -> Any:
    objections: ResultObjections = current_app.extensions["result_objections"]
    return jsonify(objections.record(application_id, json_body(), actor()))
