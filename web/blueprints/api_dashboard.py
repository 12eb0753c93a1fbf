"""The dashboard of the whole review as JSON: GET /api/v1/dashboard?committee=&year=&org=&cycle=."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, request

from web.api_schemas import INT, OPT_STR, STR, TIME, array, obj
from web.blueprints._common import actor, dashboard

bp = Blueprint("dashboard", __name__)

NUMBER_OR_NULL = {"type": ["number", "null"]}
LEVEL_COUNT = obj({"level": STR, "name": STR, "count": INT})
WEEK = obj({"week": STR, "approve": INT, "return": INT, "reject": INT, "total": INT})
DASHBOARD = obj(
    {
        "filters": obj(
            {"committee": OPT_STR, "year": {"type": ["integer", "null"]}, "org": OPT_STR},
            {"cycle": {"type": ["integer", "null"]}},
        ),
        "scope": {"enum": ["all", "committees", "chain"]},
        "generated_at": TIME,
        "overdue_after_workdays": INT,
        "total": INT,
        "by_stage": array(obj({"status": STR, "count": INT})),
        "by_level": array(LEVEL_COUNT),
        "overdue": obj(
            {
                "total": {"type": ["integer", "null"]},
                "by_level": array(LEVEL_COUNT),
                "tasks": array(
                    obj(
                        {
                            "task_id": STR,
                            "task": STR,
                            "title": STR,
                            "application_id": STR,
                            "level": STR,
                            "level_name": STR,
                            "org_id": OPT_STR,
                            "arrived_at": TIME,
                            "waited_workdays": INT,
                        }
                    )
                ),
            }
        ),
        "weeks": array(STR),
        "throughput": array(obj({"level": STR, "name": STR, "weeks": array(WEEK)})),
        "median": array(
            obj(
                {
                    "level": STR,
                    "name": STR,
                    "decisions": INT,
                    "median_hours": NUMBER_OR_NULL,
                    "median_workdays": NUMBER_OR_NULL,
                }
            )
        ),
        "notes": array(STR),
    }
)
DOCS = [
    (
        "get",
        "/dashboard",
        "统计看板: applications by stage and by level, tasks overdue in working days, decisions"
        " per ISO week (last 12) and median time per level, within the caller's scope (platform:"
        " everything; committee office: its committees; HRSS: applications whose chain passes"
        " it; 403 for other roles). Filters: committee (catalogue id), year (of filing), org"
        " (a unit or a level of the chain), cycle (an annual cycle's id); unknown values"
        " answer 422",
        "applications",
        False,
        None,
        DASHBOARD,
    )
]


@bp.get("/dashboard")
def show() -> Any:
    who = actor()
    filters = dashboard().parse_filters(who, request.args)
    numbers = dashboard().numbers(who, filters)
    dashboard().record_export(who, filters, "json")
    return jsonify(numbers)
