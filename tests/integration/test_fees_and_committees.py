"""Issue 11 items 2-5: the committee catalogue, fees decided when review completes, payment
recorded and confirmed, the last level ending the review, and paper receipt that can wait."""

from __future__ import annotations

import io
import warnings

from pypdf import PdfReader

from tests import flows
from tests.flows import (
    CHAIN,
    CHECKS,
    OFFICE,
    REVIEWERS,
    application_at_last_level,
    application_at_unit_review,
    level,
    receive_paper,
    record_payment,
    register_applicant,
    register_unit,
    status_of,
    unit_approves,
    verify_payment,
)
from tests.page_helpers import field_error, only_task_id, signed_in, text

ADDRESS = "宁波市江北区丽江东路366号"
PAYEE = "宁波市水利工程技术人员中级专业技术职务任职资格评审委员会办公室"


def reviewed(api):
    unit, person, app_id = application_at_last_level(api)
    level(api, CHAIN[-1], app_id)
    return unit, person, app_id


def messages(api, person):
    return [m["text"] for m in api.get("/me/messages", person["username"]).json["items"]]


# --------------------------------------------------------------------------- committees


def test_committee_catalogue_for_any_signed_in_user(api):
    assert api.get("/committees").status == 401
    for user in ("yz_water_1", "nb_office_1", "platform_1", "admin"):
        r = api.get("/committees", user)
        assert r.status == 200, r
    assert r.json["total"] == 1  # the list envelope of API.md
    (committee,) = r.json["items"]
    assert committee["id"] == "nb-water-mid" and committee["office_org_id"] == "nb-office"
    assert committee["name"] == "宁波市水利工程技术人员中级专业技术职务任职资格评审委员会"
    assert committee["address"] == ADDRESS
    assert [c["role"] for c in committee["contacts"]] == ["材料审核咨询", "技术支持"]
    assert committee["series"] == ["工程"] and committee["levels"] == ["中级"]
    assert "水利工程" in committee["specialties"]
    assert committee["fees"]["中级"] == {"item": "评审费", "amount": 180}
    assert committee["payee"]["name"] == PAYEE
    # a write to the catalogue's address does not exist: designers own the file
    assert api.post("/committees", "admin", json={}).status == 405


def test_bad_series_level_or_specialty_is_422_on_the_field(api):
    unit = register_unit(api)
    person = register_applicant(api, unit)
    for body, field in (
        ({"series": "卫生", "level": "特级", "specialty": "随便"}, "series"),
        ({"series": "工程", "level": "特级", "specialty": "水利工程"}, "level"),
        ({"series": "工程", "level": "中级", "specialty": "随便"}, "specialty"),
    ):
        r = api.post("/applications", person["username"], json=body)
        assert r.status == 422, r
        assert list(r.json["error"]["fields"]) == [field]
    assert api.get("/applications", person["username"]).json["total"] == 0
    # the page offers only the catalogue's choices and shows the refusal on the field
    client = signed_in(api.app, person["username"])
    html = text(client.get("/applications"))
    assert 'id="filing"' in html and "水利水电工程" in html and "卫生" not in html
    r = client.post("/applications", data={"series": "工程", "level": "中级", "specialty": "随便"})
    assert r.status_code == 422 and "没有评委会评审「随便」" in field_error(text(r), "specialty")
    r = client.post(
        "/applications", data={"series": "工程", "level": "中级", "specialty": "水土保持"}
    )
    assert r.status_code == 302


def test_application_names_its_committee_and_chain_ends_at_office_and_hrss(api):
    unit, person, app_id = application_at_unit_review(api)
    detail = api.get(f"/applications/{app_id}", person["username"]).json
    assert detail["committee"]["address"] == ADDRESS
    assert detail["payment"] is None and detail["paper"] is None
    unit_approves(api, unit, app_id)
    detail = api.get(f"/applications/{app_id}", person["username"]).json
    assert detail["chain"][-2:] == ["nb-office", "nb-hrss"]


# --------------------------------------------------------------------------- fees


def test_switching_every_level_off_before_the_last_approval_means_no_payment(api):
    _unit, person, app_id = application_at_last_level(api)
    for org in CHAIN:
        assert (
            api.put(f"/orgs/{org}/fee-setting", REVIEWERS[org], json={"charge": False}).status
            == 200
        )
    level(api, CHAIN[-1], app_id)
    assert status_of(api, person, app_id) == "awaiting_paper"
    assert api.tasks(person["username"], application=app_id) == []
    payment = api.get(f"/applications/{app_id}", person["username"]).json["payment"]
    assert payment["due"] is False and payment["state"] == "not_required"


def test_switching_on_before_the_last_approval_means_payment(api):
    for org in CHAIN:
        api.put(f"/orgs/{org}/fee-setting", REVIEWERS[org], json={"charge": False})
    _unit, person, app_id = application_at_last_level(api)
    api.put("/orgs/nb-hrss/fee-setting", "nb_hrss_1", json={"charge": True})
    level(api, CHAIN[-1], app_id)
    assert status_of(api, person, app_id) == "awaiting_payment"


def test_amount_payee_and_instructions_on_the_payment_step(api):
    _unit, person, app_id = reviewed(api)
    assert api.tasks(REVIEWERS[CHAIN[-1]], application=app_id) == []  # no empty 审核推荐
    task = api.only_task(person["username"], application=app_id, name="confirm_payment")
    detail = api.get(f"/tasks/{task['id']}", person["username"]).json
    fee = detail["context"]["fee"]
    assert (
        fee["amount"] == 180 and fee["payee"]["name"] == PAYEE and fee["method"] == "bank_transfer"
    )
    assert any("180 元" in line for line in fee["instructions"])
    payment = api.get(f"/applications/{app_id}", person["username"]).json["payment"]
    assert payment["state"] == "awaiting_reference" and payment["amount"] == 180
    assert payment["payee"]["name"] == PAYEE and payment["remark"] == f"职称评审费-申报{app_id}"
    assert any("180 元" in m and PAYEE in m for m in messages(api, person))


def test_reference_recorded_then_confirmed_by_the_office(api):
    _unit, person, app_id = reviewed(api)
    task = api.only_task(person["username"], application=app_id, name="confirm_payment")
    r = api.complete(task["id"], person["username"], payment_reference="x")
    assert r.status == 422 and "payment_reference" in r.json["error"]["fields"]
    r = api.complete(task["id"], person["username"], payment_reference="转账!!!")
    assert r.status == 422 and "payment_reference" in r.json["error"]["fields"]
    record_payment(api, person, app_id, "NB2026112600001")
    payment = api.get(f"/applications/{app_id}", person["username"]).json["payment"]
    assert payment["state"] == "awaiting_confirmation" and payment["reference"] == "NB2026112600001"
    check = api.only_task(OFFICE, application=app_id, name="verify_payment")
    assert api.complete(check["id"], person["username"], decision="confirm").status == 403
    assert api.complete(check["id"], "nb_hrss_1", decision="confirm").status == 403
    r = api.complete(check["id"], OFFICE, decision="refuse")
    assert r.status == 422 and "payment_refuse_reason" in r.json["error"]["fields"]
    verify_payment(api, app_id)
    assert status_of(api, person, app_id) == "awaiting_paper"
    detail = api.get(f"/applications/{app_id}", person["username"]).json
    assert detail["payment"]["state"] == "confirmed" and detail["can_export_review_form"]
    actions = [(e["task"], e["action"]) for e in detail["timeline"]]
    assert ("confirm_payment", "confirm_payment") in actions
    assert ("verify_payment", "confirm") in actions


def test_refused_reference_goes_back_to_the_applicant_with_the_reason(api):
    _unit, person, app_id = reviewed(api)
    record_payment(api, person, app_id, "NB-WRONG-0001")
    verify_payment(api, app_id, "refuse", payment_refuse_reason="未查到该笔到账，请核对流水号")
    assert status_of(api, person, app_id) == "awaiting_payment"
    detail = api.get(f"/applications/{app_id}", person["username"]).json
    assert detail["payment"]["state"] == "refused"
    assert detail["payment"]["refuse_reason"] == "未查到该笔到账，请核对流水号"
    assert any("未查到该笔到账" in m for m in messages(api, person))
    assert api.get(f"/applications/{app_id}/review-form.pdf", person["username"]).status == 409
    flows.pay(api, person, app_id)
    assert status_of(api, person, app_id) == "awaiting_paper"


def test_fee_setting_lists_the_applications_a_change_would_affect(api):
    for org in CHAIN[1:]:
        api.put(f"/orgs/{org}/fee-setting", REVIEWERS[org], json={"charge": False})
    unit, person, app_id = application_at_unit_review(api)  # chain not recorded yet
    r = api.get("/orgs/yz-water/fee-setting", "yz_water_1")
    assert r.status == 200 and [a["id"] for a in r.json["affected"]] == [app_id]
    assert r.json["affected"][0]["amount_after"] == 0
    assert api.get("/orgs/nb-hrss/fee-setting", "nb_hrss_1").json["affected"] == []
    assert api.get("/orgs/yz-water/fee-setting", "yz_hrss_1").status == 403
    assert api.get("/orgs/nosuch/fee-setting", "admin").status == 404
    unit_approves(api, unit, app_id)
    # the page asks before saving a change that affects applications in flight
    client = signed_in(api.app, "yz_water_1")
    html = text(client.get("/review/fee"))
    assert 'id="fee-affected"' in html and person["username"] not in html
    r = client.post("/review/fee", data={"charge": "false"})
    assert r.status_code == 200 and 'id="fee-confirm"' in text(r)
    assert api.get("/orgs/yz-water/fee-setting", "yz_water_1").json["charge"] is True
    assert (
        client.post("/review/fee", data={"charge": "false", "confirmed": "yes"}).status_code == 302
    )
    r = api.get("/orgs/yz-water/fee-setting", "yz_water_1")
    assert r.json["charge"] is False and r.json["affected"][0]["amount_after"] == 180
    r = api.put("/orgs/yz-water/fee-setting", "yz_water_1", json={"charge": True})
    assert [a["id"] for a in r.json["affected"]] == [app_id]
    for org in CHAIN:
        level(api, org, app_id)
    assert status_of(api, person, app_id) == "awaiting_payment"


# --------------------------------------------------------------------------- last level


def test_top_level_batch_approves_without_a_recommend_step(api):
    apps = [application_at_last_level(api) for _ in range(2)]
    ids = [t["id"] for t in api.tasks("nb_hrss_1", name="level_review")]
    assert len(ids) == 2
    r = api.post(
        "/tasks/batch-complete",
        "nb_hrss_1",
        json={"task_ids": ids, "data": {"decision": "approve", "opinion": "同意", **CHECKS}},
    )
    assert r.status == 200 and all(x["ok"] for x in r.json["results"])
    assert api.tasks("nb_hrss_1") == []
    for _unit, person, app_id in apps:
        assert status_of(api, person, app_id) == "awaiting_payment"


def test_batch_approval_page_lists_only_the_top_level(app, api):
    _unit, person, app_id = application_at_last_level(api)
    _u2, _p2, lower = application_at_unit_review(api)
    client = signed_in(app, "nb_hrss_1")
    html = text(client.get("/review/approve"))
    assert f">{app_id}<" in html and "批量审核" in html
    r = client.post("/review/approve", data={"task_ids": [], "opinion": "同意"})
    assert r.status_code == 422
    task_id = api.only_task("nb_hrss_1", application=app_id)["id"]
    assert client.post("/review/approve", data={"task_ids": [task_id]}).status_code == 422
    unconfirmed = client.post("/review/approve", data={"task_ids": [task_id], "opinion": "同意"})
    assert unconfirmed.status_code == 422 and "审查通过须确认审查项" in text(unconfirmed)
    ticks = {name: "on" for name in CHECKS}
    r = client.post("/review/approve", data={"task_ids": [task_id], "opinion": "同意", **ticks})
    assert r.status_code == 200 and "审查通过" in text(r)
    assert status_of(api, person, app_id) == "awaiting_payment"
    # a lower level's approve list is empty: it recommends instead
    assert "暂无本部门为最后一级审查的申报" in text(
        signed_in(app, "yz_water_1").get("/review/approve")
    )
    assert signed_in(app, person["username"]).get("/review/approve").status_code == 403
    assert lower


# --------------------------------------------------------------------------- paper


def test_short_paper_delivery_keeps_the_step_open_and_tells_the_applicant(api):
    _unit, person, app_id = reviewed(api)
    flows.pay(api, person, app_id)
    task = api.only_task(OFFICE, application=app_id, name="receive_paper")
    r = api.complete(task["id"], OFFICE, copies=1)
    assert r.status == 422 and list(r.json["error"]["fields"]) == ["missing"]
    r = api.complete(task["id"], OFFICE, copies=-1, missing="x")
    assert r.status == 422 and "copies" in r.json["error"]["fields"]
    receive_paper(api, app_id, copies=1, missing="评审表 2 份（须加盖单位公章）")
    assert status_of(api, person, app_id) == "awaiting_paper"
    detail = api.get(f"/applications/{app_id}", person["username"]).json
    assert detail["paper"] == {
        "copies": 1,
        "required": 3,
        "missing": "评审表 2 份（须加盖单位公章）",
        "received_on": None,
    }
    text_ = next(m for m in messages(api, person) if "尚缺" in m)
    assert "评审表 2 份" in text_ and ADDRESS in text_
    receive_paper(api, app_id, copies=3)
    assert status_of(api, person, app_id) == "expert_review"


def test_pages_show_amount_payee_and_address(app, api):
    _unit, person, app_id = reviewed(api)
    client = signed_in(app, person["username"])
    html = text(client.get(f"/applications/{app_id}"))
    assert 'id="payment-amount">180 元' in html and PAYEE in html and ADDRESS in html
    assert "材料审核咨询" in html and "技术支持" in html
    task = api.only_task(person["username"], application=app_id, name="confirm_payment")["id"]
    html = text(client.get(f"/tasks/{task}"))
    assert "180 元" in html and "银行交易流水号" in html and PAYEE in html
    r = client.post(f"/tasks/{task}", data={"payment_reference": "NB2026112600009"})
    assert r.status_code == 302
    office = signed_in(app, OFFICE)
    check = only_task_id(office, name="verify_payment")
    html = text(office.get(f"/tasks/{check}"))
    assert "NB2026112600009" in html and "180 元" in html
    assert office.post(f"/tasks/{check}", data={"decision": "confirm"}).status_code == 302
    paper = only_task_id(office, name="receive_paper")
    assert ADDRESS in text(office.get(f"/tasks/{paper}"))
    pdf = client.get(f"/applications/{app_id}/review-form.pdf")
    assert pdf.status_code == 200
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        joined = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.data)).pages)
    assert "丽江东路366号" in joined.replace(" ", "") and "材料审核咨询" in joined.replace(" ", "")
