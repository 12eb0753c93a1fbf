"""统计看板: the state of the whole review for the platform, committee offices and HRSS, as
server-drawn charts with their numbers, and the same numbers as a CSV file for Excel."""

from __future__ import annotations

import csv
import io
from typing import Any
from urllib.parse import quote

from flask import Blueprint, Response, render_template, request

from engine import Dashboard, DashboardFilters, InvalidDataError, may_see_dashboard
from web.blueprints._common import dashboard
from web.blueprints._page_common import allowed_by, me
from web.charts import bar_chart, weekly_chart
from web.labels import APPLICATION_STATUS, short_time

bp = Blueprint("dashboard_pages", __name__, url_prefix="/dashboard")

DECISION_WORDS = {"approve": "审查通过", "return": "退回", "reject": "评审不通过"}
SCOPE_WORDS = {
    "all": "全部申报",
    "committees": "本办公室所属评委会的申报",
    "chain": "经本部门审查的申报",
}
CSV_HEADER = ["统计项", "分组", "周", "指标", "数值"]


def _status(code: str) -> str:
    return APPLICATION_STATUS.get(code, code)


def charts(numbers: dict[str, Any]) -> dict[str, Any]:
    """The dashboard's charts, drawn from its numbers."""
    overdue = numbers["overdue"]
    return {
        "stage": bar_chart(
            "chart-stage",
            "各状态申报数",
            [(_status(r["status"]), r["count"]) for r in numbers["by_stage"]],
            unit=" 件",
        ),
        "level": bar_chart(
            "chart-level",
            "各审查层级待处理申报数",
            [(r["name"], r["count"]) for r in numbers["by_level"]],
            unit=" 件",
        ),
        "overdue": bar_chart(
            "chart-overdue",
            f"各层级超期任务数（等待超过 {numbers['overdue_after_workdays']} 个工作日）",
            [(r["name"], r["count"]) for r in overdue["by_level"]],
            unit=" 件",
            alert=True,
        ),
        "weekly": weekly_chart(
            "chart-weekly",
            "各层级每周审查量（审查通过、退回、评审不通过合计）",
            numbers["weeks"],
            [(r["name"], [w["total"] for w in r["weeks"]]) for r in numbers["throughput"]],
        ),
        "median": bar_chart(
            "chart-median",
            "各层级处理时长中位数（工作日）",
            [(r["name"], r["median_workdays"]) for r in numbers["median"]],
            unit=" 个工作日",
        ),
    }


def _filters(service: Dashboard) -> tuple[DashboardFilters, InvalidDataError | None]:
    try:
        return service.parse_filters(me(), request.args), None
    except InvalidDataError as exc:
        return DashboardFilters(), exc


@bp.get("")
@allowed_by(may_see_dashboard)
def index() -> Any:
    service = dashboard()
    filters, error = _filters(service)
    numbers = None if error else service.numbers(me(), filters)
    return render_template(
        "dashboard/index.html",
        numbers=numbers,
        charts=charts(numbers) if numbers else None,
        options=service.options(me()),
        values=request.args,
        error=error,
        scope=SCOPE_WORDS,
        words=DECISION_WORDS,
        status_label=_status,
    ), (422 if error else 200)


@bp.get("/export.csv")
@allowed_by(may_see_dashboard)
def export() -> Any:
    service = dashboard()
    filters = service.parse_filters(me(), request.args)
    numbers = service.numbers(me(), filters)
    service.record_export(me(), filters, "csv")
    options = service.options(me())
    # The BOM makes Excel read the file as UTF-8, so the Chinese stays readable.
    data = "\ufeff" + csv_text(numbers, options)
    stamp = numbers["generated_at"][:10].replace("-", "")
    response = Response(data.encode("utf-8"), mimetype="text/csv")
    response.headers["Content-Disposition"] = (
        f'attachment; filename="dashboard-{stamp}.csv"; '
        f"filename*=UTF-8''{quote(f'统计看板-{stamp}.csv', safe='')}"
    )
    response.headers["Cache-Control"] = "private, no-store"
    return response


def csv_text(numbers: dict[str, Any], options: dict[str, Any]) -> str:
    """The dashboard's numbers as long-format CSV rows (one number per row)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    for row in _csv_rows(numbers, options):
        writer.writerow(["" if v is None else v for v in row])
    return out.getvalue()


def _csv_rows(numbers: dict[str, Any], options: dict[str, Any]) -> list[list[Any]]:
    names = {c["id"]: c["name"] for c in options["committees"]}
    names |= {o["id"]: o["name"] for o in options["orgs"]}
    cycles = {c["id"]: c["name"] for c in options.get("cycles", [])}
    f = numbers["filters"]
    rows: list[list[Any]] = [
        ["生成时间", "", "", "", short_time(numbers["generated_at"])],
        ["筛选条件", "评委会", "", "", names.get(f["committee"], f["committee"] or "全部")],
        ["筛选条件", "申报年份", "", "", f["year"] or "全部"],
        ["筛选条件", "机构", "", "", names.get(f["org"], f["org"] or "全部")],
        ["筛选条件", "申报年度（批次）", "", "", cycles.get(str(f["cycle"]), f["cycle"] or "全部")],
        ["申报总数", "", "", "申报数", numbers["total"]],
    ]
    rows += [
        ["按状态", _status(r["status"]), "", "申报数", r["count"]] for r in numbers["by_stage"]
    ]
    rows += [["按审查层级", r["name"], "", "待处理申报数", r["count"]] for r in numbers["by_level"]]
    after = numbers["overdue_after_workdays"]
    rows.append(["超期任务", "合计", "", f"等待超过{after}个工作日", numbers["overdue"]["total"]])
    rows += [
        ["超期任务", r["name"], "", f"等待超过{after}个工作日", r["count"]]
        for r in numbers["overdue"]["by_level"]
    ]
    for level in numbers["throughput"]:
        for week in (w for w in level["weeks"] if w["total"]):  # weeks without decisions: 0
            rows += [
                ["每周审查量", level["name"], week["week"], word, week[code]]
                for code, word in DECISION_WORDS.items()
            ]
    for r in numbers["median"]:
        rows += [
            ["处理时长", r["name"], "", "决定数", r["decisions"]],
            ["处理时长", r["name"], "", "中位数（小时）", r["median_hours"]],
            ["处理时长", r["name"], "", "中位数（工作日）", r["median_workdays"]],
        ]
    rows += [
        [
            "超期任务明细",
            t["level_name"],
            "",
            f"申报 {t['application_id']} · {t['title']} · 到达 {short_time(t['arrived_at'])}",
            t["waited_workdays"],
        ]
        for t in numbers["overdue"]["tasks"]
    ]
    return rows
