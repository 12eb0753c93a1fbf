"""The unit's 公示版 from its pages, and download names a person recognises."""

from __future__ import annotations

import io
import warnings
from urllib.parse import quote

from pypdf import PdfReader

from tests import flows
from tests.page_helpers import only_task_id, signed_in, text


def disposition(name: str, fallback: str) -> str:
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"


def pdf_text(data: bytes) -> str:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return "".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages)


def test_unit_downloads_the_public_version_from_its_task_and_application_pages(app, api):
    unit, _person, app_id = flows.application_at_unit_review(api)
    client = signed_in(app, unit["username"])
    task_html = text(client.get(f"/tasks/{only_task_id(client, name='unit_review')}"))
    assert 'id="review-form-public"' in task_html
    html = text(client.get(f"/applications/{app_id}"))
    assert 'id="review-form-public"' in html and "下载公示版评审表" in html

    r = client.get(f"/applications/{app_id}/review-form-public.pdf")
    assert r.status_code == 200 and r.data.startswith(b"%PDF")
    assert r.headers["Content-Disposition"] == disposition(
        "李四-评审表（公示版）.pdf", f"review-form-public-{app_id}.pdf"
    )
    printed = "".join(pdf_text(r.data).split())
    assert "公示版" in printed and "李四" in printed and "13800138000" not in printed


def test_only_units_are_offered_the_public_version(app, api):
    _unit, person, app_id = flows.application_at_unit_review(api)
    html = text(signed_in(app, person["username"]).get(f"/applications/{app_id}"))
    assert 'id="review-form-public"' not in html
    other = flows.register_unit(api)
    r = signed_in(app, other["username"]).get(f"/applications/{app_id}/review-form-public.pdf")
    assert r.status_code == 403


def test_public_version_before_submission_is_refused_with_a_reason(app, api):
    unit = flows.register_unit(api)
    person = flows.register_applicant(api, unit)
    app_id = flows.file_application(api, person)
    client = signed_in(app, unit["username"])
    r = client.get(f"/applications/{app_id}/review-form-public.pdf")
    assert r.status_code == 409 and "单位审查前没有公示版" in text(r)


def test_api_downloads_carry_the_applicants_name(api):
    unit, _person, app_id = flows.application_at_unit_review(api)
    r = api.client.get(
        f"/api/v1/applications/{app_id}/review-form-public.pdf",
        headers={"Authorization": f"Bearer {api.login(unit['username'])}"},
    )
    assert r.status_code == 200
    assert r.headers["Content-Disposition"] == disposition(
        "李四-评审表（公示版）.pdf", f"review-form-public-{app_id}.pdf"
    )


def test_entrustment_template_is_named_after_the_unit(app, api):
    unit = flows.register_unit(api, activate=False)
    r = signed_in(app, unit["username"]).get("/unit/entrustment/template.pdf")
    assert r.status_code == 200
    header = r.headers["Content-Disposition"]
    assert header.startswith('attachment; filename="entrustment-9')  # the credit code
    assert quote("宁波测试水利设计院") in header and quote("-用人单位委托证明.pdf") in header
