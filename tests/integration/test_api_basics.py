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
