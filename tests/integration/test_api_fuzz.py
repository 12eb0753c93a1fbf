"""Property-based fuzzing of every operation in /api/v1/openapi.json (schemathesis + Hypothesis).

For each operation, as an admin, an applicant and a unit, Hypothesis draws requests that fit
the document (positive) and requests that break it (negative: wrong types, missing fields,
odd strings, a broken token), and where the path's ids are known, fitting requests against a
real application, instance and task. The property: never a server error, and every JSON
answer is valid JSON (no NaN). Derandomized, so a run is reproducible; three examples per
operation and mode (every operation is still drawn in every mode) keep it to a few seconds per
role on SQLite (ZHIPING_FUZZ_EXAMPLES=30 digs deeper by hand).
"""

from __future__ import annotations

import json
import os
from typing import Any

import pytest
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


def check_response(case: Any, response: Any) -> bool:
    """No server error; a JSON answer parses as strict JSON. True when it was JSON."""
    where = f"{case.method} {case.formatted_path} -> {response.status_code}"
    assert response.status_code < 500, f"{where}: {response.text[:500]}"
    # schemathesis keeps header names lowercased, each with a list of values
    if "json" not in (response.headers.get("content-type") or [""])[0]:
        return False
    json.loads(response.text, parse_constant=_refuse_constant)  # no NaN, no Infinity
    return True


def fuzz_everything(app, token: str, known: dict[str, str]) -> int:
    """Fuzz each operation positively and negatively; again with real ids where known."""
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    headers = {"Authorization": f"Bearer {token}"}
    runs = 0
    json_answers = []
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
                json_answers.append(check_response(case, case.call(headers=headers)))

            try:
                run()
            except Unsatisfiable:
                # Nothing to break in an operation without parameters or body.
                assert mode is GenerationMode.NEGATIVE, operation.label
                continue
            runs += 1
    assert sum(json_answers) > len(json_answers) / 2, "most answers should be JSON"
    return runs


@pytest.mark.parametrize("role", ["admin", "applicant", "unit"])
def test_fuzzing_every_operation_gives_no_server_error(app, api, role):
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
    username = {"admin": "admin", "applicant": person["username"], "unit": unit["username"]}
    runs = fuzz_everything(app, api.login(username[role]), known)
    assert runs >= 40  # every documented operation, most in both modes
