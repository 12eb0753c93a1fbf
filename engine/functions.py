"""Functions BPMN scripts may call: the only door from a diagram to the domain.

Built fresh for each engine verb, bound to that verb's session, clock and instance, so
whatever they write lands in the same transaction as the instance state. They never flush:
writes reach the database only when the verb saves, so no database lock is held while a
script runs (on SQLite a held write lock would stop every other writer).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import roles
from engine.certificate_issue import issue_in
from engine.clock import CHINA_TZ, Clock
from engine.committees import Catalogue
from engine.ids import parse_id
from engine.notices import phone_of, queue_notice
from engine.payments import payment_terms
from engine.workdays import parse_date, window_closed_at
from storage import Dossier, Notification, Org, ProcessInstance, User

REGISTERED = (
    "review_chain_for",
    "office_of",
    "chain_charges",
    "payment_terms",
    "publicity_over",
    "publicity_release_at",
    "activate_unit",
    "reject_entrustment",
    "set_dossier_status",
    "current_dossier",
    "notify",
    "issue_certificate",
)


class ProcessFunctions:
    """The registered functions, bound to one unit of work."""

    def __init__(
        self,
        session: Session,
        clock: Clock,
        instance_id: int | None,
        committees: Catalogue | None = None,
        rules: Mapping[str, Any] | None = None,
    ) -> None:
        self.session = session
        self.committees = committees or Catalogue([])
        self.rules = rules or {}
        self.clock = clock
        self.instance_id = instance_id
        self._queued: list[Notification] = []

    def table(self) -> dict[str, Callable[..., Any]]:
        """Name -> callable, exactly the names in REGISTERED (none of them flushes)."""
        return {name: self._without_flush(getattr(self, name)) for name in REGISTERED}

    def _without_flush(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        def call(*args: Any, **kwargs: Any) -> Any:
            with self.session.no_autoflush:
                return fn(*args, **kwargs)

        return call

    def bind_instance(self, instance_id: int) -> None:
        """Give notices queued before the new instance had an id that id."""
        self.instance_id = instance_id
        for row in self._queued:
            row.instance_id = instance_id

    def _org(self, org_id: str) -> Org:
        org = self.session.get(Org, org_id)
        if org is None:
            raise ValueError(f"unknown organisation {org_id!r}")
        return org

    def review_chain_for(self, unit_org_id: str, committee_id: str | None = None) -> list[str]:
        """Org ids from the unit's competent department up the tree; with a committee, the
        chain ends at that committee's office and the office's HRSS (its parent)."""
        chain: list[str] = []
        org = self._org(unit_org_id)
        while org.parent_id is not None:
            org = self._org(org.parent_id)
            if org.id in chain:
                raise ValueError(f"the organisation tree has a cycle at {org.id!r}")
            chain.append(org.id)
        if not chain:
            raise ValueError(f"unit {unit_org_id!r} has no competent department")
        committee = self.committees.get(committee_id) if committee_id else None
        if committee_id and committee is None:
            raise ValueError(f"unknown committee {committee_id!r}")
        if committee is not None:
            office = committee.office_org_id
            if office not in chain:
                raise ValueError(f"committee office {office!r} is not above unit {unit_org_id!r}")
            chain = chain[: chain.index(office) + 1]
            parent = self._org(office).parent_id
            if parent is not None:
                chain.append(parent)
        return chain

    def office_of(self, review_chain: list[str]) -> str:
        """The committee office in the chain (the last level when there is none)."""
        for org_id in review_chain:
            if self._org(org_id).kind == roles.OFFICE:
                return org_id
        return review_chain[-1]

    def chain_charges(self, review_chain: list[str]) -> bool:
        """Whether any level of the chain has its fee switch on."""
        return any(self._org(org_id).charge for org_id in review_chain)

    def payment_terms(
        self, committee_id: str, level: str, application_id: int | str
    ) -> dict[str, Any]:
        """Amount, payee and how to pay, from the committee's fee schedule (now)."""
        committee = self.committees.get(committee_id)
        if committee is None:
            raise ValueError(f"unknown committee {committee_id!r}")
        return payment_terms(committee, str(level), application_id)

    def publicity_over(self, publicity_end: str) -> bool:
        """Whether the publicity window (both ends counted) ended before today."""
        today = self.clock().astimezone(CHINA_TZ).date()
        return parse_date(publicity_end) < today

    def publicity_release_at(self, publicity_end: str) -> str:
        """The instant the window has closed: midnight (China time) after its last day."""
        return window_closed_at(parse_date(publicity_end)).isoformat()

    def activate_unit(self, unit_org_id: str) -> None:
        """Make a unit and its accounts active after its entrustment was approved."""
        org = self._org(unit_org_id)
        org.status = "active"

    def reject_entrustment(self, unit_org_id: str) -> None:
        """Mark a unit's certificate as refused so it can upload a corrected one."""
        org = self._org(unit_org_id)
        if org.status != "active":
            org.status = "entrustment_rejected"

    def set_dossier_status(self, dossier_id: int, status: str) -> None:
        """Record the outcome of a dossier review."""
        if status not in ("approved", "returned"):
            raise ValueError(f"unknown dossier status {status!r}")
        key = parse_id(dossier_id)
        dossier = self.session.get(Dossier, key) if key is not None else None
        if dossier is None:
            raise ValueError(f"unknown dossier {dossier_id!r}")
        dossier.status = status
        dossier.updated_at = self.clock()

    def current_dossier(self, applicant_user_id: int, snapshot: Any = None) -> dict[str, Any]:
        """The applicant's dossier as it is now (a resubmission carries the corrected one);
        the given snapshot when the applicant has none."""
        key = parse_id(applicant_user_id)
        row = (
            self.session.scalars(select(Dossier).where(Dossier.user_id == key)).first()
            if key is not None
            else None
        )
        if row is not None and isinstance(row.data, dict) and row.data:
            return dict(row.data)
        return dict(snapshot) if isinstance(snapshot, dict) else {}

    def notify(self, to: int | str, kind: str, text: str) -> None:
        """Queue an in-app message and an SMS (12333 channel) for a user or an org."""
        if isinstance(to, str) and parse_id(to) is None:
            user_id, org_id = None, self._org(to).id
        else:
            key = parse_id(to)
            user = self.session.get(User, key) if key is not None else None
            if user is None:
                raise ValueError(f"unknown user {to!r}")
            user_id, org_id = user.id, None
        self._queued += queue_notice(
            self.session,
            now=self.clock(),
            user_id=user_id,
            org_id=org_id,
            phone=phone_of(self.session, user_id, org_id),
            kind=kind,
            text=str(text),
            instance_id=self.instance_id,
        )

    def issue_certificate(self) -> str:
        """Issue the 职称证书 of this instance's application (the same one when called again)
        and return its number. The only function that writes at once: the number must be
        known to the script, so the committee's counter is locked until the verb commits."""
        inst = self.session.get(ProcessInstance, self.instance_id) if self.instance_id else None
        if inst is None or inst.application_id is None:
            raise ValueError("issue_certificate() needs an instance of an application")
        cert = issue_in(
            self.session, inst.application_id, self.clock(), self.committees, self.rules
        )
        return cert.number
