"""The electronic 职称证书 (PDF) of an application driven through the whole flow, and the pages:
the public lookup (QR target without the name), the application page's certificate and the
HRSS department's 撤销证书 form."""

from __future__ import annotations

import io
import re
import warnings

from pypdf import PdfReader

from tests.committee_flows import to_expert_review
from tests.flows import (
    application_at_unit_review,
    unit_approves,
)
from tests.integration.test_certificates import issue, make_applications
from tests.page_helpers import signed_in, text
from tests.unit.test_pdf_fonts import assert_all_fonts_embedded


def _pdf_text(pdf: bytes) -> str:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)


def _completed_application(api):
    """An application whose qualification review is over (paper received)."""
    return to_expert_review(api)


def test_certificate_pdf_of_a_completed_application(app, api):
    unit, person, app_id = _completed_application(api)
    path = f"/applications/{app_id}/certificate.pdf"
    before = api.get(path, person["username"])
    assert before.status == 409 and before.json["error"]["code"] == "not_certified"
    facts = issue(app, app_id)
    assert api.get(path).status == 401
    assert api.get(path, "bl_water_1").status == 403
    r = api.get(path, person["username"])
    assert r.status == 200 and r.json.startswith(b"%PDF")
    assert_all_fonts_embedded(r.json)
    words = "".join(_pdf_text(r.json).split())
    for expected in (
        "专业技术职务任职资格证书",
        "李四",
        "水利工程中级工程师",
        facts["number"],
        facts["verification_code"],
        "宁波市人力资源和社会保障局",  # the issuing HRSS
        "浙江省专业技术任职资格申报与评审管理平台",  # the watermark
        f"/certificates/{facts['number']}",  # the QR code's target, printed beside it
    ):
        assert expected in words, expected
    assert "李四" not in re.findall(r"/certificates/\S*", words)[0]
    assert api.get(path, unit["username"]).status == 200
    assert api.get(path, "nb_hrss_1").status == 200


def test_revoked_certificate_pdf_says_so(app, api):
    (app_id,) = make_applications(app, 1)
    number = issue(app, app_id)["number"]
    reason = "业绩证明系伪造"
    assert (
        api.post(f"/certificates/{number}/revoke", "admin", json={"reason": reason}).status == 200
    )
    r = api.get(f"/applications/{app_id}/certificate.pdf", "admin")
    words = "".join(_pdf_text(r.json).split())
    assert "本证书已撤销" in words and reason in words


def test_public_lookup_page_finds_a_certificate_by_number_and_name(app):
    (app_id,) = make_applications(app, 1)
    number = issue(app, app_id)["number"]
    client = app.test_client()
    assert client.get("/certificates").status_code == 200
    qr = client.get(f"/certificates/{number}")
    assert qr.status_code == 200 and f'value="{number}"' in text(qr)
    found = client.post("/certificates", data={"number": number, "name": "欧阳娜娜"})
    page = text(found)
    assert found.status_code == 200 and "有效" in page and "欧***" in page
    assert "欧阳娜娜" not in page and "水利工程 中级 工程师" in page
    wrong = client.post("/certificates", data={"number": number, "name": "欧阳"})
    assert wrong.status_code == 404 and "未找到该证书" in text(wrong)
    empty = client.post("/certificates", data={"number": number, "name": ""})
    assert empty.status_code == 422 and "必填" in text(empty)


def test_login_and_verify_pages_link_to_the_lookup(app):
    client = app.test_client()
    assert 'href="/certificates"' in text(client.get("/login"))
    assert 'href="/certificates"' in text(client.get("/verify/NOSUCHCODE00"))


def test_hrss_revokes_on_the_application_page_and_the_lookup_shows_it(app, api):
    unit, person, app_id = application_at_unit_review(api)
    assert unit_approves(api, unit, app_id).status == 200
    number = issue(app, app_id)["number"]
    applicant = signed_in(app, person["username"])
    own = text(applicant.get(f"/applications/{app_id}"))
    assert number in own and "下载电子职称证书" in own and 'id="revoke-certificate"' not in own
    assert "revoke-certificate" not in text(
        signed_in(app, "yz_hrss_1").get(f"/applications/{app_id}")
    )
    hrss = signed_in(app, "nb_hrss_1")
    page = text(hrss.get(f"/applications/{app_id}"))
    assert 'id="revoke-certificate"' in page
    forged = applicant.post(f"/applications/{app_id}/certificate/revoke", data={"reason": "自撤"})
    assert forged.status_code == 403
    blank = hrss.post(f"/applications/{app_id}/certificate/revoke", data={"reason": " "})
    assert "未能撤销" in text(hrss.get(blank.headers["Location"]))
    done = hrss.post(f"/applications/{app_id}/certificate/revoke", data={"reason": "材料造假"})
    assert done.status_code == 302
    after = text(hrss.get(f"/applications/{app_id}"))
    assert "已撤销" in after and "材料造假" in after and 'id="revoke-certificate"' not in after
    assert "撤销职称证书" in after  # the timeline's entry
    found = app.test_client().post("/certificates", data={"number": number, "name": "李四"})
    assert "已撤销" in text(found) and "材料造假" in text(found)


def test_certificate_migration_goes_down_and_up_again(tmp_path):
    from flask_migrate import downgrade, upgrade
    from sqlalchemy import inspect

    from storage import db
    from web import MIGRATIONS_DIR, create_app

    app = create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'certs.db'}", "TESTING": True})
    with app.app_context():
        upgrade(directory=str(MIGRATIONS_DIR))
        assert {"certificate", "certificate_counter"} <= set(inspect(db.engine).get_table_names())
        downgrade(directory=str(MIGRATIONS_DIR), revision="0009_cycles")
        assert "certificate" not in inspect(db.engine).get_table_names()
        upgrade(directory=str(MIGRATIONS_DIR))
        assert "certificate_counter" in inspect(db.engine).get_table_names()
        db.session.remove()
        db.engine.dispose()
