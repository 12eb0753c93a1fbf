"""Item-by-item review (逐条逐项): marks on a return reach the applicant, changes reach the
reviewer after resubmission; the dossier review marks the same way."""

from __future__ import annotations

from tests.flows import (
    DOSSIER,
    application_at_unit_review,
    level,
    register_applicant,
    register_unit,
    submit,
    unit_approves,
)
from tests.page_helpers import field_error, signed_in, text

MARKS = [
    {"path": "/submitted/work_summary", "note": "工作总结未写明本人承担的具体工作"},
    {"path": "/dossier/appraisals/2", "note": "2023年度考核结果与证明材料不符"},
]


def _return_with_marks(api, unit, app_id, marks=MARKS):
    task = api.only_task(unit["username"], application=app_id, name="unit_review")
    return api.complete(
        task["id"],
        unit["username"],
        decision="return",
        opinion="逐项审查发现问题",
        return_reason="请按标记逐项修改",
        marks=marks,
    )


def test_return_marks_reach_the_applicant_and_the_diff_reaches_the_reviewer(api, app):
    unit, person, app_id = application_at_unit_review(api)
    review = api.get(
        f"/tasks/{api.only_task(unit['username'], application=app_id)['id']}", unit["username"]
    ).json
    choices = review["form"]["properties"]["marks"]["items"]["properties"]["path"]["oneOf"]
    titles = {c["const"]: c["title"] for c in choices}
    assert titles["/submitted/work_summary"] == "申报表 · 专业技术工作总结"
    assert titles["/dossier/appraisals/2"].startswith("业绩档案 · 任现职以来年度考核 · 第3条")
    assert _return_with_marks(api, unit, app_id).status == 200

    detail = api.get(f"/applications/{app_id}", person["username"]).json
    assert [(m["path"], m["note"]) for m in detail["return_marks"]] == [
        (m["path"], m["note"]) for m in MARKS
    ]
    returned = next(e for e in detail["timeline"] if e["action"] == "return")
    assert returned["marks"][0]["label"] == "申报表 · 专业技术工作总结"
    task = api.only_task(person["username"], application=app_id, name="submit_application")
    got = api.get(f"/tasks/{task['id']}", person["username"]).json
    assert got["context"]["return_marks"][1]["label"].startswith("业绩档案 · 任现职以来年度考核")

    # the applicant's pages: the form field and the dossier row carry the notes
    client = signed_in(app, person["username"])
    page = text(client.get(f"/tasks/{task['id']}"))
    assert field_error(page, "work_summary") == "退回标记：工作总结未写明本人承担的具体工作"
    assert 'id="return-marks"' in page and "2023年度考核结果与证明材料不符" in page
    dossier_page = text(client.get("/me/dossier"))
    assert field_error(dossier_page, "appraisals[2].year") == (
        "退回标记：2023年度考核结果与证明材料不符"
    )

    # corrected: one form field and one dossier row change
    fixed = {**DOSSIER, "appraisals": [dict(a) for a in DOSSIER["appraisals"]]}
    fixed["appraisals"][2]["grade"] = "优秀"
    assert api.put("/me/dossier", person["username"], json=fixed).status == 200
    submit(api, person, app_id, work_summary="本人负责大坝安全复核与加固设计。")
    review = api.get(
        f"/tasks/{api.only_task(unit['username'], application=app_id)['id']}", unit["username"]
    ).json
    changes = {c["path"]: c for c in review["context"]["changes_since_return"]}
    assert set(changes) == {"/submitted/work_summary", "/dossier/appraisals/2/grade"}
    summary = changes["/submitted/work_summary"]
    assert summary["change"] == "changed"
    assert summary["old"] == "主持完成多项水库除险加固设计。"
    assert summary["new"] == "本人负责大坝安全复核与加固设计。"
    assert changes["/dossier/appraisals/2/grade"]["old"] == "合格"
    assert changes["/dossier/appraisals/2/grade"]["new"] == "优秀"
    page = text(signed_in(app, unit["username"]).get(f"/tasks/{review['id']}"))
    assert 'id="changes-since-return"' in page and "本人负责大坝安全复核与加固设计。" in page


def test_a_level_marks_and_bad_paths_are_422(api):
    unit, person, app_id = application_at_unit_review(api)
    r = _return_with_marks(api, unit, app_id, [{"path": "/dossier/appraisals/9", "note": "x"}])
    assert r.status == 422 and "marks" in r.json["error"]["fields"]
    r = _return_with_marks(api, unit, app_id, [{"path": "/submitted/no_such", "note": "x"}])
    assert r.status == 422 and "marks" in r.json["error"]["fields"]
    r = _return_with_marks(api, unit, app_id, [{"path": "dossier", "note": "x"}])
    assert r.status == 422 and "marks" in r.json["error"]["fields"]
    assert unit_approves(api, unit, app_id).status == 200
    mark = [{"path": "/dossier/continuing_education/0", "note": "2021年专业科目学时证明缺失"}]
    level(api, "yz-water", app_id, decision="return", marks=mark)
    detail = api.get(f"/applications/{app_id}", person["username"]).json
    assert detail["status"] == "returned"
    assert detail["return_marks"][0]["note"] == "2021年专业科目学时证明缺失"


def test_dossier_review_marks_reach_the_dossier_page(api, app):
    unit = register_unit(api)
    person = register_applicant(api, unit, approve_dossier=False)
    assert api.put("/me/dossier", person["username"], json=DOSSIER).status == 200
    assert api.post("/me/dossier/submit", person["username"]).status == 200
    task = api.only_task(unit["username"], name="review_dossier")
    bad = [{"path": "/dossier/papers/0", "note": "x"}]
    r = api.complete(task["id"], unit["username"], decision="return", opinion="o",
                     return_reason="r", marks=bad)  # fmt: skip
    assert r.status == 422 and "marks" in r.json["error"]["fields"]
    mark = [{"path": "/dossier/education/0", "note": "缺少学历证书扫描件"}]
    r = api.complete(task["id"], unit["username"], decision="return", opinion="请补充",
                     return_reason="见标记", marks=mark)  # fmt: skip
    assert r.status == 200
    page = text(signed_in(app, person["username"]).get("/me/dossier"))
    assert field_error(page, "education[0].school") == "退回标记：缺少学历证书扫描件"
    assert "业绩档案 · 学历经历 · 第1条" in page
