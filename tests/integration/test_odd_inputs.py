"""The odd inputs that once gave 500: each is refused with a 4xx and a JSON error, nothing stored."""

from __future__ import annotations

import pytest

from tests.flows import (
    PAST_WINDOW,
    application_at_unit_review,
    register_applicant,
    register_unit,
)

# Non-ASCII digits pass str.isdigit(); the rest are beyond 2^31, 2^63 and 2^64 or not digits.
ODD_IDS = [
    "²",
    "%D9%A3",  # Arabic-Indic three: int() reads it as 3
    "1%C2%B2",
    "2147483648",
    "9223372036854775808",
    "99999999999999999999",
    "0",
    "-1",
    "+1",
    "%201",
    "1e3",
    "%00",
]
ID_PATHS = [
    ("GET", "/applications/{}"),
    ("GET", "/applications/{}/diagram.svg"),
    ("GET", "/applications/{}/review-form.pdf"),
    ("POST", "/applications/{}/urge"),
    ("GET", "/ops/instances/{}"),
    ("POST", "/ops/instances/{}/suspend"),
    ("GET", "/ops/instances/{}/diagram.svg"),
    ("POST", "/ops/timers/{}/fire"),
    ("POST", "/me/messages/{}/read"),
    ("GET", "/specs/dossier_review/{}/diagram.svg"),
]


def assert_json_error(r, *statuses: int) -> None:
    assert r.status in statuses, r
    assert isinstance(r.json, dict) and r.json["error"]["code"], r
    assert any("\u4e00" <= ch <= "\u9fff" for ch in r.json["error"]["message"]), r


@pytest.mark.parametrize("odd", ODD_IDS)
def test_odd_id_in_a_path_is_404(api, odd):
    expected = 400 if odd == "%00" else 404  # the input guard refuses NUL anywhere
    for method, path in ID_PATHS:
        r = api.call(method, path.format(odd), "admin", json={"reason": "检查"})
        assert_json_error(r, expected)


@pytest.mark.parametrize(
    "query",
    [
        "limit=0",
        "limit=501",
        "limit=%C2%B2",
        "limit=%D9%A3",
        "limit=%205",
        "offset=-1",
        "offset=1e3",
        "offset=2147483648",
        "offset=99999999999999999999",
    ],
)
def test_limit_and_offset_out_of_range_are_400(api, query):
    for path in ("/tasks", "/applications", "/ops/instances", "/ops/instances", "/ops/timers"):
        assert_json_error(api.get(f"{path}?{query}", "admin"), 400)
    assert_json_error(api.get(f"/ops/instances?stuck=true&{query}", "admin"), 400)


ODD_BODIES = {
    "nul": '{"summary": "申报\\u0000说明"}',
    "nul-in-key": '{"sum\\u0000mary": "x"}',
    "lone-surrogate": '{"summary": "\\ud800"}',
    "lone-surrogate-in-key": '{"\\udfff": "x"}',
    "nan": '{"summary": NaN}',
    "infinity": '{"summary": Infinity}',
    "minus-infinity": '{"summary": -Infinity}',
    "overflowing-float": '{"summary": 1e999}',
    "integer-beyond-2^53": '{"summary": 18446744073709551616}',
    "deep-100000": '{"summary": ' + "[" * 100_000 + "]" * 100_000 + "}",
    "deep-33": '{"summary": ' + "[" * 32 + "]" * 32 + "}",
    "not-utf8": b'{"summary": "\xff\xfe"}',
}


@pytest.mark.parametrize("body", ODD_BODIES.values(), ids=list(ODD_BODIES))
def test_odd_json_body_is_400_and_nothing_is_stored(api, body):
    unit = register_unit(api)
    person = register_applicant(api, unit, approve_dossier=False)
    before = api.get("/me/dossier", person["username"]).json["data"]
    for method, path in (("PUT", "/me/dossier"), ("POST", "/applications")):
        r = api.call(method, path, person["username"], data=body, content_type="application/json")
        assert_json_error(r, 400)
    r = api.post("/auth/token", data=body, content_type="application/json")
    assert_json_error(r, 400)
    after = api.get("/me/dossier", person["username"])
    assert after.status == 200 and after.json["data"] == before


def test_odd_values_in_query_strings_and_forms_are_400(app, api):
    for path in ("/applications?status=%00", "/tasks?name=a%00b", "/ops/instances?process=%00"):
        assert_json_error(api.get(path, "admin"), 400)
    unit = register_unit(api)
    r = api.post(
        "/files",
        unit["username"],
        data={"note": "a\x00b"},
        content_type="multipart/form-data",
    )
    assert_json_error(r, 400)
    page = app.test_client().post("/login", data={"username": "admin\x00", "password": "x"})
    assert page.status_code == 400


@pytest.mark.parametrize("odd_date", ["2026-W49-1", "20261201", "2026-12-1", "2026-11-16T00:00"])
def test_week_and_compact_dates_are_422_before_the_publicity_check(api, odd_date):
    unit, _, app_id = application_at_unit_review(api)
    task = api.only_task(unit["username"], application=app_id, name="unit_review")
    r = api.complete(
        task["id"],
        unit["username"],
        decision="approve",
        opinion="同意",
        **{**PAST_WINDOW, "publicity_start": odd_date},
    )
    assert_json_error(r, 422)
    assert "publicity_start" in r.json["error"]["fields"]
    assert (
        api.only_task(unit["username"], application=app_id, name="unit_review")["id"] == task["id"]
    )


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/ops/instances?status=bogus", "status"),
        ("/ops/instances?stuck=maybe", "stuck"),
        ("/applications?status=bogus", "status"),
        ("/ops/timers?status=bogus", "status"),
        ("/tasks?application=abc", "application"),
        ("/tasks?application=%C2%B2", "application"),
    ],
)
def test_unknown_filter_values_are_422(api, path, field):
    r = api.get(path, "admin")
    assert_json_error(r, 422)
    assert field in r.json["error"]["fields"]


def test_known_filter_values_still_filter(api):
    for path in (
        "/ops/instances?status=running&stuck=false",
        "/ops/instances?stuck=true",
        "/applications?status=in_review",
        "/tasks?application=1",
    ):
        r = api.get(path, "admin")
        assert r.status == 200 and isinstance(r.json["items"], list), r


def test_odd_offsets_and_years_on_pages_are_not_server_errors(app):
    client = app.test_client()
    client.post("/login", data={"username": "admin", "password": "Adm-Pass-1"})
    assert client.get("/admin/instances?offset=%C2%B2").status_code == 400
    assert client.get("/admin/instances/%C2%B2").status_code == 404
    assert client.get("/admin/calendar?year=%C2%B2").status_code == 200
    assert client.get("/admin/calendar?year=99999").status_code == 200


@pytest.mark.parametrize(
    ("version", "status"), [(2**40, 422), (2**31, 422), (0, 422), (2**70, 400)]
)
def test_version_numbers_beyond_range_are_refused(api, version, status):
    _, person, app_id = application_at_unit_review(api)
    instance = api.get(f"/applications/{app_id}", person["username"]).json["instance_id"]
    r = api.post(
        f"/ops/instances/{instance}/migrate", "admin", json={"version": version, "reason": "x"}
    )
    assert_json_error(r, status)
    r = api.post("/specs/title_application/instances", "admin", json={"version": version})
    assert_json_error(r, 404 if status == 422 else status)


def test_over_long_texts_are_422_not_a_database_error(app, api):
    """PostgreSQL refuses a VARCHAR overflow that SQLite stores silently."""
    unit = register_unit(api)
    person = register_applicant(api, unit)
    r = api.post(
        "/applications",
        person["username"],
        json={"series": "工程" * 40, "level": "中级", "specialty": "水利工程"},
    )
    assert_json_error(r, 422)
    assert "series" in r.json["error"]["fields"]
    client = app.test_client()
    client.post("/login", data={"username": "admin", "password": "Adm-Pass-1"})
    page = client.post(
        "/admin/calendar/days", data={"day": "2026-12-01", "kind": "holiday", "note": "注" * 201}
    )
    assert page.status_code < 500
    with app.app_context():
        assert app.extensions["calendar"].calendar_year(2026).overrides == []
