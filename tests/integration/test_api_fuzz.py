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

Signing out (DELETE /auth/token) revokes the token it is sent with, so it is fuzzed last: every
other operation gets the roles' live tokens (most answers to each role must not be 401).
The operations are dealt round-robin, in that order, into GROUPS test items, each on
an application of its own: xdist then spreads the fuzzing over its workers instead of leaving
one item of 15-20 s to one of them at the end of the run.
"""

from __future__ import annotations

import json
import os
from functools import cache
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode

from tests.flows import application_at_unit_review

EXAMPLES = int(os.environ.get("ZHIPING_FUZZ_EXAMPLES", "3"))
GROUPS = 6
SIGN_OUT = "DELETE /auth/token"
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


@cache
def operations(app) -> list[Any]:
    """Every operation of the app's OpenAPI document, in the document's order, signing out last
    (it revokes the token each role sends). Read once per app (a worker's tests share one)."""
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    ops = [result.ok() for result in schema.get_all_operations()]
    return sorted(ops, key=lambda op: op.label == SIGN_OUT)


def group_of(ops: list[Any], group: int) -> list[Any]:
    """The operations of one of the GROUPS items: every GROUPS-th, from the group's index."""
    return ops[group::GROUPS]


def fuzz_everything(ops: list[Any], tokens: dict[str, str], known: dict[str, str]) -> int:
    """Fuzz each operation positively and negatively; again with real ids where known. Every
    example is sent once per role (``tokens``: role -> bearer token, in sending order)."""
    headers = {role: {"Authorization": f"Bearer {token}"} for role, token in tokens.items()}
    runs = 0
    json_answers: dict[str, list[bool]] = {role: [] for role in tokens}
    signed_in: dict[str, list[bool]] = {role: [] for role in tokens}
    for operation in ops:
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
                    signed_in[role].append(answer.status_code != 401)

            try:
                run()
            except Unsatisfiable:
                # Nothing to break in an operation without parameters or body.
                assert mode is GenerationMode.NEGATIVE, operation.label
                continue
            runs += 1
    for role, answers in json_answers.items():
        assert sum(answers) > len(answers) / 2, f"most answers to {role} should be JSON"
        live = signed_in[role]
        assert sum(live) > len(live) / 2, f"most answers to {role} should not be 401"
    return runs


def test_the_groups_deal_out_every_operation_once(app):
    ops = operations(app)
    dealt = [op.label for group in range(GROUPS) for op in group_of(ops, group)]
    assert sorted(dealt) == sorted(op.label for op in ops)
    assert len(dealt) == len(set(dealt)) >= 40  # every documented operation
    assert all(group_of(ops, group) for group in range(GROUPS))
    assert ops[-1].label == SIGN_OUT  # last of its group: the others keep live tokens


@pytest.mark.parametrize("group", range(GROUPS))
def test_fuzzing_every_operation_gives_no_server_error(app, api, group):
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
    ops = group_of(operations(app), group)
    runs = fuzz_everything(ops, tokens, known)
    assert runs >= len(ops)  # every operation of the group, most in both modes
