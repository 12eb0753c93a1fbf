"""Eligibility hints (资历, 年度考核, 继续教育, 评聘结合) computed from a dossier.

The thresholds live in bpmn/rules/eligibility.json, owned by designers; the hints inform
the reviewer, who decides.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Any

from engine.workdays import parse_date

RULES_FILE = Path("rules") / "eligibility.json"


def load_rules(bpmn_dir: Path) -> dict[str, Any]:
    """The rules file of a bpmn directory (empty rules when absent)."""
    path = bpmn_dir / RULES_FILE
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}


def _date(value: Any) -> date | None:
    try:
        return parse_date(value)
    except ValueError:
        return None


def _years_between(start: date, end: date) -> int:
    return end.year - start.year - ((end.month, end.day) < (start.month, start.day))


def seniority(rules: Mapping, dossier: Mapping, title: str, today: date) -> dict[str, Any]:
    rule = (rules.get("seniority") or {}).get(title)
    hint: dict[str, Any] = {
        "check": "seniority",
        "label": "资历",
        "ok": None,
        "detail": "无该资格的资历规则",
    }
    if not rule:
        return hint
    education = dossier.get("highest_education") or ""
    current = dossier.get("current_title") or {}
    needed = (rule.get("years_after_title") or {}).get(education)
    obtained = _date(current.get("obtained"))
    if needed is None:
        hint["detail"] = f"学历「{education or '未填'}」不在申报{title}的学历要求中"
        hint["ok"] = False
        return hint
    if needed == 0:
        hint.update(ok=True, detail=f"{education}可直接申报{title}")
        return hint
    if current.get("name") != rule.get("requires_title") or obtained is None:
        hint.update(
            ok=False,
            detail=f"需先取得{rule.get('requires_title')}（现为{current.get('name') or '未填'}）",
        )
        return hint
    years = _years_between(obtained, today)
    hint.update(
        ok=years >= needed,
        detail=f"{education}，{obtained.isoformat()} 取得{current['name']}，已满 {years} 年（要求不少于 {needed} 年）",
    )
    return hint


def appraisals(rules: Mapping, dossier: Mapping, today: date) -> dict[str, Any]:
    rule = rules.get("appraisal") or {}
    order = rule.get("grade_order") or ["不合格", "基本合格", "合格", "优秀"]
    minimum = order.index(rule.get("min_grade", "合格"))
    years = [today.year - i for i in range(1, int(rule.get("last_years", 3)) + 1)]
    grades = {int(a.get("year", 0)): a.get("grade") for a in dossier.get("appraisals") or []}
    missing = [y for y in years if y not in grades]
    low = [
        f"{y}年{grades[y]}"
        for y in years
        if y in grades and (grades[y] not in order or order.index(grades[y]) < minimum)
    ]
    ok = not missing and not low
    detail = f"近 {len(years)} 年（{years[-1]}-{years[0]}）均为{rule.get('min_grade', '合格')}以上"
    if not ok:
        detail = "；".join(
            filter(
                None,
                [
                    f"缺少 {', '.join(map(str, missing))} 年考核" if missing else "",
                    f"{'、'.join(low)}" if low else "",
                ],
            )
        )
    return {"check": "appraisal", "label": "年度考核", "ok": ok, "detail": detail}


def continuing_education(rules: Mapping, dossier: Mapping, today: date) -> dict[str, Any]:
    rule = rules.get("continuing_education") or {}
    total_min = float(rule.get("min_total_hours", 90))
    pro_min = float(rule.get("min_professional_hours", 60))
    years = [today.year - i for i in range(1, int(rule.get("last_years", 3)) + 1)]
    rows = {int(r.get("year", 0)): r for r in dossier.get("continuing_education") or []}
    short = []
    for year in years:
        row = rows.get(year, {})
        pro = float(row.get("professional_hours") or 0)
        total = pro + float(row.get("public_hours") or 0)
        if total < total_min or pro < pro_min:
            short.append(f"{year}年{total:g}学时（专业{pro:g}）")
    detail = (
        f"近 {len(years)} 年每年不少于 {total_min:g} 学时（专业科目不少于 {pro_min:g}）"
        if not short
        else "学时不足：" + "；".join(short)
    )
    return {"check": "continuing_education", "label": "继续教育", "ok": not short, "detail": detail}


def post_quota(rules: Mapping, dossier: Mapping, application: Mapping) -> dict[str, Any]:
    staff = bool(
        application.get("is_public_institution_staff", dossier.get("is_public_institution_staff"))
    )
    if not staff and (rules.get("post_quota") or {}).get("public_institution_staff_only", True):
        return {
            "check": "post_quota",
            "label": "评聘结合",
            "ok": None,
            "detail": "非事业编制人员，不适用",
        }
    quota = dossier.get("post_quota") or {}
    vacancy = application.get("post_vacancy")
    approved, occupied = quota.get("approved_posts"), quota.get("occupied_posts")
    if isinstance(approved, int) and isinstance(occupied, int):
        ok: bool | None = occupied < approved
        detail = f"核定 {approved} 个岗位，已聘 {occupied} 人，{'有' if ok else '无'}空缺"
    else:
        ok = bool(vacancy) if vacancy is not None else None
        detail = "单位声明有岗位空缺" if vacancy else "未提供岗位核定与聘用数据"
    return {"check": "post_quota", "label": "评聘结合", "ok": ok, "detail": detail}


def hints(
    rules: Mapping, dossier: Mapping, application: Mapping, today: date
) -> list[dict[str, Any]]:
    """Every hint for one application (ok None = not applicable or unknown)."""
    title = application.get("title_applied") or "工程师"
    return [
        seniority(rules, dossier, title, today),
        appraisals(rules, dossier, today),
        continuing_education(rules, dossier, today),
        post_quota(rules, dossier, application),
    ]


CHECK_FIELDS = {
    "seniority": "seniority_ok",
    "appraisal": "appraisal_ok",
    "continuing_education": "continuing_education_ok",
    "post_quota": "post_quota_ok",
}
EXCEPTIONAL_CHECK = "exceptional_ok"
# The form fields an approval confirms, and all a review may record (with 破格条件审查).
APPROVAL_CHECKS = tuple(CHECK_FIELDS.values())
REVIEW_CHECKS = (*APPROVAL_CHECKS, EXCEPTIONAL_CHECK)


def exceptional(application: Mapping) -> bool:
    """Whether the applicant declared 破格 (the exceptional route) on the application form."""
    return application.get("exceptional") is True


def waived(rules: Mapping, application: Mapping) -> set[str]:
    """Rules a 破格 declaration turns from a block into the explicit review item 破格条件审查."""
    if not exceptional(application):
        return set()
    return set((rules.get("exceptional") or {}).get("waives") or [])


def blocking(rules: Mapping, found: list[dict[str, Any]], application: Mapping) -> list[dict]:
    """The failed hints of hard rules (bpmn/rules: hard_rules) that are not waived by 破格."""
    hard = set(rules.get("hard_rules") or [])
    skip = waived(rules, application)
    return [h for h in found if h["ok"] is False and h["check"] in hard - skip]


def exceptional_conditions(rules: Mapping, application: Mapping) -> list[str]:
    """The labels of the 破格 conditions the applicant declared (from the rules file)."""
    labels = {
        c.get("id"): c.get("label") for c in (rules.get("exceptional") or {}).get("conditions", [])
    }
    chosen = application.get("exceptional_conditions") or []
    return [str(labels.get(c, c)) for c in chosen if isinstance(c, str)]
