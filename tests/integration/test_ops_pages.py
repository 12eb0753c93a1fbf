"""Operators' and designers' pages through the test client: stuck list, repairs, migration
with a dry run, timers, versions, diagrams and the upload page."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from lxml import etree

from tests.flows import file_application, register_applicant, register_unit, submit, unit_approves
from tests.helpers import Api
from tests.page_helpers import field_error, signed_in, text
from tests.samples import process

OPS = "/admin/instances"
DESIGNER = "/admin/processes"


def _upload(client: FlaskClient, op: str, *files: tuple[bytes, str]) -> tuple[int, str]:
    r = client.post(
        f"{DESIGNER}/upload",
        data={"op": op, "files": [(io.BytesIO(body), name) for body, name in files]},
        content_type="multipart/form-data",
    )
    return r.status_code, text(r)


def _with_layout(bpmn: bytes) -> bytes:
    """The sample process with a diagram layout for its script and user task."""
    shapes = "".join(
        f'<bpmndi:BPMNShape bpmnElement="{el}"><dc:Bounds x="{x}" y="20" width="100" height="80"/>'
        "</bpmndi:BPMNShape>"
        for el, x in (("compute", 20), ("approve", 160))
    )
    di = (
        '<bpmndi:BPMNDiagram xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI" '
        'xmlns:dc="http://www.omg.org/spec/DD/20100524/DC"><bpmndi:BPMNPlane bpmnElement="sample">'
        f"{shapes}</bpmndi:BPMNPlane></bpmndi:BPMNDiagram></bpmn:definitions>"
    )
    return bpmn.replace(b"</bpmn:definitions>", di.encode())


def _start(api: Api, data: dict, version: int | None = None) -> str:
    body = {"data": data} | ({"version": version} if version else {})
    r = api.post("/specs/sample/instances", "admin", json=body)
    assert r.status == 201, r
    return r.json["instance_id"]


def _version_of(api: Api, inst: str) -> int:
    return api.get(f"/ops/instances/{inst}", "admin").json["version"]


def _row(html: str, inst: str) -> str:
    match = re.search(rf'<tr id="instance-{inst}".*?</tr>', html, re.S)
    assert match, f"instance {inst} not listed"
    return match.group(0)


@pytest.fixture
def admin(app: Flask) -> FlaskClient:
    return signed_in(app, "admin")


def test_failing_script_is_listed_as_stuck_and_retry_from_the_page_fixes_it(api, admin):
    failing = _with_layout(process(script="ratio = 10 / divisor"))
    status, html = _upload(admin, "deploy", (failing, "sample.bpmn"))
    assert status == 200 and "已发布新版本" in html
    unit = register_unit(api)
    inst = _start(api, {"divisor": 0, "unit_org_id": unit["unit_id"]})

    row = _row(text(admin.get(OPS, query_string={"stuck": "1"})), inst)
    assert "出错" in row and "ZeroDivisionError" in row and "第 1 版" in row
    html = text(admin.get(f"{OPS}/{inst}"))
    assert '<svg xmlns="http://www.w3.org/2000/svg"' in html
    assert 'data-id="compute" data-state="error"' in html
    assert "ZeroDivisionError" in html and 'id="problems"' in html

    r = admin.post(f"{OPS}/{inst}/retry", data={"reason": "改数据", "data": '{"divisor": 2'})
    assert r.status_code == 422 and "JSON" in field_error(text(r), "retry-data")
    r = admin.post(f"{OPS}/{inst}/retry", data={"reason": "改数据", "data": "[1, 2]"})
    assert r.status_code == 422 and field_error(text(r), "retry-data")
    r = admin.post(f"{OPS}/{inst}/retry", data={"reason": " ", "data": '{"divisor": 2}'})
    assert r.status_code == 422 and field_error(text(r), "retry-reason")
    assert '{"divisor": 2}' in text(r).replace("&#34;", '"')  # the typed data is kept

    r = admin.post(
        f"{OPS}/{inst}/retry", data={"reason": "除数有误，已更正", "data": '{"divisor": 2}'}
    )
    assert r.status_code == 302
    html = text(admin.get(r.location))
    assert "已重试出错的任务" in html and "除数有误，已更正" in html
    assert "&#34;ratio&#34;: 5" in html
    assert f'id="instance-{inst}"' not in text(admin.get(OPS, query_string={"stuck": "1"}))
    r = admin.post(f"{OPS}/{inst}/retry", data={"reason": "again"})
    assert r.status_code == 409 and "无需重试" in text(r)


def test_suspend_then_resume_from_the_instance_page(api, admin):
    _upload(admin, "deploy", (process(), "sample.bpmn"))
    unit = register_unit(api)
    inst = _start(api, {"unit_org_id": unit["unit_id"]})
    task = api.only_task(unit["username"], name="approve")

    r = admin.post(f"{OPS}/{inst}/suspend", data={"reason": "核查材料"})
    assert r.status_code == 302
    assert 'id="instance-status">已挂起' in text(admin.get(r.location))
    r = api.complete(task["id"], unit["username"], decision="approve", opinion="好")
    assert r.status == 409
    r = admin.post(f"{OPS}/{inst}/suspend", data={"reason": "再挂一次"})
    assert r.status_code == 409 and "已挂起" in text(r) and 'id="state-failure"' in text(r)
    r = admin.post(f"{OPS}/{inst}/resume", data={})
    assert r.status_code == 422 and field_error(text(r), "state-reason")
    r = admin.post(f"{OPS}/{inst}/resume", data={"reason": "核查完毕"})
    assert r.status_code == 302
    html = text(admin.get(r.location))
    assert 'id="instance-status">等待中' in html or 'id="instance-status">运行中' in html
    assert "核查材料" in html and "核查完毕" in html
    assert (
        api.complete(task["id"], unit["username"], decision="approve", opinion="好").status == 200
    )
    r = admin.post(f"{OPS}/{inst}/terminate", data={"reason": "撤回"})
    assert r.status_code == 409 and "已办结" in text(r)


def test_reset_offers_the_instance_tasks_and_refuses_an_unknown_one(api, admin):
    _upload(admin, "deploy", (process(), "sample.bpmn"))
    unit = register_unit(api)
    inst = _start(api, {"unit_org_id": unit["unit_id"]})
    html = text(admin.get(f"{OPS}/{inst}"))
    assert '<option value="approve"' in html
    r = admin.post(f"{OPS}/{inst}/reset", data={"reason": "重办", "task": "nope"})
    assert r.status_code == 422 and "nope" in field_error(text(r), "reset-task")
    r = admin.post(f"{OPS}/{inst}/reset", data={"reason": "重办", "task": "approve"})
    assert r.status_code == 302


def test_bulk_migrate_dry_run_reports_each_and_moves_nothing_until_confirmed(api, admin):
    _upload(admin, "deploy", (process(), "sample.bpmn"))
    unit = register_unit(api)
    ids = [_start(api, {"unit_org_id": unit["unit_id"]}) for _ in range(4)]
    api.post(f"/ops/instances/{ids[3]}/terminate", "admin", json={"reason": "撤回"})
    status, html = _upload(admin, "deploy", (process(script="x = 2"), "sample.bpmn"))
    assert status == 200 and "第 2 版" in html
    _upload(admin, "deploy", (process(with_task=False), "sample.bpmn"))
    form = {"ids": ids, "action": "migrate", "version": "2", "reason": "批量升级"}

    r = admin.post(f"{OPS}/bulk", data=form | {"dry_run": "1"})
    html = text(r)
    assert r.status_code == 200 and "这是试运行" in html
    assert html.count("可以迁移</span>") == 3 and "已结束的实例不能迁移" in html
    assert all(_version_of(api, i) == 1 for i in ids)
    confirm = re.search(r'<form[^>]*id="confirm-migrate".*?</form>', html, re.S).group(0)
    assert re.findall(r'name="ids" value="(\d+)"', confirm) == ids[:3]
    r = admin.post(f"{OPS}/bulk", data=form)  # "执行" without the report's confirm: still a report
    assert "这是试运行" in text(r) and all(_version_of(api, i) == 1 for i in ids)

    r = admin.post(f"{OPS}/bulk", data=form | {"version": "3"})
    assert "approve 在目标版本中不存在" in text(r) and 'id="confirm-migrate"' not in text(r)

    r = admin.post(f"{OPS}/bulk", data=form | {"ids": ids[:3], "confirm": "1"})
    assert r.status_code == 200 and "这是试运行" not in text(r)
    assert [_version_of(api, i) for i in ids] == [2, 2, 2, 1]


def test_bulk_refuses_missing_choices_and_dry_run_of_other_actions(api, admin):
    _upload(admin, "deploy", (process(), "sample.bpmn"))
    unit = register_unit(api)
    inst = _start(api, {"unit_org_id": unit["unit_id"]})
    r = admin.post(f"{OPS}/bulk", data={"action": "suspend", "reason": "x"})
    assert r.status_code == 422 and "请至少勾选" in text(r)
    r = admin.post(f"{OPS}/bulk", data={"ids": [inst], "action": "suspend", "reason": ""})
    assert r.status_code == 422 and field_error(text(r), "reason")
    r = admin.post(f"{OPS}/bulk", data={"ids": [inst], "action": "migrate", "reason": "x"})
    assert r.status_code == 422 and field_error(text(r), "version")
    data = {"ids": [inst], "action": "suspend", "reason": "x", "dry_run": "1"}
    r = admin.post(f"{OPS}/bulk", data=data)
    assert r.status_code == 422 and "只有迁移可以试运行" in text(r)
    assert api.get(f"/ops/instances/{inst}", "admin").json["status"] != "suspended"
    r = admin.post(f"{OPS}/bulk", data=data | {"dry_run": ""})
    assert r.status_code == 200 and f'id="result-{inst}" class="ok"' in text(r)
    assert api.get(f"/ops/instances/{inst}", "admin").json["status"] == "suspended"


def test_single_migration_reports_first_then_confirm_moves(api, admin):
    _upload(admin, "deploy", (process(), "sample.bpmn"))
    unit = register_unit(api)
    inst = _start(api, {"unit_org_id": unit["unit_id"]})
    _upload(admin, "deploy", (process(script="x = 2"), "sample.bpmn"))
    r = admin.post(f"{OPS}/{inst}/migrate", data={"reason": "升级", "version": "2"})
    assert r.status_code == 200 and 'id="confirm-migrate"' in text(r)
    assert _version_of(api, inst) == 1
    r = admin.post(f"{OPS}/{inst}/migrate", data={"reason": "升级", "version": "2", "confirm": "1"})
    assert r.status_code == 302 and _version_of(api, inst) == 2
    assert "迁移流程版本" in text(admin.get(r.location))


def test_overdue_timer_fires_from_the_instance_page(app, api, clock):
    clock.now = datetime(2026, 9, 28, 2, 0, tzinfo=UTC)
    unit = register_unit(api)
    person = register_applicant(api, unit)
    app_id = file_application(api, person)
    submit(api, person, app_id)
    window = {"publicity_start": "2026-09-28", "publicity_end": "2026-10-09"}
    assert unit_approves(api, unit, app_id, **window).status == 200
    inst = api.get(f"/applications/{app_id}", person["username"]).json["instance_id"]
    admin = signed_in(app, "admin")
    html = text(admin.get(f"{OPS}/{inst}"))
    assert 'data-id="submit_application" data-state="completed"' in html
    assert "立即触发" not in html

    clock.now = datetime(2026, 10, 9, 16, 0, tzinfo=UTC) + timedelta(hours=1)
    admin = signed_in(app, "admin")  # eleven days idle: the old session has timed out
    html = text(admin.get(f"{OPS}/{inst}"))
    assert "已到期未触发" in html and "立即触发" in html
    timer_id = re.search(r'id="timer-(\d+)"', html).group(1)
    r = admin.post(f"{OPS}/{inst}/timers/{timer_id}/fire", data={"reason": ""})
    assert r.status_code == 422 and field_error(text(r), f"timer-{timer_id}-reason")
    r = admin.post(f"{OPS}/{inst}/timers/{timer_id}/fire", data={"reason": "调度器停机补触发"})
    assert r.status_code == 302
    html = text(admin.get(r.location))
    assert "定时器已触发" in html and "调度器停机补触发" in html and "立即触发" not in html
    r = admin.post(f"{OPS}/{inst}/timers/{timer_id}/fire", data={"reason": "again"})
    assert r.status_code == 409


def test_versions_and_diagrams_are_listed(admin):
    html = text(admin.get(DESIGNER))
    assert 'id="process-title_application"' in html and "职称申报与评审" in html
    assert f'href="{DESIGNER}/title_application/1"' in html
    html = text(admin.get(f"{DESIGNER}/title_application/1"))
    assert '<svg xmlns="http://www.w3.org/2000/svg"' in html and "单位资格审查" in html
    assert admin.get(f"{DESIGNER}/title_application/99").status_code == 404


def test_upload_page_validates_and_deploys(admin):
    bad = process(script="import os\nx = 1")
    status, html = _upload(admin, "validate", (bad, "sample.bpmn"))
    assert status == 200 and 'id="problems"' in html
    line = next(n for n, t in enumerate(bad.decode().splitlines(), 1) if 'id="compute"' in t)
    row = (
        f'<tr><td>sample.bpmn</td><td class="nowrap">{line}</td><td><code>compute</code></td>'
        '<td class="prewrap">脚本：含不允许的写法（不允许 import）'
    )
    assert row in html
    status, html = _upload(admin, "deploy", (bad, "sample.bpmn"))
    assert status == 422 and "未发布任何版本" in html

    status, html = _upload(admin, "validate", (process(), "sample.bpmn"))
    assert status == 200 and "校验通过" in html
    status, html = _upload(admin, "deploy", (process(), "sample.bpmn"))
    assert "已发布新版本" in html and "第 1 版" in html
    status, html = _upload(admin, "deploy", (process(), "sample.bpmn"))
    assert "内容未变化" in html and "第 1 版" in html

    status, html = _upload(admin, "validate", (b"x", "notes.txt"))
    assert status == 422 and "只接受" in field_error(html, "files")


def test_admin_navigation_has_ops_designer_and_calendar(admin):
    html = text(admin.get(OPS))
    for title, href in (("流程实例", OPS), ("流程定义", DESIGNER), ("节假日", "/admin/calendar")):
        assert f'<a href="{href}" ' in html and title in html


@pytest.mark.parametrize("username", ["platform_1", "yz_water_1", "nb_office_1"])
def test_non_admins_get_403_on_every_page(app, api, username):
    _upload(signed_in(app, "admin"), "deploy", (process(), "sample.bpmn"))
    unit = register_unit(api)
    inst = _start(api, {"unit_org_id": unit["unit_id"]})
    client = signed_in(app, username)
    gets = [OPS, f"{OPS}/{inst}", DESIGNER, f"{DESIGNER}/sample/1", f"{DESIGNER}/upload"]
    posts = [f"{OPS}/bulk", f"{DESIGNER}/upload", f"{OPS}/{inst}/timers/1/fire"]
    posts += [f"{OPS}/{inst}/{a}" for a in ("retry", "reset", "suspend", "resume", "terminate")]
    posts.append(f"{OPS}/{inst}/migrate")
    for url in gets:
        assert client.get(url).status_code == 403, url
    for url in posts:
        assert client.post(url, data={"reason": "x", "ids": [inst]}).status_code == 403, url
    assert api.get(f"/ops/instances/{inst}", "admin").json["status"] != "suspended"
    assert "流程实例" not in text(client.get("/tasks"))


def test_signed_out_visitors_are_sent_to_login(app):
    r = app.test_client().get(OPS)
    assert r.status_code == 302 and "/login" in r.location


def test_inline_svg_embeds_only_what_the_drawing_makes(app):
    from engine.diagram import render_svg
    from web.blueprints.pages_designer import inline_svg

    # The deploy validator rejects a bpmnElement that is not a QName and render_svg escapes
    # every attribute; the page still re-checks what it embeds (defence in depth).
    xml = _with_layout(process()).decode()
    xml = xml.replace('bpmnElement="compute"', 'bpmnElement="{id}"')
    good = inline_svg(render_svg(xml.replace("{id}", "compute")))
    assert 'data-id="compute"' in good and "<script" not in good
    evil = xml.replace("{id}", "x&quot; onmouseover=&quot;alert(1)")
    embedded = etree.fromstring(str(inline_svg(render_svg(evil))).encode())
    assert not [el for el in embedded.iter() if "onmouseover" in el.attrib]
    evil = xml.replace("{id}", "x&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;&lt;g a=&quot;")
    assert "<script" not in inline_svg(render_svg(evil))
    assert "没有图形布局" in inline_svg(render_svg(process().decode()))
