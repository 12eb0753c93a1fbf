"""The pages as a person uses them, through the Flask test client (CSRF off in tests)."""

from __future__ import annotations

import io
from urllib.parse import quote

from tests import flows
from tests.flows import CHECKS, DOSSIER, PAST_WINDOW
from tests.helpers import PASSWORDS
from tests.page_helpers import field_error, only_task_id, signed_in, task_links, text


def _dossier_form() -> dict[str, str]:
    """The flows.DOSSIER as posted HTML fields."""
    form = {
        "gender": DOSSIER["gender"],
        "birth_date": DOSSIER["birth_date"],
        "work_start_date": DOSSIER["work_start_date"],
        "highest_education": DOSSIER["highest_education"],
        "summary": DOSSIER["summary"],
    }
    for key, value in DOSSIER["current_title"].items():
        form[f"current_title.{key}"] = value
    for table in ("education", "work_history", "appraisals", "continuing_education"):
        for i, row in enumerate(DOSSIER[table]):
            form.update({f"{table}[{i}].{k}": str(v) for k, v in row.items()})
    return form


def test_signed_out_visitor_is_sent_to_login_with_registration_links(app):
    client = app.test_client()
    r = client.get("/")
    assert r.status_code == 302 and r.location.endswith("/login")
    html = text(client.get("/login"))
    assert "/register/applicant" in html and "/register/unit" in html
    assert client.get("/applications").status_code == 302
    assert client.get("/me/dossier").status_code == 302


def test_unit_registration_shows_field_errors_then_lands_on_entrustment(app):
    client = app.test_client()
    html = text(client.get("/register/unit"))
    assert "鄞州区农业农村局(水利)" in html and "宁波市人力资源和社会保障局" not in html
    form = {
        "name": "宁波页面测试设计院",
        "credit_code": "91330212MA2000000X",
        "dept_org_id": "yz-water",
        "contact": "陈工",
        "phone": "0574-87654321",
        "username": "page_unit",
        "password": "unit-Pass-page",
    }
    r = client.post("/register/unit", data=form)
    assert r.status_code == 422 and field_error(text(r), "credit_code")
    assert 'value="宁波页面测试设计院"' in text(r) and "unit-Pass-page" not in text(r)
    r = client.post("/register/unit", data={**form, "credit_code": flows.credit_code(801)})
    assert r.status_code == 302 and "/login" in r.location
    r = client.post("/register/unit", data={**form, "credit_code": flows.credit_code(802)})
    assert r.status_code == 409 and field_error(text(r), "username")
    PASSWORDS["page_unit"] = form["password"]
    unit = signed_in(app, "page_unit")
    r = unit.get("/")
    assert r.location.endswith("/unit/entrustment")
    html = text(unit.get("/unit/entrustment"))
    assert "待上传委托证明" in html and "91330212MA2" in html
    assert unit.get("/unit/entrustment/template.pdf").data.startswith(b"%PDF")
    assert text(unit.get("/tasks")).count("/tasks/") == 0


def test_entrustment_review_reject_reupload_approve(app):
    client = app.test_client()
    client.post(
        "/register/unit",
        data={
            "name": "宁波委托测试院",
            "credit_code": flows.credit_code(803),
            "dept_org_id": "yz-water",
            "contact": "陈工",
            "phone": "0574-87654321",
            "username": "page_unit2",
            "password": "unit-Pass-page",
        },
    )
    PASSWORDS["page_unit2"] = "unit-Pass-page"
    unit = signed_in(app, "page_unit2")
    r = unit.post("/unit/entrustment", data={"file": (io.BytesIO(b"not a pdf"), "a.pdf")})
    assert r.status_code in (415, 422) and 'id="file-error"' in text(r)
    upload = {"file": (io.BytesIO(flows.pdf_bytes()), "委托证明.pdf")}
    assert unit.post("/unit/entrustment", data=upload).status_code == 302
    assert "委托证明审核中" in text(unit.get("/unit/entrustment"))

    platform = signed_in(app, "platform_1")
    task_id = only_task_id(platform, name="review_entrustment")
    html = text(platform.get(f"/tasks/{task_id}"))
    assert "宁波委托测试院" in html and "鄞州区农业农村局(水利)" in html
    file_href = html.split('id="entrustment-file" href="')[1].split('"')[0]
    assert platform.get(file_href).data.startswith(b"%PDF")
    assert unit.get(file_href).status_code == 200
    assert signed_in(app, "yz_water_1").get(file_href).status_code == 403
    r = platform.post(f"/tasks/{task_id}", data={"decision": "reject", "opinion": "不清晰"})
    assert r.status_code == 422 and field_error(text(r), "reject_reason")
    data = {"decision": "reject", "opinion": "不清晰", "reject_reason": "公章模糊"}
    assert platform.post(f"/tasks/{task_id}", data=data).status_code == 302
    assert "公章模糊" in text(unit.get("/unit/entrustment"))

    upload = {"file": (io.BytesIO(flows.pdf_bytes()), "委托证明.pdf")}
    assert unit.post("/unit/entrustment", data=upload).status_code == 302
    task_id = only_task_id(platform, name="review_entrustment")
    data = {"decision": "approve", "opinion": "同意"}
    assert platform.post(f"/tasks/{task_id}", data=data).status_code == 302
    assert "已激活" in text(unit.get("/unit/entrustment"))
    assert unit.get("/").location.endswith("/tasks")
    assert "委托证明已审核通过" in text(unit.get("/messages"))


def test_applicant_registers_edits_dossier_and_submits(app, api):
    unit = flows.register_unit(api)
    client = app.test_client()
    assert "宁波测试水利设计院" in text(client.get("/register/applicant"))
    form = {
        "name": "周页面",
        "id_number": "330204199001010000",
        "phone": "13800138000",
        "unit_id": unit["unit_id"],
        "username": "page_appl",
        "password": "appl-Pass-page",
    }
    r = client.post("/register/applicant", data=form)
    assert r.status_code == 422 and "校验位" in field_error(text(r), "id_number")
    r = client.post("/register/applicant", data={**form, "id_number": flows.id_number(804)})
    assert r.status_code == 302
    PASSWORDS["page_appl"] = form["password"]
    person = signed_in(app, "page_appl")
    assert "草稿" in text(person.get("/me/dossier"))

    bad = {**_dossier_form(), "highest_education": "", "education[0].school": ""}
    r = person.post("/me/dossier", data=bad)
    assert r.status_code == 422
    assert field_error(text(r), "highest_education")
    assert field_error(text(r), "education[0].school")
    posted = {
        **_dossier_form(),
        "continuing_education[0].certificate__upload": (io.BytesIO(flows.pdf_bytes()), "证明.pdf"),
    }
    assert person.post("/me/dossier", data=posted).status_code == 302
    saved = api.get("/me/dossier", "page_appl").json
    assert saved["status"] == "draft" and saved["data"]["education"][0]["school"] == "河海大学"
    assert saved["data"]["continuing_education"][0]["public_hours"] == 30
    assert saved["data"]["continuing_education"][0]["certificate"]
    html = text(person.get("/me/dossier"))
    assert "证明.pdf" in html and "continuing_education[5].year" in html

    kept = {k: v for k, v in _dossier_form().items() if not k.startswith("appraisals[4]")}
    kept["continuing_education[0].certificate"] = saved["data"]["continuing_education"][0][
        "certificate"
    ]
    kept["appraisals[3].__delete"] = "1"
    r = person.post("/me/dossier", data={**kept, "action": "submit"})
    assert r.status_code == 302
    after = api.get("/me/dossier", "page_appl").json
    assert after["status"] == "submitted" and len(after["data"]["appraisals"]) == 3
    assert after["data"]["continuing_education"][0]["certificate"]
    html = text(person.get("/me/dossier"))
    assert "单位审核中" in html and "审核期间不能修改" in html

    reviewer = signed_in(app, unit["username"])
    task_id = only_task_id(reviewer, name="review_dossier")
    assert "周页面 的业绩档案" in text(reviewer.get("/tasks"))
    html = text(reviewer.get(f"/tasks/{task_id}"))
    assert "河海大学" in html and "证明.pdf" in html
    data = {"decision": "return", "opinion": "需补充", "return_reason": "缺少2021年考核"}
    assert reviewer.post(f"/tasks/{task_id}", data=data).status_code == 302
    html = text(person.get("/me/dossier"))
    assert "已退回待修改" in html and "缺少2021年考核" in html
    assert "业绩档案被单位退回" in text(person.get("/messages"))


def test_filing_needs_approved_dossier_then_submit_with_attachment(app, api):
    unit = flows.register_unit(api)
    person = flows.register_applicant(api, unit, approve_dossier=False)
    client = signed_in(app, person["username"])
    filing = {"series": "工程", "level": "中级", "specialty": "水利工程"}
    r = client.post("/applications", data=filing)
    assert r.status_code == 409 and "业绩档案未审核通过" in text(r)
    api.put("/me/dossier", person["username"], json=DOSSIER)
    api.post("/me/dossier/submit", person["username"])
    task = api.only_task(unit["username"], name="review_dossier")
    api.complete(task["id"], unit["username"], decision="approve", opinion="属实")

    r = client.post("/applications", data={**filing, "specialty": ""})
    assert r.status_code == 422
    r = client.post("/applications", data=filing)
    assert r.status_code == 302 and "/tasks/" in r.location
    html = text(client.get(r.location))
    assert "工程 / 中级 / 水利工程" in html and "河海大学" in html
    form = {
        "title_applied": "工程师",
        "work_summary": "主持完成多项水库除险加固设计。",
        "attachments__upload": (io.BytesIO(flows.pdf_bytes(1)), "a.pdf"),
    }
    task_page = r.location
    r = client.post(task_page, data=form)  # the pledge box left unticked
    assert r.status_code == 422 and field_error(text(r), "pledge")
    form["pledge"] = "true"
    form["attachments__upload"] = (io.BytesIO(b"plain text"), "说明.txt")
    r = client.post(task_page, data=form)
    assert r.status_code == 422 and "说明.txt" in field_error(text(r), "attachments")
    form["attachments__upload"] = (io.BytesIO(flows.pdf_bytes(2)), "学历证书.pdf")
    r = client.post(r.request.path, data=form)
    assert r.status_code == 302 and "/applications/" in r.location
    html = text(client.get(r.location))
    assert "单位审查中" in html and "填写并提交申报表" in html

    listing = text(client.get("/applications"))
    assert "单位审查中" in listing and "水利工程" in listing
    assert client.post("/applications", data=filing).status_code == 409


def test_unit_review_shows_short_publicity_next_to_field_then_climbs(app, api):
    unit, _person, app_id = flows.application_at_unit_review(api)
    client = signed_in(app, unit["username"])
    worklist = text(client.get("/tasks"))
    assert "李四" in worklist and f">{app_id}<" in worklist
    task_id = only_task_id(client, name="unit_review")
    html = text(client.get(f"/tasks/{task_id}"))
    assert "主持完成多项水库除险加固设计" in html and "河海大学" in html
    data = {
        **{name: "on" for name in CHECKS},  # the four checks, ticked
        "decision": "approve",
        "opinion": "同意",
        "publicity_start": "2026-09-28",
        "publicity_end": "2026-10-08",
        "publicity_place": "公告栏",
    }
    r = client.post(f"/tasks/{task_id}", data=data)
    assert r.status_code == 422
    assert "2026-10-09" in field_error(text(r), "publicity_end")
    assert 'value="2026-09-28"' in text(r)
    r = client.post(f"/tasks/{task_id}", data={**data, **PAST_WINDOW})
    assert r.status_code == 302
    html = text(client.get(f"/applications/{app_id}"))
    assert "逐级审查中" in html and "宁波市人力资源和社会保障局" in html
    assert "单位资格审查与公示" in html and "同意" in html


def test_reviewer_task_page_shows_history_and_return_reaches_applicant(app, api):
    _unit, person, app_id = flows.application_at_first_level(api)
    flows.level(api, "yz-water", app_id)
    client = signed_in(app, "yz_hrss_1")
    task_id = only_task_id(client, name="level_review")
    html = text(client.get(f"/tasks/{task_id}"))
    assert "yz_water_1 审查意见：审查通过" in html and "鄞州区农业农村局(水利)" in html
    assert "李四" in html and "河海大学" in html and "工程师" in html
    data = {"decision": "return", "opinion": "退回", "return_reason": "继续教育证明不全"}
    assert client.post(f"/tasks/{task_id}", data=data).status_code == 302
    applicant = signed_in(app, person["username"])
    html = text(applicant.get(f"/applications/{app_id}"))
    assert "已退回待修改" in html and "继续教育证明不全" in html
    task_ids = task_links(html)
    assert len(task_ids) == 1
    html = text(applicant.get(f"/tasks/{task_ids[0]}"))
    assert "主持完成多项水库除险加固设计" in html and "继续教育证明不全" in html


def test_batch_recommend_page_reports_each_item(app, api):
    unit = flows.register_unit(api)
    apps = []
    for _ in range(3):
        person = flows.register_applicant(api, unit)
        app_id = flows.file_application(api, person)
        flows.submit(api, person, app_id)
        flows.unit_approves(api, unit, app_id)
        task = api.only_task("yz_water_1", application=app_id, name="level_review")
        api.complete(task["id"], "yz_water_1", decision="approve", opinion="同意", **CHECKS)
        apps.append(app_id)
    client = signed_in(app, "yz_water_1")
    html = text(client.get("/review/recommend"))
    ids = [i for i in dict.fromkeys(task_links(html))]
    assert len(ids) == 3 and 'class="select-all"' in html
    api.complete(ids[0], "yz_water_1", note="先推荐")
    r = client.post("/review/recommend", data={"task_ids": ids, "note": "批量推荐"})
    html = text(r)
    assert r.status_code == 200 and "成功 2 项，失败 1 项" in html
    assert html.count('class="ok"') == 2 and "该任务已处理" in html
    assert len(api.tasks("yz_hrss_1", name="level_review")) == 3
    assert client.post("/review/recommend", data={}).status_code == 422
    assert signed_in(app, "bl_water_1").get("/review/recommend").status_code == 200
    assert signed_in(app, unit["username"]).get("/review/recommend").status_code == 403


def test_fee_setting_page_switches_own_department(app, api):
    client = signed_in(app, "yz_hrss_1")
    html = text(client.get("/review/fee"))
    assert "鄞州区人力社保局" in html and 'id="fee-state"' in html and ">收费<" in html
    assert client.post("/review/fee", data={"charge": "false"}).status_code == 302
    assert api.get("/orgs/yz-hrss/fee-setting", "yz_hrss_1").json["charge"] is False
    assert ">不收费<" in text(client.get("/review/fee"))
    assert api.get("/orgs/yz-water/fee-setting", "yz_water_1").json["charge"] is True
    assert client.post("/review/fee", data={"charge": "maybe"}).status_code == 422
    assert signed_in(app, "platform_1").get("/review/fee").status_code == 403


def test_messages_are_the_users_own(app, api):
    unit, person, app_id = flows.application_at_unit_review(api)
    flows.unit_approves(api, unit, app_id)
    other = flows.register_applicant(api, unit, name="王其他")
    mine = text(signed_in(app, person["username"]).get("/messages"))
    assert "已报送主管部门审查" in mine and "委托证明" not in mine
    theirs = text(signed_in(app, other["username"]).get("/messages"))
    assert "已报送主管部门审查" not in theirs and "业绩档案已通过" in theirs
    assert "委托证明已审核通过" in text(signed_in(app, unit["username"]).get("/messages"))


def test_other_department_is_denied_application_task_and_file_pages(app, api):
    unit, person, app_id = flows.application_at_unit_review(api)
    flows.unit_approves(api, unit, app_id)
    own = signed_in(app, "yz_water_1")
    task_id = only_task_id(own, name="level_review")
    assert own.get(f"/applications/{app_id}").status_code == 200
    other = signed_in(app, "bl_water_1")
    assert other.get(f"/applications/{app_id}").status_code == 403
    assert other.get(f"/tasks/{task_id}").status_code == 403
    assert other.post(f"/tasks/{task_id}", data={"decision": "approve"}).status_code == 403
    assert "李四" not in text(other.get("/applications"))
    assert other.get("/applications/999999").status_code == 404
    neighbour = flows.register_applicant(api, unit)
    assert signed_in(app, neighbour["username"]).get(f"/applications/{app_id}").status_code == 403
    assert signed_in(app, neighbour["username"]).get("/review/fee").status_code == 403
    assert signed_in(app, "yz_water_1").get("/me/dossier").status_code == 403
    r = api.post(
        "/files",
        person["username"],
        data={"file": (io.BytesIO(flows.pdf_bytes()), "a.pdf")},
        content_type="multipart/form-data",
    )
    file_id = r.json["file_id"]
    assert own.get(f"/files/{file_id}").data.startswith(b"%PDF")
    assert other.get(f"/files/{file_id}").status_code == 403
    assert other.get("/files/nosuchfile").status_code == 404


def test_closing_steps_payment_export_and_paper_on_pages(app, api):
    _unit, person, app_id = flows.application_past_every_level(api)
    client = signed_in(app, person["username"])
    html = text(client.get(f"/applications/{app_id}"))
    assert "待缴费" in html and 'id="review-form"' not in html
    pay_task = task_links(html)[0]
    assert "缴费确认" in text(client.get(f"/tasks/{pay_task}"))
    r = client.post(f"/tasks/{pay_task}", data={"paid_on": "2026-11-26"})
    assert r.status_code == 422 and field_error(text(r), "payment_reference")
    data = {"payment_reference": "NB2026112600001", "paid_on": "2026-11-26"}
    assert client.post(f"/tasks/{pay_task}", data=data).status_code == 302
    assert 'id="review-form"' not in text(client.get(f"/applications/{app_id}"))
    flows.verify_payment(api, app_id)
    html = text(client.get(f"/applications/{app_id}"))
    assert "待报送纸质材料" in html and 'id="review-form"' in html
    pdf = client.get(f"/applications/{app_id}/review-form.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    assert pdf.headers["Content-Disposition"] == (
        f'attachment; filename="review-form-{app_id}.pdf"; '
        f"filename*=UTF-8''{quote('李四-评审表.pdf', safe='')}"
    )

    office = signed_in(app, "nb_office_1")
    task_id = only_task_id(office, name="receive_paper")
    html = text(office.get(f"/tasks/{task_id}"))
    assert "资历" in html and 'id="hints"' in html
    r = office.post(f"/tasks/{task_id}", data={"copies": "2"})
    assert r.status_code == 422 and field_error(text(r), "missing")
    r = office.post(f"/tasks/{task_id}", data={"copies": "2", "missing": "评审表 1 份"})
    assert r.status_code == 302
    assert "尚缺：评审表 1 份" in text(client.get(f"/applications/{app_id}"))
    task_id = only_task_id(office, name="receive_paper")
    assert office.post(f"/tasks/{task_id}", data={"copies": "3"}).status_code == 302
    assert "已办结" in text(client.get(f"/applications/{app_id}"))


def test_urge_button_on_application_page(app, api):
    unit, person, app_id = flows.application_at_unit_review(api)
    flows.unit_approves(api, unit, app_id)
    client = signed_in(app, person["username"])
    html = text(client.get(f"/applications/{app_id}"))
    assert 'id="urge"' in html
    r = client.post(f"/applications/{app_id}/urge", follow_redirects=True)
    assert "已催办 1 个事项" in text(r)
    r = client.post(f"/applications/{app_id}/urge", follow_redirects=True)
    assert "今天已催办过" in text(r)
    reviewer = signed_in(app, "yz_water_1")
    assert 'id="urge"' not in text(reviewer.get(f"/applications/{app_id}"))
