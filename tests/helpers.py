"""Test helpers that act as API users would."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from flask import Flask

FIXTURES = Path(__file__).parent / "fixtures"
PASSWORDS = {
    u["username"]: u["password"] for u in json.loads((FIXTURES / "orgs.json").read_text())["users"]
}


class Response:
    def __init__(self, status: int, body: Any) -> None:
        self.status = status
        self.json = body

    def __repr__(self) -> str:
        return f"<{self.status} {self.json!r}>"


class Api:
    """A JSON API client that logs users in once and keeps their tokens."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.client = app.test_client()
        self.tokens: dict[str, str] = {}

    def login(self, username: str, password: str | None = None) -> str:
        if username not in self.tokens:
            r = self.client.post(
                "/api/v1/auth/token",
                json={"username": username, "password": password or PASSWORDS[username]},
            )
            assert r.status_code == 200, r.get_json()
            self.tokens[username] = r.get_json()["token"]
        return self.tokens[username]

    def call(self, method: str, path: str, as_user: str | None = None, **kwargs: Any) -> Response:
        headers = kwargs.pop("headers", {})
        if as_user:
            headers["Authorization"] = f"Bearer {self.login(as_user)}"
        r = self.client.open(f"/api/v1{path}", method=method, headers=headers, **kwargs)
        body = r.get_json(silent=True) if r.mimetype == "application/json" else r.data
        return Response(r.status_code, body)

    def get(self, path: str, as_user: str | None = None, **kw: Any) -> Response:
        return self.call("GET", path, as_user, **kw)

    def post(self, path: str, as_user: str | None = None, **kw: Any) -> Response:
        return self.call("POST", path, as_user, **kw)

    def put(self, path: str, as_user: str | None = None, **kw: Any) -> Response:
        return self.call("PUT", path, as_user, **kw)

    def tasks(self, as_user: str, **params: str) -> list[dict[str, Any]]:
        query = "&".join(f"{k}={v}" for k, v in params.items())
        r = self.get(f"/tasks?{query}", as_user)
        assert r.status == 200, r
        return r.json["items"]

    def only_task(self, as_user: str, **params: str) -> dict[str, Any]:
        items = self.tasks(as_user, **params)
        assert len(items) == 1, items
        return items[0]

    def complete(self, task_id: str, as_user: str, **data: Any) -> Response:
        return self.post(f"/tasks/{task_id}/complete", as_user, json={"data": data})


def start_process(app: Flask, process_id: str, data: dict[str, Any]) -> int:
    """Start an instance as the system, in a unit of work of its own (no app context)."""
    with app.extensions["unit_of_work"]() as uow:
        inst_id = app.extensions["runtime"].start(uow.session, process_id, actor=None, data=data)
        uow.commit()
    return inst_id
