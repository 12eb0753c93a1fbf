"""The suite's one app per worker (tests/conftest.py): what a test does to it is gone for the next.

A test may change settings, assign onto a service, deploy (the runtime caches parsed
versions), move the clock or write files; the reset before the next test gives that test
settings as made, services built anew by wire_services, its own clock and its own files dir.
"""

from __future__ import annotations

import io
from datetime import timedelta

import pytest

from engine import ManualClock
from engine.sandbox import SandboxLimits
from engine.versions import current_version_id
from storage import db
from tests.conftest import START
from tests.samples import process


def test_settings_services_clock_and_files_are_made_anew(app, api, shared_app, clock, tmp_path):
    assert app is shared_app.app
    old_services = dict(app.extensions)
    app.config["SESSION_IDLE_MINUTES"] = 1
    app.extensions["runtime"].sandbox_limits = SandboxLimits(seconds=0.1)
    clock.advance(days=400)
    files = {"files": [(io.BytesIO(process(script="x = 1")), "sample.bpmn")]}
    r = api.post("/specs/deploy", "admin", data=files, content_type="multipart/form-data")
    assert r.status == 201, r

    next_clock = ManualClock(START)
    shared_app.reset(next_clock, tmp_path / "next-files")

    assert app.config["SESSION_IDLE_MINUTES"] != 1
    assert app.extensions["runtime"].sandbox_limits == SandboxLimits()
    for name in ("runtime", "tasks", "accounts", "web_sessions", "documents", "exports"):
        assert app.extensions[name] is not old_services[name], name
    assert app.extensions["runtime"].clock is next_clock
    assert app.extensions["accounts"].clock() == START
    assert app.extensions["documents"].store.root == tmp_path / "next-files"


def test_a_service_made_outside_wire_services_is_named(app, shared_app, clock, tmp_path):
    app.extensions["kept_by_mistake"] = object()  # as if an init_app had built a service
    try:
        with pytest.raises(AssertionError, match=r"kept_by_mistake.*wire_services"):
            shared_app.reset(clock, tmp_path / "files")
    finally:
        del app.extensions["kept_by_mistake"]


@pytest.mark.app_config(SESSION_IDLE_MINUTES=5)
def test_a_test_with_settings_of_its_own_gets_an_app_of_its_own(app, shared_app):
    assert app is not shared_app.app
    assert app.config["SESSION_IDLE_MINUTES"] == 5
    assert shared_app.app.config["SESSION_IDLE_MINUTES"] != 5


def test_the_clock_a_test_moves_is_its_own(app, clock):
    clock.advance(days=1)
    assert app.extensions["timers"].clock() == START + timedelta(days=1)


def _deploy(app, script: str) -> int:
    """Deploy `sample` with this script; the id of its (current) version."""
    with app.app_context():
        app.extensions["deployments"].deploy({"sample.bpmn": process(script=script)}, actor="t")
    with app.extensions["unit_of_work"]() as work:
        return current_version_id(work.session, "sample")


def _script_of(app, version_id: int) -> str:
    runtime, uow = app.extensions["runtime"], app.extensions["unit_of_work"]
    with uow() as work:
        loaded = runtime.deployed_spec(work.session, version_id).loaded
    return loaded.spec.task_specs["compute"].script


def test_a_version_id_used_again_with_other_content_is_parsed_anew(
    app, shared_app, seed, clock, tmp_path
):
    first = _deploy(app, "x = 1")
    assert _script_of(app, first) == "x = 1"
    # What the next test sees: the database put back, the app reset; it deploys other content
    # under the same id and number, and its runtime must not run the one parsed before.
    with app.app_context(), db.engine.begin() as conn:
        seed.baseline.restore(conn, seed.written.tables)
    seed.written.tables.clear()
    shared_app.reset(clock, tmp_path / "files")
    again = _deploy(app, "x = 2")
    assert again == first
    assert _script_of(app, again) == "x = 2"
