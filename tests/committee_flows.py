"""Helpers for the committee's review: experts loaded with `orgs load`, applications brought to
the session, a session formed, attendance recorded, ballots cast."""

from __future__ import annotations

from typing import Any

from flask import Flask

from tests import checkpoints
from tests.flows import (
    OFFICE,
    application_past_every_level,
    open_cycle_of,
    pay,
    receive_paper,
)
from tests.helpers import PASSWORDS, Api

EXPERT_PASSWORD = "exp-Pass-{n}"


def load_experts(
    app: Flask, count: int, *, conflicts: dict[int, dict[str, Any]] | None = None
) -> list[str]:
    """``count`` experts of the 水利 committee's pool (nb-office), exp_1..exp_N; ``conflicts``
    gives some of them a unit credit code or relations (by number)."""
    users = []
    for n in range(1, count + 1):
        username = f"exp_{n}"
        PASSWORDS[username] = EXPERT_PASSWORD.format(n=n)
        users.append(
            {
                "username": username,
                "password": PASSWORDS[username],
                "role": "expert",
                "org": "nb-office",
                "name": f"专家{n}",
                "specialty": "水利工程",
                **(conflicts or {}).get(n, {}),
            }
        )
    app.extensions["accounts"].load_orgs({"orgs": [], "users": users})
    return [u["username"] for u in users]


def to_expert_review(api: Api) -> tuple[dict[str, Any], dict[str, Any], str]:
    """(unit, applicant, application id) with the paper received: waiting for a session; walked
    once per worker from the seed, then put back (tests/checkpoints.py)."""
    return checkpoints.reach("expert_review", api, _walk_to_expert_review)


def _walk_to_expert_review(api: Api) -> tuple[dict[str, Any], dict[str, Any], str]:
    unit, person, app_id = application_past_every_level(api)
    pay(api, person, app_id)
    receive_paper(api, app_id)
    return unit, person, app_id


def form_session(api: Api, experts: list[str], **body: Any) -> Any:
    cycle = open_cycle_of(api)
    return api.post(
        f"/cycles/{cycle['cycle_id']}/sessions",
        OFFICE,
        json={"date": "2026-12-10", "experts": experts, **body},
    )


def attend(api: Api, session_id: str, present: list[str]) -> Any:
    return api.post(f"/sessions/{session_id}/attendance", OFFICE, json={"present": present})


def vote(api: Api, expert: str, app_id: str, choice: str, **extra: Any) -> Any:
    task = api.only_task(expert, application=app_id, name="expert_vote")
    return api.complete(task["id"], expert, vote=choice, **extra)
