"""Tokens, errors and the dossier review driven through the API."""

from __future__ import annotations

from tests.flows import DOSSIER, register_applicant, register_unit


def test_token_gives_user_and_me_answers(api):
    r = api.post("/auth/token", json={"username": "yz_water_1", "password": "yzw-Pass-1"})
    assert r.status == 200
    assert r.json["user"]["role"] == "dept" and r.json["user"]["org_id"] == "yz-water"
    me = api.get("/me", headers={"Authorization": f"Bearer {r.json['token']}"})
    assert me.status == 200 and me.json["username"] == "yz_water_1"


def test_token_refuses_bad_password(api):
    r = api.post("/auth/token", json={"username": "yz_water_1", "password": "wrong"})
    assert r.status == 401 and r.json["error"]["code"] == "bad_credentials"


def test_api_refuses_missing_or_bad_token(api):
    assert api.get("/tasks").status == 401
    r = api.get("/tasks", headers={"Authorization": "Bearer nope"})
    assert r.status == 401 and r.json["error"]["code"] == "unauthorized"


def test_malformed_json_is_400_not_500(api):
    r = api.post("/auth/token", data="{not json", content_type="application/json")
    assert r.status == 400 and r.json["error"]["code"] == "bad_request"
    r = api.post("/auth/token", json=["a", "list"])
    assert r.status == 400


def test_unknown_route_is_json_404(api):
    r = api.get("/nothing-here", "yz_water_1")
    assert r.status == 404 and r.json["error"]["code"] == "not_found"


def test_dossier_review_approve_path(api):
    unit = register_unit(api)
    person = register_applicant(api, unit, approve_dossier=False)
    assert api.get("/me/dossier", person["username"]).json["status"] == "draft"
    assert api.put("/me/dossier", person["username"], json=DOSSIER).status == 200
    r = api.post("/me/dossier/submit", person["username"])
    assert r.status == 200 and r.json["status"] == "submitted"
    assert api.post("/me/dossier/submit", person["username"]).status == 409
    task = api.only_task(unit["username"], name="review_dossier")
    detail = api.get(f"/tasks/{task['id']}", unit["username"]).json
    assert detail["form"]["properties"]["decision"]
    assert detail["context"]["dossier"]["highest_education"] == "本科"
    r = api.complete(task["id"], unit["username"], decision="approve", opinion="档案属实")
    assert r.status == 200 and r.json["status"] == "completed" and r.json["next_tasks"] == []
    assert api.get("/me/dossier", person["username"]).json["status"] == "approved"


def test_dossier_review_return_then_resubmit(api):
    unit = register_unit(api)
    person = register_applicant(api, unit, approve_dossier=False)
    api.put("/me/dossier", person["username"], json=DOSSIER)
    api.post("/me/dossier/submit", person["username"])
    task = api.only_task(unit["username"], name="review_dossier")
    r = api.complete(
        task["id"],
        unit["username"],
        decision="return",
        opinion="需补充",
        return_reason="缺少继续教育证明",
    )
    assert r.status == 200
    assert api.get("/me/dossier", person["username"]).json["status"] == "returned"
    assert api.post("/me/dossier/submit", person["username"]).status == 200
    assert api.only_task(unit["username"], name="review_dossier")["id"] != task["id"]


def test_complete_maps_schema_errors_to_fields(api):
    unit = register_unit(api)
    person = register_applicant(api, unit, approve_dossier=False)
    api.put("/me/dossier", person["username"], json=DOSSIER)
    api.post("/me/dossier/submit", person["username"])
    task = api.only_task(unit["username"], name="review_dossier")
    r = api.complete(task["id"], unit["username"], decision="return", opinion="x")
    assert r.status == 422 and "return_reason" in r.json["error"]["fields"]
    r = api.complete(task["id"], unit["username"], decision=5, opinion=["wrong type"])
    assert r.status == 422 and {"decision", "opinion"} <= set(r.json["error"]["fields"])
    r = api.post(f"/tasks/{task['id']}/complete", unit["username"], json={"data": "text"})
    assert r.status == 400
    assert api.only_task(unit["username"], name="review_dossier")["id"] == task["id"]


def test_task_ids_unknown_completed_or_foreign(api):
    unit = register_unit(api)
    other_unit = register_unit(api)
    person = register_applicant(api, unit, approve_dossier=False)
    api.put("/me/dossier", person["username"], json=DOSSIER)
    api.post("/me/dossier/submit", person["username"])
    task = api.only_task(unit["username"], name="review_dossier")
    assert api.get("/tasks/not-a-task", unit["username"]).status == 404
    assert (
        api.complete(
            "00000000-0000-0000-0000-000000000000",
            unit["username"],
            decision="approve",
            opinion="x",
        ).status
        == 404
    )
    assert api.get(f"/tasks/{task['id']}", other_unit["username"]).status == 403
    r = api.complete(task["id"], other_unit["username"], decision="approve", opinion="x")
    assert r.status == 403
    assert api.complete(task["id"], "yz_water_1", decision="approve", opinion="x").status == 403
    assert api.tasks(other_unit["username"]) == []
    assert (
        api.complete(task["id"], unit["username"], decision="approve", opinion="ok").status == 200
    )
    r = api.complete(task["id"], unit["username"], decision="approve", opinion="again")
    assert r.status == 409 and r.json["error"]["code"] == "task_not_ready"


def test_pending_unit_can_only_do_the_entrustment(api):
    unit = register_unit(api, activate=False)
    assert api.get("/me", unit["username"]).status == 200
    r = api.get(f"/units/{unit['unit_id']}/entrustment-template.pdf", unit["username"])
    assert r.status == 200 and r.json.startswith(b"%PDF")
    r = api.get("/tasks", unit["username"])
    assert r.status == 403 and r.json["error"]["code"] == "unit_not_active"


def test_batch_complete_reports_each_task(api):
    unit = register_unit(api)
    people = [register_applicant(api, unit, approve_dossier=False) for _ in range(3)]
    for p in people:
        api.put("/me/dossier", p["username"], json=DOSSIER)
        api.post("/me/dossier/submit", p["username"])
    ids = [t["id"] for t in api.tasks(unit["username"], name="review_dossier")]
    assert len(ids) == 3
    api.complete(ids[0], unit["username"], decision="approve", opinion="先审")
    r = api.post(
        "/tasks/batch-complete",
        unit["username"],
        json={"task_ids": ids, "data": {"decision": "approve", "opinion": "批量通过"}},
    )
    assert r.status == 200
    results = {x["task_id"]: x for x in r.json["results"]}
    assert results[ids[0]]["ok"] is False and results[ids[0]]["error"]["code"] == "task_not_ready"
    assert results[ids[1]]["ok"] and results[ids[2]]["ok"]
    assert api.post("/tasks/batch-complete", unit["username"], json={"task_ids": []}).status == 400


def test_rejected_entrustment_can_be_uploaded_again(api):
    import io

    from tests.flows import pdf_bytes

    unit = register_unit(api, activate=False)
    upload = {"file": (io.BytesIO(pdf_bytes()), "委托证明.pdf")}
    r = api.post(
        f"/units/{unit['unit_id']}/entrustment",
        unit["username"],
        data=upload,
        content_type="multipart/form-data",
    )
    assert r.status == 202
    again = {"file": (io.BytesIO(pdf_bytes()), "again.pdf")}
    r = api.post(
        f"/units/{unit['unit_id']}/entrustment",
        unit["username"],
        data=again,
        content_type="multipart/form-data",
    )
    assert r.status == 409 and r.json["error"]["code"] == "under_review"
    task = api.only_task("platform_1", name="review_entrustment")
    assert (
        api.complete(
            task["id"],
            "platform_1",
            decision="reject",
            opinion="未盖章",
            reject_reason="缺少单位公章",
        ).status
        == 200
    )
    assert api.get("/me", unit["username"]).json["org_status"] == "entrustment_rejected"
    third = {"file": (io.BytesIO(pdf_bytes()), "stamped.pdf")}
    r = api.post(
        f"/units/{unit['unit_id']}/entrustment",
        unit["username"],
        data=third,
        content_type="multipart/form-data",
    )
    assert r.status == 202
    bad = {"file": (io.BytesIO(b"\x89PNG\r\n\x1a\nnot a pdf"), "scan.pdf")}
    task = api.only_task("platform_1", name="review_entrustment")
    api.complete(task["id"], "platform_1", decision="approve", opinion="齐全")
    r = api.post(
        f"/units/{unit['unit_id']}/entrustment",
        unit["username"],
        data=bad,
        content_type="multipart/form-data",
    )
    assert r.status == 409 and r.json["error"]["code"] == "unit_active"


def test_applicant_cannot_register_under_inactive_unit(api):
    from tests.flows import id_number

    unit = register_unit(api, activate=False)
    r = api.post(
        "/applicants/register",
        json={
            "name": "王五",
            "id_number": id_number(900),
            "phone": "13800138000",
            "unit_id": unit["unit_id"],
            "username": "wangwu",
            "password": "long-enough-1",
        },
    )
    assert r.status == 422 and "unit_id" in r.json["error"]["fields"]


def test_registration_validates_check_digits_and_phone(api):
    r = api.post(
        "/units/register",
        json={
            "name": "某单位",
            "credit_code": "91330212MA2000001X",
            "dept_org_id": "yz-water",
            "contact": "张",
            "phone": "123",
            "username": "u_bad",
            "password": "long-enough-1",
        },
    )
    assert r.status == 422
    assert {"credit_code", "phone"} <= set(r.json["error"]["fields"])
    unit = register_unit(api)
    r = api.post(
        "/applicants/register",
        json={
            "name": "王五",
            "id_number": "330204199001011231",
            "phone": "13800138000",
            "unit_id": unit["unit_id"],
            "username": "wangwu2",
            "password": "long-enough-1",
        },
    )
    assert r.status == 422 and "id_number" in r.json["error"]["fields"]


def test_dossier_refers_only_to_own_files(api):
    import io

    from tests.flows import pdf_bytes

    unit = register_unit(api)
    me = register_applicant(api, unit, approve_dossier=False)
    other = register_applicant(api, unit, approve_dossier=False)
    up = api.post(
        "/files",
        other["username"],
        data={"file": (io.BytesIO(pdf_bytes()), "a.pdf")},
        content_type="multipart/form-data",
    )
    assert up.status == 201 and up.json["pages"] == 1
    form = api.get("/me/dossier", me["username"]).json["form"]
    ce = form["properties"]["continuing_education"]["items"]["properties"]
    file_field = next(k for k, v in ce.items() if v.get("format") == "file-id")
    data = {
        **DOSSIER,
        "continuing_education": [
            {**DOSSIER["continuing_education"][0], file_field: up.json["file_id"]}
        ],
    }
    r = api.put("/me/dossier", me["username"], json=data)
    assert r.status == 422
    assert f"continuing_education.0.{file_field}" in r.json["error"]["fields"]
    assert api.get(f"/files/{up.json['file_id']}", me["username"]).status == 403


def test_messages_list_and_mark_read(api):
    unit = register_unit(api)
    person = register_applicant(api, unit)
    items = api.get("/me/messages", person["username"]).json["items"]
    assert [m["kind"] for m in items] == ["dossier_approved"] and not items[0]["read"]
    assert api.post(f"/me/messages/{items[0]['id']}/read", unit["username"]).status == 403
    assert api.post(f"/me/messages/{items[0]['id']}/read", person["username"]).status == 200
    assert api.get("/me/messages", person["username"]).json["items"][0]["read"] is True
    unit_kinds = [m["kind"] for m in api.get("/me/messages", unit["username"]).json["items"]]
    assert "entrustment_approved" in unit_kinds
    assert api.post("/me/messages/999999/read", person["username"]).status == 404


def test_json_answers_are_utf8_without_escapes(api):
    token = api.login("yz_water_1")
    r = api.client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert r.content_type.startswith("application/json")
    assert "张三".encode() in r.data and b"\\u" not in r.data
