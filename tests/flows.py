"""Whole-flow steps driven through the API, as the acceptance tests would."""

from __future__ import annotations

import io
from itertools import count
from typing import Any

from pypdf import PdfWriter

from engine.identity import credit_code_check_char, id_check_char
from tests import checkpoints
from tests.helpers import PASSWORDS, Api, Response

_serial = count(1)


def pdf_bytes(pages: int = 1) -> bytes:
    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=595, height=842)
    buf = io.BytesIO()
    writer.write(buf)
    return buf.getvalue()


def credit_code(n: int) -> str:
    head = f"91330212MA2{n:06d}"
    return head + credit_code_check_char(head)


def id_number(n: int) -> str:
    head = f"3302041990{(n % 12) + 1:02d}{(n % 27) + 1:02d}{n % 1000:03d}"
    return head + id_check_char(head)


def register_unit(api: Api, dept: str = "yz-water", *, activate: bool = True) -> dict[str, Any]:
    """A unit registers, uploads its certificate and (optionally) the platform approves it.
    The usual one (yz-water, approved) is walked once per worker from the seed, then put back
    (tests/checkpoints.py)."""
    if dept == "yz-water" and activate:
        return checkpoints.reach("unit", api, _walk_register_unit)
    return _walk_register_unit(api, dept, activate=activate)


def _walk_register_unit(
    api: Api, dept: str = "yz-water", *, activate: bool = True
) -> dict[str, Any]:
    n = next(_serial)
    username = f"unit{n}"
    PASSWORDS[username] = f"unit-Pass-{n}"
    r = api.post(
        "/units/register",
        json={
            "name": f"宁波测试水利设计院{n}",
            "credit_code": credit_code(n),
            "dept_org_id": dept,
            "contact": f"联系人{n}",
            "phone": "0574-87654321",
            "username": username,
            "password": PASSWORDS[username],
        },
    )
    assert r.status == 201, r
    unit_id = r.json["unit_id"]
    if activate:
        r = api.post(
            f"/units/{unit_id}/entrustment",
            username,
            data={"file": (io.BytesIO(pdf_bytes()), "委托证明.pdf")},
            content_type="multipart/form-data",
        )
        assert r.status == 202, r
        task = api.only_task("platform_1", name="review_entrustment")
        r = api.complete(task["id"], "platform_1", decision="approve", opinion="材料齐全，同意")
        assert r.status == 200, r
    return {"unit_id": unit_id, "username": username, "credit_code": credit_code(n)}


DOSSIER = {
    "gender": "男",
    "birth_date": "1990-01-01",
    "work_start_date": "2012-07-01",
    "highest_education": "本科",
    "education": [
        {"school": "河海大学", "major": "水利水电工程", "degree": "本科", "graduated": "2012-06-30"}
    ],
    "current_title": {
        "series": "工程",
        "name": "助理工程师",
        "obtained": "2016-12-01",
        "appointed_post": "助理工程师",
        "appointed_since": "2017-01-01",
    },
    "work_history": [
        {
            "start": "2012-07-01",
            "end": "2026-11-01",
            "unit": "宁波测试水利设计院",
            "post": "设计员",
            "work": "水库除险加固设计",
        }
    ],
    "appraisals": [{"year": y, "grade": "合格"} for y in range(2021, 2026)],
    "continuing_education": [
        {"year": y, "public_hours": 30, "professional_hours": 64} for y in range(2021, 2026)
    ],
    "summary": "从事水利工程设计十余年。",
}


def register_applicant(
    api: Api,
    unit: dict[str, Any],
    *,
    approve_dossier: bool = True,
    name: str = "李四",
    dossier: dict[str, Any] | None = None,
) -> dict[str, Any]:
    n = next(_serial)
    username = f"applicant{n}"
    PASSWORDS[username] = f"appl-Pass-{n}"
    r = api.post(
        "/applicants/register",
        json={
            "name": name,
            "id_number": id_number(n),
            "phone": "13800138000",
            "unit_id": unit["unit_id"],
            "username": username,
            "password": PASSWORDS[username],
        },
    )
    assert r.status == 201, r
    applicant_id = r.json["applicant_id"]
    if approve_dossier:
        r = api.put("/me/dossier", username, json=dossier or DOSSIER)
        assert r.status == 200, r
        r = api.post("/me/dossier/submit", username)
        assert r.status == 200, r
        task = api.only_task(unit["username"], name="review_dossier")
        r = api.complete(task["id"], unit["username"], decision="approve", opinion="档案属实")
        assert r.status == 200, r
    return {"applicant_id": applicant_id, "username": username, "id_number": id_number(n)}


CHAIN = ["yz-water", "yz-hrss", "nb-water", "nb-office", "nb-hrss"]
REVIEWERS = {
    "yz-water": "yz_water_1",
    "yz-hrss": "yz_hrss_1",
    "nb-water": "nb_water_1",
    "nb-office": "nb_office_1",
    "nb-hrss": "nb_hrss_1",
    "bl-water": "bl_water_1",
}
PAST_WINDOW = {
    "publicity_start": "2026-11-16",
    "publicity_end": "2026-11-20",
    "publicity_place": "单位公告栏及内网",
    "publicity_objections": "",
}
# The four eligibility checks an approval confirms (资历, 年度考核, 继续教育, 评聘结合).
CHECKS = {
    "seniority_ok": True,
    "appraisal_ok": True,
    "continuing_education_ok": True,
    "post_quota_ok": True,
}
APPLICATION_FORM = {
    "title_applied": "工程师",
    "work_summary": "主持完成多项水库除险加固设计。",
    "is_public_institution_staff": False,
    "attachments": [],
    "pledge": True,
}


def file_application(api: Api, person: dict[str, Any]) -> str:
    r = api.post(
        "/applications",
        person["username"],
        json={"series": "工程", "level": "中级", "specialty": "水利工程"},
    )
    assert r.status == 201, r
    return r.json["application_id"]


def submit(api: Api, person: dict[str, Any], app_id: str, **overrides: Any) -> None:
    task = api.only_task(person["username"], application=app_id, name="submit_application")
    r = api.complete(task["id"], person["username"], **{**APPLICATION_FORM, **overrides})
    assert r.status == 200, r


def unit_approves(api: Api, unit: dict[str, Any], app_id: str, **window: Any) -> Response:
    task = api.only_task(unit["username"], application=app_id, name="unit_review")
    return api.complete(
        task["id"],
        unit["username"],
        decision="approve",
        opinion="经审核，材料完整无误，公示5个工作日无异议，同意报送",
        **{**CHECKS, **PAST_WINDOW, **window},
    )


def unit_returns(api: Api, unit: dict[str, Any], app_id: str, reason: str = "补充材料") -> Response:
    """The unit returns the application to its applicant (退回) for ``reason``."""
    task = api.only_task(unit["username"], application=app_id, name="unit_review")
    return api.complete(
        task["id"], unit["username"], decision="return", opinion=reason, return_reason=reason
    )


DECISION_WORDS = {"approve": "审查通过", "return": "退回", "reject": "评审不通过"}


def level(api: Api, org: str, app_id: str, decision: str = "approve", **extra: Any) -> Response:
    user = REVIEWERS[org]
    task = api.only_task(user, application=app_id, name="level_review")
    data = {
        "decision": decision,
        "opinion": f"{user} 审查意见：{DECISION_WORDS[decision]}",
        **extra,
    }
    if decision == "approve":
        data = {**CHECKS, **data}
    if decision == "return":
        data.setdefault("return_reason", "继续教育学时证明不全")
    if decision == "reject":
        data.setdefault("reject_reason", "资历不符合申报条件")
    r = api.complete(task["id"], user, **data)
    assert r.status == 200, r
    if decision == "approve" and org != CHAIN[-1]:
        # below the top level an approval is followed by 审核推荐; the top level's approval
        # ends the review (payment or paper comes next)
        rec = api.only_task(user, application=app_id, name="recommend")
        r = api.complete(rec["id"], user, note="同意推荐")
        assert r.status == 200, r
    return r


OFFICE = "nb_office_1"


def record_payment(
    api: Api, person: dict[str, Any], app_id: str, reference: str = "NB2026112600001"
) -> Response:
    """The applicant records the bank transfer's reference on the payment step."""
    task = api.only_task(person["username"], application=app_id, name="confirm_payment")
    r = api.complete(task["id"], person["username"], payment_reference=reference)
    assert r.status == 200, r
    return r


def verify_payment(api: Api, app_id: str, decision: str = "confirm", **extra: Any) -> Response:
    """The committee office confirms (or refuses) the recorded payment."""
    task = api.only_task(OFFICE, application=app_id, name="verify_payment")
    r = api.complete(task["id"], OFFICE, decision=decision, **extra)
    assert r.status == 200, r
    return r


def pay(api: Api, person: dict[str, Any], app_id: str) -> None:
    """Payment recorded by the applicant and confirmed by the office."""
    record_payment(api, person, app_id)
    verify_payment(api, app_id)


def receive_paper(api: Api, app_id: str, copies: int = 3, **extra: Any) -> Response:
    task = api.only_task(OFFICE, application=app_id, name="receive_paper")
    r = api.complete(task["id"], OFFICE, copies=copies, **extra)
    assert r.status == 200, r
    return r


# 助理工程师 only since 2024: short of the 4 years 本科 needs for 工程师 (资历 fails).
JUNIOR_DOSSIER = {
    **DOSSIER,
    "current_title": {**DOSSIER["current_title"], "obtained": "2024-12-01"},
}


def upload_pdf(api: Api, username: str) -> str:
    r = api.post(
        "/files",
        username,
        data={"file": (io.BytesIO(pdf_bytes()), "证明.pdf")},
        content_type="multipart/form-data",
    )
    assert r.status == 201, r
    return r.json["file_id"]


def withdraw(api: Api, username: str, app_id: str, reason: str = "材料需重新准备") -> Response:
    return api.post(f"/applications/{app_id}/withdraw", username, json={"reason": reason})


def status_of(api: Api, person: dict[str, Any], app_id: str) -> str:
    r = api.get(f"/applications/{app_id}", person["username"])
    assert r.status == 200, r
    return r.json["status"]


def application_at_unit_review(api: Api) -> tuple[dict[str, Any], dict[str, Any], str]:
    """(unit, applicant, application id) with the application submitted to the unit; walked
    once per worker from the seed, then put back (tests/checkpoints.py)."""
    return checkpoints.reach("unit_review", api, _walk_to_unit_review)


def _walk_to_unit_review(api: Api) -> tuple[dict[str, Any], dict[str, Any], str]:
    unit = register_unit(api)
    person = register_applicant(api, unit)
    app_id = file_application(api, person)
    submit(api, person, app_id)
    return unit, person, app_id


Started = tuple[dict[str, Any], dict[str, Any], str]


def application_at_first_level(api: Api) -> Started:
    """(unit, applicant, application id) approved by the unit: at the chain's first level."""
    return checkpoints.reach("first_level", api, _walk_to_first_level)


def _walk_to_first_level(api: Api) -> Started:
    unit, person, app_id = application_at_unit_review(api)
    assert unit_approves(api, unit, app_id).status == 200
    return unit, person, app_id


def application_at_last_level(api: Api) -> Started:
    """(unit, applicant, application id) approved by every level but the last (nb-hrss)."""
    return checkpoints.reach("last_level", api, _walk_to_last_level)


def _walk_to_last_level(api: Api) -> Started:
    unit, person, app_id = application_at_first_level(api)
    for org in CHAIN[:-1]:
        level(api, org, app_id)
    return unit, person, app_id


def application_past_every_level(api: Api) -> Started:
    """(unit, applicant, application id) approved by every level: awaiting payment."""
    return checkpoints.reach("past_every_level", api, _walk_past_every_level)


def _walk_past_every_level(api: Api) -> Started:
    unit, person, app_id = application_at_last_level(api)
    level(api, CHAIN[-1], app_id)
    return unit, person, app_id


def deploy(api: Api, files: dict[str, str]) -> Response:
    """Upload process files (name -> text) to POST /specs/deploy as the admin."""
    data = {"files": [(io.BytesIO(body.encode("utf-8")), name) for name, body in files.items()]}
    return api.post("/specs/deploy", "admin", data=data, content_type="multipart/form-data")


COMMITTEE = "nb-water-mid"


def open_cycle_of(api: Api, committee: str = COMMITTEE) -> dict[str, Any]:
    """The committee's cycle that takes applications today."""
    items = api.get(f"/committees/{committee}/cycles", OFFICE).json["items"]
    return next(c for c in items if c["accepting"])


def next_cycle(api: Api, committee: str = COMMITTEE, **body: Any) -> dict[str, Any]:
    """The office closes the committee's open cycle and opens another over the same window,
    on the current process version: a cycle keeps the version it was opened on, so a newly
    deployed title_application reaches new applications only through a new cycle."""
    old = open_cycle_of(api, committee)
    r = api.post(f"/cycles/{old['cycle_id']}/close", OFFICE, json={"reason": "换用新版流程"})
    assert r.status == 200, r
    window = {k: old[k] for k in ("year", "opens_on", "closes_on")}
    r = api.post(f"/committees/{committee}/cycles", OFFICE, json=window | body)
    assert r.status == 201, r
    return r.json
