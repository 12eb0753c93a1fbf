"""The title application end to end through the API: unit, the 5-level chain, closing."""

from __future__ import annotations

from tests.flows import (
    CHAIN,
    CHECKS,
    REVIEWERS,
    application_at_last_level,
    application_at_unit_review,
    application_past_every_level,
    file_application,
    level,
    pay,
    receive_paper,
    record_payment,
    register_applicant,
    register_unit,
    status_of,
    submit,
    unit_approves,
    verify_payment,
)


def test_happy_path_through_five_levels_to_the_committee(api):
    unit, person, app_id = application_at_unit_review(api)
    assert status_of(api, person, app_id) == "unit_review"
    assert unit_approves(api, unit, app_id).status == 200
    detail = api.get(f"/applications/{app_id}", person["username"]).json
    assert detail["status"] == "in_review" and detail["chain"] == CHAIN
    for org in CHAIN:
        level(api, org, app_id)
    assert status_of(api, person, app_id) == "awaiting_payment"
    record_payment(api, person, app_id, "NB2026-001")
    assert status_of(api, person, app_id) == "awaiting_payment"
    verify_payment(api, app_id)
    assert status_of(api, person, app_id) == "awaiting_paper"
    receive_paper(api, app_id, received_on="2026-11-30")
    detail = api.get(f"/applications/{app_id}", person["username"]).json
    assert detail["status"] == "expert_review" and detail["current_tasks"] == []
    actions = [(e["task"], e["action"]) for e in detail["timeline"]]
    assert ("unit_review", "approve") in actions
    assert sum(1 for t, a in actions if t == "level_review" and a == "approve") == 5
    opinions = [e["opinion"] for e in detail["timeline"] if e["task"] == "level_review"]
    assert opinions[0].startswith("yz_water_1")


def test_return_at_unit_then_resubmit(api):
    unit, person, app_id = application_at_unit_review(api)
    task = api.only_task(unit["username"], application=app_id, name="unit_review")
    r = api.complete(
        task["id"],
        unit["username"],
        decision="return",
        opinion="材料不全",
        return_reason="缺少学历证书扫描件",
    )
    assert r.status == 200
    assert status_of(api, person, app_id) == "returned"
    again = api.get(
        f"/tasks/{api.only_task(person['username'], application=app_id)['id']}", person["username"]
    ).json
    assert again["name"] == "submit_application"
    assert again["data"]["work_summary"].startswith("主持完成")
    submit(api, person, app_id, work_summary="补充了学历证书。")
    assert status_of(api, person, app_id) == "unit_review"


def test_return_at_middle_level_restarts_climb_at_unit(api):
    unit, person, app_id = application_at_unit_review(api)
    unit_approves(api, unit, app_id)
    level(api, "yz-water", app_id)
    level(api, "yz-hrss", app_id)
    level(api, "nb-water", app_id, decision="return")
    assert status_of(api, person, app_id) == "returned"
    assert api.tasks("nb_office_1") == []
    submit(api, person, app_id)
    unit_approves(api, unit, app_id)
    for org in CHAIN:
        level(api, org, app_id)
    assert status_of(api, person, app_id) == "awaiting_payment"


def test_return_at_last_level_then_complete(api):
    unit, person, app_id = application_at_last_level(api)
    level(api, "nb-hrss", app_id, decision="return")
    assert status_of(api, person, app_id) == "returned"
    submit(api, person, app_id)
    unit_approves(api, unit, app_id)
    for org in CHAIN:
        level(api, org, app_id)
    assert status_of(api, person, app_id) == "awaiting_payment"


def test_reject_ends_the_application(api):
    unit, person, app_id = application_at_unit_review(api)
    unit_approves(api, unit, app_id)
    level(api, "yz-water", app_id)
    level(api, "yz-hrss", app_id, decision="reject")
    detail = api.get(f"/applications/{app_id}", person["username"]).json
    assert detail["status"] == "rejected" and detail["current_tasks"] == []
    assert any(e.get("reason") == "资历不符合申报条件" for e in detail["timeline"])
    assert file_application(api, person)


def test_no_application_without_approved_dossier(api):
    unit = register_unit(api)
    person = register_applicant(api, unit, approve_dossier=False)
    r = api.post(
        "/applications",
        person["username"],
        json={"series": "工程", "level": "中级", "specialty": "水利工程"},
    )
    assert r.status == 409 and r.json["error"]["code"] == "dossier_not_approved"


def test_second_open_application_is_refused(api):
    unit = register_unit(api)
    person = register_applicant(api, unit)
    file_application(api, person)
    r = api.post(
        "/applications",
        person["username"],
        json={"series": "工程", "level": "中级", "specialty": "水利工程"},
    )
    assert r.status == 409 and r.json["error"]["code"] == "application_open"


def test_short_publicity_refused_with_earliest_end(api):
    unit, person, app_id = application_at_unit_review(api)
    r = unit_approves(api, unit, app_id, publicity_start="2026-09-28", publicity_end="2026-10-08")
    assert r.status == 422
    assert "2026-10-09" in r.json["error"]["fields"]["publicity_end"]
    assert status_of(api, person, app_id) == "unit_review"


def test_no_payment_when_no_level_charges(api):
    for org in CHAIN:
        user = REVIEWERS[org]
        assert api.put(f"/orgs/{org}/fee-setting", user, json={"charge": False}).status == 200
    unit, person, app_id = application_at_unit_review(api)
    unit_approves(api, unit, app_id)
    for org in CHAIN:
        level(api, org, app_id)
    assert status_of(api, person, app_id) == "awaiting_paper"


def test_fee_setting_defaults_to_charge_and_is_own_org_only(api):
    assert api.get("/orgs/yz-water/fee-setting", "yz_water_1").json["charge"] is True
    assert api.put("/orgs/yz-water/fee-setting", "yz_hrss_1", json={"charge": False}).status == 403
    assert api.put("/orgs/yz-water/fee-setting", "yz_water_1", json={"charge": "no"}).status == 422


def test_batch_recommend_ten_with_one_already_done(api):
    unit = register_unit(api)
    apps = []
    for _ in range(10):
        person = register_applicant(api, unit)
        app_id = file_application(api, person)
        submit(api, person, app_id)
        unit_approves(api, unit, app_id)
        task = api.only_task("yz_water_1", application=app_id, name="level_review")
        api.complete(task["id"], "yz_water_1", decision="approve", opinion="同意", **CHECKS)
        apps.append(app_id)
    ids = [t["id"] for t in api.tasks("yz_water_1", name="recommend")]
    assert len(ids) == 10
    api.complete(ids[0], "yz_water_1", note="先推荐一个")
    r = api.post("/tasks/batch-complete", "yz_water_1", json={"task_ids": ids, "data": {}})
    results = r.json["results"]
    assert sum(x["ok"] for x in results) == 9
    assert [x["error"]["code"] for x in results if not x["ok"]] == ["task_not_ready"]
    assert len(api.tasks("yz_hrss_1", name="level_review")) == 10


def test_reviewer_of_another_department_is_denied_everywhere(api):
    unit, _person, app_id = application_at_unit_review(api)
    unit_approves(api, unit, app_id)
    task = api.only_task("yz_water_1", application=app_id, name="level_review")
    assert api.get(f"/applications/{app_id}", "bl_water_1").status == 403
    assert api.get(f"/tasks/{task['id']}", "bl_water_1").status == 403
    assert api.complete(task["id"], "bl_water_1", decision="approve", opinion="x").status == 403
    r = api.post(
        "/tasks/batch-complete",
        "bl_water_1",
        json={"task_ids": [task["id"]], "data": {"decision": "approve", "opinion": "x"}},
    )
    assert r.json["results"][0]["error"]["code"] == "forbidden"
    assert api.tasks("bl_water_1") == []
    assert api.get("/applications", "bl_water_1").json["total"] == 0
    assert api.get("/applications", "yz_water_1").json["total"] == 1
    assert api.get("/applications/999999", "bl_water_1").status == 404
    other = register_applicant(api, unit)
    assert api.get(f"/applications/{app_id}", other["username"]).status == 403


def _pages_text(pdf: bytes) -> list[str]:
    import io
    import warnings

    from pypdf import PdfReader

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return [p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages]


def test_review_form_export_watermark_opinions_and_verification(api):
    _unit, person, app_id = application_past_every_level(api)
    r = api.get(f"/applications/{app_id}/review-form.pdf", person["username"])
    assert r.status == 409 and r.json["error"]["code"] == "review_form_not_ready"
    pay(api, person, app_id)
    r = api.get(f"/applications/{app_id}/review-form.pdf", person["username"])
    assert r.status == 200 and r.json.startswith(b"%PDF")
    pages = _pages_text(r.json)
    assert all("浙江省专业技术任职资格申报与评审管理平台" in text for text in pages)
    joined = "".join(pages)
    assert "李四" in joined
    for org in CHAIN:
        assert f"{REVIEWERS[org]} 审查意见：审查通过" in joined
    detail = api.get(f"/applications/{app_id}", person["username"]).json
    code = detail["review_form"]["verification_code"]
    assert code in joined
    again = api.get(f"/applications/{app_id}/review-form.pdf", "nb_office_1")
    assert again.status == 200 and again.json == r.json
    import hashlib

    check = api.get(f"/verify/{code}")
    assert check.status == 200 and check.json["valid"] is True
    assert check.json["applicant"] == "李*"
    assert check.json["sha256"] == hashlib.sha256(r.json).hexdigest()
    assert api.get("/verify/NOSUCHCODE00").status == 404
    assert api.get(f"/applications/{app_id}/review-form.pdf", "bl_water_1").status == 403


def test_public_version_hides_id_number_and_phone(api):
    unit, _person, app_id = application_at_unit_review(api)
    r = api.get(f"/applications/{app_id}/review-form-public.pdf", unit["username"])
    assert r.status == 200
    joined = "".join(_pages_text(r.json))
    assert "公示版" in joined and "13800138000" not in joined and "李四" in joined


def test_returns_do_not_grow_the_instance(app, api):
    from storage import ProcessInstance, db

    unit, person, app_id = application_at_unit_review(api)
    inst_id = int(api.get(f"/applications/{app_id}", person["username"]).json["instance_id"])

    def state_size() -> int:
        with app.app_context():
            return len(db.session.get(ProcessInstance, inst_id).state)

    sizes = []
    for round_no in range(6):
        task = api.only_task(unit["username"], application=app_id, name="unit_review")
        api.complete(
            task["id"],
            unit["username"],
            decision="return",
            opinion="补充",
            return_reason=f"第{round_no + 1}次退回",
        )
        sizes.append(state_size())
        submit(api, person, app_id, work_summary=f"第{round_no + 1}次修改")
    assert max(sizes) - min(sizes) < 600, sizes
    assert status_of(api, person, app_id) == "unit_review"
    detail = api.get(f"/applications/{app_id}", person["username"]).json
    reasons = [e["reason"] for e in detail["timeline"] if e["action"] == "return"]
    assert reasons == [f"第{i}次退回" for i in range(1, 7)]
    assert detail["submitted"]["work_summary"] == "第6次修改"


def test_urge_reminds_current_task_holders_once_a_day(app, api, clock):
    from sqlalchemy import select

    from storage import Notification, db

    unit, person, app_id = application_at_unit_review(api)
    unit_approves(api, unit, app_id)
    r = api.post(f"/applications/{app_id}/urge", person["username"])
    assert r.status == 200 and r.json["urged"] == 1
    again = api.post(f"/applications/{app_id}/urge", person["username"])
    assert again.status == 409 and again.json["error"]["code"] == "already_urged"
    assert api.post(f"/applications/{app_id}/urge", "yz_water_1").status == 409  # its own task
    assert api.post(f"/applications/{app_id}/urge", "bl_water_1").status == 403
    with app.app_context():
        rows = db.session.scalars(select(Notification).where(Notification.kind == "urge")).all()
        assert {(n.channel, n.org_id) for n in rows} == {("inapp", "yz-water")}
    clock.advance(days=1)
    assert api.post(f"/applications/{app_id}/urge", "nb_office_1").status == 200


def test_application_form_starts_prefilled_and_defaults_fill_the_rest(api):
    unit = register_unit(api)
    person = register_applicant(api, unit)
    app_id = file_application(api, person)
    task = api.only_task(person["username"], application=app_id, name="submit_application")
    data = api.get(f"/tasks/{task['id']}", person["username"]).json["data"]
    assert data["title_applied"] == "工程师" and data["work_summary"].startswith("从事水利工程")
    r = api.complete(task["id"], person["username"], pledge=False)
    assert r.status == 422 and list(r.json["error"]["fields"]) == ["pledge"]
    assert api.complete(task["id"], person["username"]).status == 200
    unit_approves(api, unit, app_id)
    for org in CHAIN:
        level(api, org, app_id)
    task = api.only_task(person["username"], application=app_id, name="confirm_payment")
    r = api.complete(task["id"], person["username"])
    assert r.status == 422 and list(r.json["error"]["fields"]) == ["payment_reference"]
    pay(api, person, app_id)
    paper = api.only_task("nb_office_1", application=app_id, name="receive_paper")
    assert api.complete(paper["id"], "nb_office_1").status == 200
    assert status_of(api, person, app_id) == "expert_review"


def test_applicant_may_urge_their_own_unit(api):
    _unit, person, app_id = application_at_unit_review(api)
    detail = api.get(f"/applications/{app_id}", person["username"]).json
    assert detail["can_urge"] is True
    r = api.post(f"/applications/{app_id}/urge", person["username"])
    assert r.status == 200 and r.json["urged"] == 1
