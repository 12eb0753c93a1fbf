"""职称证书 through the API and the service: numbers (format, idempotent, unique and gapless
under concurrent issue), the application's answer, the public lookup, revocation."""

from __future__ import annotations

import threading
from itertools import count
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from engine import ConflictError, NotFoundError
from engine.committees import default_certificate_prefix, parse_catalogue
from engine.functions import ProcessFunctions
from storage import Application, AuditEvent, Certificate, Notification, User
from tests.conftest import START
from tests.flows import CHAIN, application_at_unit_review, deploy, register_unit, unit_approves
from tests.samples import process

_serial = count(1)


def make_applications(app: Flask, n: int, name: str = "欧阳娜娜") -> list[int]:
    """n applications of n new applicants, as rows (the committee's stage is not the point)."""
    ids = []
    with app.extensions["unit_of_work"]() as uow:
        for _ in range(n):
            k = next(_serial)
            user = User(
                username=f"holder{k}",
                password_hash="-",
                role="applicant",
                name=name,
                phone="13900139000",
                created_at=START,
            )
            uow.session.add(user)
            uow.session.flush()
            row = Application(
                applicant_id=user.id,
                unit_org_id="yz-water",
                series="工程",
                level="中级",
                specialty="水利工程",
                status="result_publicity",
                chain=CHAIN,
                created_at=START,
                updated_at=START,
            )
            uow.session.add(row)
            uow.session.flush()
            ids.append(row.id)
        uow.commit()
    return ids


def issue(app: Flask, application_id: int | str) -> dict[str, Any]:
    return app.extensions["certificates"].issue_now(application_id)


def test_number_is_prefix_year_and_sequence_and_a_second_issue_returns_the_same(app):
    first, second = make_applications(app, 2)
    one = issue(app, first)
    assert one["number"] == "NBSLZJ202600001"
    assert issue(app, first) == one
    assert issue(app, second)["number"] == "NBSLZJ202600002"
    with app.extensions["unit_of_work"]() as uow:
        cert = uow.session.scalars(
            select(Certificate).where(Certificate.application_id == first)
        ).one()
        assert (cert.committee_id, cert.year, cert.sequence) == ("nb-water-mid", 2026, 1)
        assert cert.title == "水利工程 中级 工程师" and cert.holder_name == "欧阳娜娜"
        assert cert.issuer_org_id == "nb-hrss" and cert.issued_on.isoformat() == "2026-11-26"
        assert len(cert.verification_code) == 12
        issued = uow.session.scalars(
            select(AuditEvent)
            .where(AuditEvent.action == "issue_certificate")
            .order_by(AuditEvent.seq)
        ).all()
        assert [e.detail["number"] for e in issued] == ["NBSLZJ202600001", "NBSLZJ202600002"]
        notices = uow.session.scalars(
            select(Notification)
            .where(Notification.kind == "certificate_issued")
            .order_by(Notification.id)
        ).all()
        assert {n.channel for n in notices} == {"inapp", "sms"}
        assert "NBSLZJ202600001" in notices[0].text


def test_prefix_defaults_to_the_committee_id_and_must_be_capitals_or_digits():
    assert default_certificate_prefix("nb-water-mid") == "NBWATERMID"
    raw = {
        "committees": [
            {
                "id": "hz-build",
                "name": "杭州建设评委会",
                "office_org_id": "hz-office",
                "address": "杭州",
                "series": ["工程"],
                "levels": ["中级"],
                "specialties": ["建筑工程"],
                "payee": {"name": "办公室"},
            }
        ]
    }
    assert parse_catalogue(raw).committees[0].number_prefix() == "HZBUILD"
    raw["committees"][0]["certificate_prefix"] = "hz-1"
    with pytest.raises(ValueError, match="certificate_prefix"):
        parse_catalogue(raw)


def test_a_rolled_back_issue_leaves_no_gap(app):
    first, second = make_applications(app, 2)
    certificates = app.extensions["certificates"]
    with app.extensions["unit_of_work"]() as uow:
        assert certificates.issue(uow.session, first, START).sequence == 1
        uow.rollback()
    assert issue(app, second)["number"] == "NBSLZJ202600001"
    assert issue(app, first)["number"] == "NBSLZJ202600002"


def _at_once(app: Flask, application_ids: list[int]) -> list[BaseException]:
    """Each thread issues with its own unit of work, all released at the same moment."""
    barrier = threading.Barrier(len(application_ids), timeout=30)
    errors: list[BaseException] = []
    certificates = app.extensions["certificates"]

    def run(application_id: int) -> None:
        try:
            with app.extensions["unit_of_work"]() as uow:
                barrier.wait()
                certificates.issue(uow.session, application_id, START)
                uow.commit()
        except BaseException as exc:  # reported in the test's thread
            errors.append(exc)

    workers = [threading.Thread(target=run, args=(i,)) for i in application_ids]
    for w in workers:
        w.start()
    for w in workers:
        w.join(60)
    return errors


def test_concurrent_issues_get_unique_gapless_numbers(app):
    ids = make_applications(app, 8)
    assert _at_once(app, ids) == []
    with app.extensions["unit_of_work"]() as uow:
        rows = uow.session.execute(
            select(Certificate.application_id, Certificate.sequence, Certificate.number)
        ).all()
    assert sorted(r.application_id for r in rows) == sorted(ids)
    assert sorted(r.sequence for r in rows) == list(range(1, 9))
    assert sorted(r.number for r in rows) == [f"NBSLZJ2026{s:05d}" for s in range(1, 9)]


def test_concurrent_issues_of_one_application_give_one_certificate(app):
    (only,) = make_applications(app, 1)
    assert _at_once(app, [only] * 4) == []
    with app.extensions["unit_of_work"]() as uow:
        assert uow.session.scalar(select(func.count()).select_from(Certificate)) == 1
    assert issue(app, make_applications(app, 1)[0])["number"] == "NBSLZJ202600002"


def test_issue_certificate_script_function_issues_for_its_instances_application(app, api):
    _unit, person, app_id = application_at_unit_review(api)
    runtime = app.extensions["runtime"]
    with app.extensions["unit_of_work"]() as uow:
        row = uow.session.get(Application, int(app_id))
        version = runtime.files_version(uow.session, row.instance_id)
        files = app.extensions["designer_files"]
        functions = ProcessFunctions(
            uow.session,
            runtime.clock,
            row.instance_id,
            files.committees(version),
            files.eligibility_rules(version),
        ).table()
        number = functions["issue_certificate"]()
        assert functions["issue_certificate"]() == number == "NBSLZJ202600001"
        uow.commit()
    detail = api.get(f"/applications/{app_id}", person["username"]).json
    assert detail["certificate"]["number"] == number


def test_issue_certificate_outside_an_application_instance_is_an_error(app):
    with app.extensions["unit_of_work"]() as uow:
        functions = ProcessFunctions(uow.session, app.extensions["runtime"].clock, None).table()
        with pytest.raises(ValueError, match="issue_certificate"):
            functions["issue_certificate"]()


def test_application_answer_shows_the_certificate_once_issued(app, api):
    _unit, person, app_id = application_at_unit_review(api)
    r = api.get(f"/applications/{app_id}", person["username"])
    assert r.json["certificate"] is None
    facts = issue(app, app_id)
    cert = api.get(f"/applications/{app_id}", person["username"]).json["certificate"]
    assert cert["number"] == facts["number"]
    assert cert["verification_code"] == facts["verification_code"]
    assert cert["issued_on"] == "2026-11-26" and cert["revoked"] is False
    assert cert["can_revoke"] is False
    timeline = api.get(f"/applications/{app_id}", person["username"]).json["timeline"]
    assert timeline[-1]["action"] == "issue_certificate"
    assert timeline[-1]["opinion"] == f"证书编号 {facts['number']}（水利工程 中级 工程师）"


def test_lookup_by_number_and_full_name_masks_the_name(app, api):
    (app_id,) = make_applications(app, 1)
    number = issue(app, app_id)["number"]
    r = api.get(f"/certificates/{number}?name=欧阳娜娜")
    assert r.status == 200, r
    assert r.json["valid"] is True and r.json["revoked"] is False
    assert r.json["name"] == "欧***" and r.json["title"] == "水利工程 中级 工程师"
    assert r.json["committee"].startswith("宁波市水利工程技术人员中级")
    assert r.json["issued_on"] == "2026-11-26"
    assert "revoked_on" not in r.json
    assert api.get(f"/certificates/{number.lower()}?name=%20欧阳娜娜%20").status == 200


def test_lookup_answers_alike_for_a_wrong_name_and_an_unknown_number(app, api):
    (app_id,) = make_applications(app, 1)
    number = issue(app, app_id)["number"]
    wrong_name = api.get(f"/certificates/{number}?name=欧阳")
    unknown = api.get("/certificates/NBSLZJ209900001?name=欧阳娜娜")
    assert wrong_name.status == unknown.status == 404
    assert wrong_name.json == unknown.json


def test_lookup_without_a_name_is_refused_with_the_field(app, api):
    for query in ("", "?name=", "?name=" + "名" * 101):
        r = api.get(f"/certificates/NBSLZJ202600001{query}")
        assert r.status == 422 and "name" in r.json["error"]["fields"], r


@pytest.mark.app_config(RATELIMIT_ENABLED=True, CERTIFICATE_LOOKUP_RATE_LIMIT="3 per minute")
def test_lookup_is_rate_limited_per_address(app, api):
    answers = [api.get("/certificates/NBSLZJ202600001?name=张三").status for _ in range(4)]
    assert answers == [404, 404, 404, 429]


def test_revoke_needs_a_token_and_the_issuing_hrss(app, api):
    (app_id,) = make_applications(app, 1)
    number = issue(app, app_id)["number"]
    body = {"reason": "业绩材料造假"}
    assert api.post(f"/certificates/{number}/revoke", json=body).status == 401
    for user in ("nb_office_1", "yz_hrss_1", "yz_water_1", "platform_1"):
        r = api.post(f"/certificates/{number}/revoke", user, json=body)
        assert r.status == 403, (user, r)
    assert api.post("/certificates/NBSLZJ209900001/revoke", "nb_hrss_1", json=body).status == 404
    assert api.get(f"/certificates/{number}?name=欧阳娜娜").json["revoked"] is False


def test_revoke_refuses_bad_input_and_keeps_the_certificate(app, api):
    (app_id,) = make_applications(app, 1)
    number = issue(app, app_id)["number"]
    for body in ({}, {"reason": "  "}, {"reason": 7}, {"reason": "理" * 2001}):
        r = api.post(f"/certificates/{number}/revoke", "nb_hrss_1", json=body)
        assert r.status == 422 and "reason" in r.json["error"]["fields"], (body, r)
    r = api.post(f"/certificates/{number}/revoke", "nb_hrss_1", data="{", headers={})
    assert r.status == 400
    assert api.get(f"/certificates/{number}?name=欧阳娜娜").json["revoked"] is False


def test_revoke_is_audited_tells_the_holder_and_shows_in_the_lookup(app, api, clock):
    (app_id,) = make_applications(app, 1)
    number = issue(app, app_id)["number"]
    reason = "经查，申报材料中的业绩证明系伪造"
    r = api.post(f"/certificates/{number}/revoke", "nb_hrss_1", json={"reason": reason})
    assert r.status == 200, r
    assert r.json == {"number": number, "revoked": True, "revoked_on": "2026-11-26"}
    look = api.get(f"/certificates/{number}?name=欧阳娜娜").json
    assert look["valid"] is False and look["revoked"] is True
    assert look["revoked_on"] == "2026-11-26" and look["revoke_reason"] == reason
    again = api.post(f"/certificates/{number}/revoke", "nb_hrss_1", json={"reason": "再撤一次"})
    assert again.status == 409 and again.json["error"]["code"] == "already_revoked"
    with app.extensions["unit_of_work"]() as uow:
        events = uow.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "revoke_certificate")
        ).all()
        assert [(e.actor_name, e.org_id, e.reason) for e in events] == [("周九", "nb-hrss", reason)]
        assert events[0].application_id == app_id
        told = uow.session.scalars(
            select(Notification).where(Notification.kind == "certificate_revoked")
        ).all()
        assert {n.channel for n in told} == {"inapp", "sms"} and reason in told[0].text


def test_an_administrator_may_revoke_too(app, api):
    (app_id,) = make_applications(app, 1)
    number = issue(app, app_id)["number"]
    r = api.post(f"/certificates/{number}/revoke", "admin", json={"reason": "依法撤销"})
    assert r.status == 200, r


def test_issuing_hrss_sees_it_may_revoke_on_the_application(app, api):
    unit, _person, app_id = application_at_unit_review(api)
    assert unit_approves(api, unit, app_id).status == 200
    issue(app, app_id)
    hrss = api.get(f"/applications/{app_id}", "nb_hrss_1").json["certificate"]
    assert hrss["can_revoke"] is True
    assert (
        api.get(f"/applications/{app_id}", "yz_hrss_1").json["certificate"]["can_revoke"] is False
    )


def test_a_diagram_step_issues_through_issue_certificate(app, api):
    """A script task after a user task runs issue_certificate() in the sandbox; the number
    lands in the instance's data and the certificate commits with the step."""
    script = "certificate_number = issue_certificate()"
    probe = process("cert_probe", script=script, before_task=False).decode("utf-8")
    assert deploy(api, {"cert_probe.bpmn": probe}).status == 201
    unit = register_unit(api)
    (app_id,) = make_applications(app, 1)
    runtime = app.extensions["runtime"]
    with app.extensions["unit_of_work"]() as uow:
        data = {"unit_org_id": unit["unit_id"]}
        inst = runtime.start(
            uow.session, "cert_probe", actor=None, data=data, application_id=app_id
        )
        uow.commit()
    task = api.only_task(unit["username"], process="cert_probe")
    r = api.complete(task["id"], unit["username"], decision="approve", opinion="同意")
    assert r.status == 200, r
    with app.extensions["unit_of_work"]() as uow:
        number = runtime.instance_data(uow.session, inst)["certificate_number"]
        cert = uow.session.scalars(select(Certificate)).one()
        assert (cert.number, cert.application_id) == (number, app_id) == ("NBSLZJ202600001", app_id)


def test_no_certificate_without_a_committee_or_an_application(app):
    (app_id,) = make_applications(app, 1)
    with app.extensions["unit_of_work"]() as uow:
        uow.session.get(Application, app_id).specialty = "建筑工程"
        uow.commit()
    with pytest.raises(ConflictError) as refused:
        issue(app, app_id)
    assert refused.value.code == "no_committee"
    with pytest.raises(NotFoundError):
        issue(app, 999_999)
    with app.extensions["unit_of_work"]() as uow:
        assert uow.session.scalar(select(func.count()).select_from(Certificate)) == 0
