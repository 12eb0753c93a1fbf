"""Property-based fuzzing of every operation in /api/v1/openapi.json (schemathesis + Hypothesis).

For each operation Hypothesis draws requests that fit the document (positive) and requests
that break it (negative: wrong types, missing fields, odd strings, a broken token), and where
the path's ids are known, fitting requests against a real application, instance and task;
each request is sent as an applicant, a unit and an admin (in that order, the least allowed
first). The property: never a server error, and every JSON answer is valid JSON (no NaN).
Derandomized, so a run is reproducible; three examples per operation and mode (every operation
is still drawn in every mode, and every role gets every example) keep it to a few seconds on
SQLite (ZHIPING_FUZZ_EXAMPLES=30 digs deeper by hand). Drawing the examples costs more than
sending them, so each example is drawn once and sent for all three roles.
"""

from __future__ import annotations

import json
import os
from typing import Any

import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode

from tests.flows import application_at_unit_review

EXAMPLES = int(os.environ.get("ZHIPING_FUZZ_EXAMPLES", "3"))
FUZZ_SETTINGS = settings(
    max_examples=EXAMPLES,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def check_response(case: Any, response: Any, role: str) -> bool:
    """No server error; a JSON answer parses as strict JSON. True when it was JSON."""
    where = f"{case.method} {case.formatted_path} as {role} -> {response.status_code}"
    assert response.status_code < 500, f"{where}: {response.text[:500]}"
    # schemathesis keeps header names lowercased, each with a list of values
    if "json" not in (response.headers.get("content-type") or [""])[0]:
        return False
    json.loads(response.text, parse_constant=_refuse_constant)  # no NaN, no Infinity
    return True


def fuzz_everything(app, tokens: dict[str, str], known: dict[str, str]) -> int:
    """Fuzz each operation positively and negatively; again with real ids where known. Every
    example is sent once per role (``tokens``: role -> bearer token, in sending order)."""
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    headers = {role: {"Authorization": f"Bearer {token}"} for role, token in tokens.items()}
    runs = 0
    json_answers: dict[str, list[bool]] = {role: [] for role in tokens}
    for result in schema.get_all_operations():
        operation = result.ok()
        names = [p.name for p in operation.path_parameters]
        seeded = {n: known[n] for n in names} if names and set(names) <= set(known) else None
        variants = [(GenerationMode.POSITIVE, None), (GenerationMode.NEGATIVE, None)]
        variants += [(GenerationMode.POSITIVE, seeded)] if seeded else []
        for mode, ids in variants:
            strategy = operation.as_strategy(generation_mode=mode, path_parameters=ids)

            @FUZZ_SETTINGS
            @given(case=strategy)
            def run(case: Any) -> None:
                for role, role_headers in headers.items():
                    answer = case.call(headers=role_headers)
                    json_answers[role].append(check_response(case, answer, role))

            try:
                run()
            except Unsatisfiable:
                # Nothing to break in an operation without parameters or body.
                assert mode is GenerationMode.NEGATIVE, operation.label
                continue
            runs += 1
    for role, answers in json_answers.items():
        assert sum(answers) > len(answers) / 2, f"most answers to {role} should be JSON"
    return runs


def test_fuzzing_every_operation_gives_no_server_error(app, api):
    unit, person, app_id = application_at_unit_review(api)
    detail = api.get(f"/applications/{app_id}", person["username"]).json
    task = api.only_task(unit["username"], application=app_id, name="unit_review")
    known = {
        "application_id": app_id,
        "instance_id": detail["instance_id"],
        "task_id": task["id"],
        "unit_id": unit["unit_id"],
        "org_id": "yz-water",
        "process_id": "title_application",
        "version": "1",
    }
    usernames = {"applicant": person["username"], "unit": unit["username"], "admin": "admin"}
    tokens = {role: api.login(name) for role, name in usernames.items()}
    runs = fuzz_everything(app, tokens, known)
    assert runs >= 40  # every documented operation, most in both modes
