"""Two people acting on one annual cycle at once: two office clerks forming sessions never
put an application before two sessions, two applicants filing never take more places than
the quota has, and one applicant filing twice at once gets one application (or submitting
the dossier twice, one review)."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import func, select

from engine import ConflictError, cycle_rules
from engine import applications as applications_module
from engine.review_sessions import ReviewSessions
from storage import SessionApplication, db
from tests.committee_flows import load_experts, to_expert_review
from tests.flows import OFFICE, open_cycle_of
from tests.helpers import PASSWORDS
from tests.integration.test_cycles import FILING, SPRING, _applicant, _close_seed_cycle, _open


def _meet_after(monkeypatch: pytest.MonkeyPatch, owner: Any, name: str) -> None:
    """Make ``owner.name`` wait (at most a second) for the other thread once it has run: both
    threads then act on what they read before either wrote, unless a lock keeps the second
    from reading until the first has committed (the barrier then breaks: the lock at work)."""
    both = threading.Barrier(2)
    real = getattr(owner, name)

    def after_both(*args: Any) -> Any:
        found = real(*args)
        with contextlib.suppress(threading.BrokenBarrierError):
            both.wait(timeout=1)
        return found

    monkeypatch.setattr(owner, name, after_both)


def _twice_at_once(act: Callable[[int], object]) -> list[object]:
    """Run ``act(0)`` and ``act(1)`` in two threads at once: what each gave, or its 409 code."""
    outcomes: list[object] = []

    def run(n: int) -> None:
        try:
            outcomes.append(act(n))
        except ConflictError as exc:
            outcomes.append(exc.code)

    threads = [threading.Thread(target=run, args=(n,)) for n in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    return outcomes


def _actor(app: Any, username: str) -> Any:
    return app.extensions["accounts"].login(username, PASSWORDS[username])


def test_two_sessions_formed_at_once_never_share_an_application(app, api, monkeypatch):
    _unit, _person, app_id = to_expert_review(api)  # its kept starting point, then experts
    experts = load_experts(app, 7)
    cycle_id = open_cycle_of(api)["cycle_id"]
    service, clerk = app.extensions["review_sessions"], _actor(app, OFFICE)
    _meet_after(monkeypatch, ReviewSessions, "waiting_applications")
    body = {"date": "2026-12-10", "experts": experts}
    outcomes = _twice_at_once(lambda _n: service.form_session(cycle_id, body, clerk))
    assert len(outcomes) == 2 and outcomes.count("no_applications") == 1, outcomes
    with app.app_context():
        sessions_of_app = db.session.scalar(
            select(func.count()).where(SessionApplication.application_id == int(app_id))
        )
    assert sessions_of_app == 1


def test_two_filings_at_once_never_exceed_the_quota(app, api, monkeypatch):
    _close_seed_cycle(api)
    r = _open(api, {**SPRING, "year": 2026, "opens_on": "2026-11-01", "quota": 1})
    assert r.status == 201, r
    actors = [_actor(app, _applicant(api)["username"]) for _ in range(2)]
    service = app.extensions["applications"]
    _meet_after(monkeypatch, cycle_rules, "filed_count")
    outcomes = _twice_at_once(lambda n: service.create(dict(FILING), actors[n]) and "filed")
    assert sorted(outcomes) == ["cycle_full", "filed"], outcomes


def test_one_applicant_filing_twice_at_once_gets_one_application(app, api, monkeypatch):
    person = _applicant(api)
    actor, service = _actor(app, person["username"]), app.extensions["applications"]
    _meet_after(monkeypatch, applications_module, "_ancestors")  # read after the check
    outcomes = _twice_at_once(lambda _n: service.create(dict(FILING), actor) and "filed")
    assert sorted(outcomes) == ["application_open", "filed"], outcomes
    assert len(api.get("/applications", person["username"]).json["items"]) == 1


def test_a_dossier_submitted_twice_at_once_goes_to_one_review(app, api, monkeypatch):
    from engine.dossiers import Dossiers
    from tests.flows import DOSSIER, register_applicant, register_unit

    unit = register_unit(api)
    person = register_applicant(api, unit, approve_dossier=False)
    assert api.put("/me/dossier", person["username"], json=DOSSIER).status == 200
    actor, service = _actor(app, person["username"]), app.extensions["dossiers"]
    _meet_after(monkeypatch, Dossiers, "_dossier")
    outcomes = _twice_at_once(lambda _n: service.submit_dossier(actor)["status"])
    assert sorted(outcomes) == ["dossier_under_review", "submitted"], outcomes
    assert len(api.tasks(unit["username"], name="review_dossier")) == 1
