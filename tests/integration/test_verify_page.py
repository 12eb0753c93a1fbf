"""The public verify page the review form's QR code opens: a page for people, JSON for programs."""

from __future__ import annotations

import hashlib
import io
import re
import warnings

from pypdf import PdfReader

from tests.flows import application_past_every_level, pay

BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,*/*;q=0.8"


def exported(api) -> tuple[str, bytes]:
    """An application through every level and payment, its review form exported."""
    _unit, person, app_id = application_past_every_level(api)
    pay(api, person, app_id)
    r = api.get(f"/applications/{app_id}/review-form.pdf", person["username"])
    assert r.status == 200
    detail = api.get(f"/applications/{app_id}", person["username"]).json
    return detail["review_form"]["verification_code"], r.json


def page_text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_review_form_points_its_qr_code_at_the_verify_page(api):
    code, pdf = exported(api)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        footer = "".join(PdfReader(io.BytesIO(pdf)).pages[0].extract_text().split())
    assert f"http://127.0.0.1:5000/verify/{code}" in footer
    assert "/api/v1/verify" not in footer


def test_browser_sees_a_page_with_the_verdict_and_the_form_facts(app, api):
    code, pdf = exported(api)
    r = app.test_client().get(f"/verify/{code}", headers={"Accept": BROWSER})
    assert r.status_code == 200 and r.mimetype == "text/html"
    text = page_text(r.get_data(as_text=True))
    assert "真" in text and "无此记录" not in text
    assert "专业技术职务任职资格评审表" in text
    assert "李*" in text and "李四" not in text
    assert "宁波市水利工程技术人员中级专业技术职务任职资格评审委员会" in text
    assert hashlib.sha256(pdf).hexdigest() in text
    assert "2026-11-26 10:00（北京时间）" in text  # exported at 02:00 UTC
    assert "awaiting_paper" not in text and "\\u" not in text


def test_lower_case_code_from_a_hand_typed_url_is_found(app, api):
    code, _ = exported(api)
    r = app.test_client().get(f"/verify/{code.lower()}", headers={"Accept": BROWSER})
    assert r.status_code == 200 and "李*" in r.get_data(as_text=True)


def test_unknown_code_says_no_such_record(app, api):
    exported(api)
    r = app.test_client().get("/verify/NOSUCHCODE00", headers={"Accept": BROWSER})
    assert r.status_code == 404 and r.mimetype == "text/html"
    text = page_text(r.get_data(as_text=True))
    assert "无此记录" in text and "NOSUCHCODE00" in text
    assert "李*" not in text


def test_json_clients_get_the_api_answer(app, api):
    code, _ = exported(api)
    client = app.test_client()
    r = client.get(f"/verify/{code}", headers={"Accept": "application/json"})
    assert r.status_code == 200 and r.mimetype == "application/json"
    assert r.get_json() == api.get(f"/verify/{code}").json
    missing = client.get("/verify/NOSUCHCODE00", headers={"Accept": "application/json"})
    assert missing.status_code == 404
    assert missing.get_json()["error"]["code"] == "not_found"


def test_verify_page_needs_no_sign_in_and_shows_no_menu(app, api):
    code, _ = exported(api)
    html = app.test_client().get(f"/verify/{code}").get_data(as_text=True)  # Accept: */*
    assert 'id="verdict"' in html and 'id="nav"' not in html
