"""The OpenAPI document describes exactly the API routes the app serves."""

from __future__ import annotations

import re


def _routes(app) -> set[tuple[str, str]]:
    out = set()
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1"):
            continue
        path = re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", rule.rule.removeprefix("/api/v1"))
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            out.add((method.lower(), path))
    return out


def test_openapi_matches_routes(app, api):
    r = api.get("/openapi.json")
    assert r.status == 200 and r.json["openapi"].startswith("3.")
    documented = {(m, p) for p, ops in r.json["paths"].items() for m in ops}
    assert documented == _routes(app)


def test_health_reports_database(api):
    r = api.get("/health")
    assert r.status == 200 and r.json["ok"] is True and r.json["db"] == "ok"
    assert r.json["scheduler"] in ("running", "not running")
