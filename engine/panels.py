"""Forming a review panel: the expert pool, a random draw by specialty, and recusal (回避).

Pure rules over plain values, so they are tested without a database. An expert is excluded
from an application when the expert works in the applicant's unit (same unified social credit
code) or has declared a relation with the applicant (the applicant's ID number among the
expert's ``relations``). Each exclusion carries the reason the page and the audit show.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Expert:
    """An expert of a committee's pool."""

    user_id: int
    username: str
    name: str
    specialty: str | None = None
    unit_credit_code: str | None = None
    relations: frozenset[str] = field(default_factory=frozenset)


@dataclass(frozen=True)
class Applicant:
    """What recusal needs to know of an application."""

    application_id: int
    name: str
    id_number: str | None
    unit_name: str
    unit_credit_code: str | None


@dataclass(frozen=True)
class Exclusion:
    """An expert excluded from one application, with the reason in words."""

    expert: Expert
    application_id: int
    reason: str


def recusal_reason(expert: Expert, applicant: Applicant) -> str | None:
    """Why this expert must not judge this application, or None."""
    code = (applicant.unit_credit_code or "").upper()
    if code and (expert.unit_credit_code or "").upper() == code:
        return f"专家与申报人同属一个单位（{applicant.unit_name}），依规回避"
    if applicant.id_number and applicant.id_number.upper() in expert.relations:
        return f"专家已申报与申报人{applicant.name}存在利害关系，依规回避"
    return None


def exclusions(panel: Iterable[Expert], applicants: Iterable[Applicant]) -> list[Exclusion]:
    """Every (expert, application) pair of a panel that recusal excludes."""
    people = list(applicants)
    out = []
    for expert in panel:
        for applicant in people:
            reason = recusal_reason(expert, applicant)
            if reason:
                out.append(Exclusion(expert, applicant.application_id, reason))
    return out


def eligible(pool: Iterable[Expert], specialty: str | None) -> list[Expert]:
    """The pool's experts of this specialty (all of them when no specialty is asked)."""
    wanted = (specialty or "").strip()
    return [e for e in pool if not wanted or (e.specialty or "") == wanted]


def draw(candidates: Sequence[Expert], size: int, rng: random.Random | None = None) -> list[Expert]:
    """``size`` experts drawn at random without replacement (the system's entropy by default)."""
    chooser = rng or random.SystemRandom()
    return sorted(chooser.sample(list(candidates), size), key=lambda e: e.username)
