"""Two people acting on one annual cycle at once: two office clerks forming sessions never
put an application before two sessions, and two applicants filing never take more places than
the quota has."""

from __future__ import annotations

import contextlib
import threading

from sqlalchemy import func, select

from engine import ConflictError
from engine.review_sessions import ReviewSessions
from storage import SessionApplication, db
from tests.committee_flows import load_experts, to_expert_review
from tests.flows import OFFICE, open_cycle_of
from tests.helpers import PASSWORDS


def test_two_sessions_formed_at_once_never_share_an_application(app, api, monkeypatch):
    experts = load_experts(app, 7)
    _unit, _person, app_id = to_expert_review(api)
    cycle_id = open_cycle_of(api)["cycle_id"]
    service = app.extensions["review_sessions"]
    clerk = app.extensions["accounts"].login(OFFICE, PASSWORDS[OFFICE])
    # Both clerks read the waiting applications before either writes, when nothing stops the
    # second one reading: each waits (at most a second) for the other after its read.
    both_read = threading.Barrier(2)
    real = ReviewSessions.waiting_applications

    def waiting(self, session, cycle):
        found = real(self, session, cycle)
        # A broken barrier: the other clerk is held before its read (the lock at work).
        with contextlib.suppress(threading.BrokenBarrierError):
            both_read.wait(timeout=1)
        return found

    monkeypatch.setattr(ReviewSessions, "waiting_applications", waiting)
    outcomes: list[object] = []

    def form() -> None:
        try:
            body = {"date": "2026-12-10", "experts": experts}
            outcomes.append(service.form_session(cycle_id, body, clerk))
        except ConflictError as exc:
            outcomes.append(exc.code)

    threads = [threading.Thread(target=form) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert len(outcomes) == 2 and outcomes.count("no_applications") == 1, outcomes
    with app.app_context():
        sessions_of_app = db.session.scalar(
            select(func.count()).where(SessionApplication.application_id == int(app_id))
        )
    assert sessions_of_app == 1


def test_two_filings_at_once_never_exceed_the_quota(app, api, monkeypatch):
    from engine import cycle_rules
    from tests.integration.test_cycles import FILING, SPRING, _applicant, _close_seed_cycle, _open

    _close_seed_cycle(api)
    r = _open(api, {**SPRING, "year": 2026, "opens_on": "2026-11-01", "quota": 1})
    assert r.status == 201, r
    people = [_applicant(api) for _ in range(2)]
    accounts, applications = app.extensions["accounts"], app.extensions["applications"]
    actors = [accounts.login(p["username"], PASSWORDS[p["username"]]) for p in people]
    # Both filings count the places before either writes, when nothing stops the second.
    both_counted = threading.Barrier(2)
    real = cycle_rules.filed_count

    def counted(session, cycle_id):
        found = real(session, cycle_id)
        with contextlib.suppress(threading.BrokenBarrierError):
            both_counted.wait(timeout=1)
        return found

    monkeypatch.setattr(cycle_rules, "filed_count", counted)
    outcomes: list[object] = []

    def file(actor) -> None:
        try:
            applications.create(dict(FILING), actor)
            outcomes.append("filed")
        except ConflictError as exc:
            outcomes.append(exc.code)

    threads = [threading.Thread(target=file, args=(a,)) for a in actors]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(outcomes) == ["cycle_full", "filed"], outcomes
