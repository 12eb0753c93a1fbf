"""Read helpers of the committee's review sessions: the expert pool, a session's applications
as recusal sees them, and the session's public view (never an individual vote)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import panels
from storage import (
    Application,
    BallotVote,
    ExpertProfile,
    Org,
    Recusal,
    ReviewSession,
    SessionApplication,
    SessionExpert,
    User,
)

# Sessions whose applications are taken (a session not yet tallied holds its applications).
OPEN_SESSION_STATUSES = ("formed", "voting")
STATUS_NAMES = {"formed": "已组建", "voting": "投票中", "tallied": "已计票"}


def expert_of(user: User, profile: ExpertProfile) -> panels.Expert:
    return panels.Expert(
        user_id=user.id,
        username=user.username,
        name=user.name,
        specialty=profile.specialty,
        unit_credit_code=profile.unit_credit_code,
        relations=frozenset(str(r).upper() for r in profile.relations or []),
    )


def pool(session: Session, office_org_id: str) -> list[panels.Expert]:
    """The active experts of a committee office's pool (评审专家库)."""
    rows = session.execute(
        select(User, ExpertProfile)
        .join(ExpertProfile, ExpertProfile.user_id == User.id)
        .where(ExpertProfile.office_org_id == office_org_id, User.active.is_(True))
        .order_by(User.username)
    ).all()
    return [expert_of(user, profile) for user, profile in rows]


def applicants(session: Session, application_ids: list[int]) -> list[panels.Applicant]:
    """The applications' applicants and units, as recusal compares them."""
    rows = session.execute(
        select(Application.id, User.name, User.id_number, Org.name, Org.credit_code)
        .join(User, User.id == Application.applicant_id)
        .join(Org, Org.id == Application.unit_org_id)
        .where(Application.id.in_(application_ids))
        .order_by(Application.id)
    ).all()
    return [panels.Applicant(*row) for row in rows]


@dataclass
class SessionView:
    """A review session as its office sees it: panel, attendance, recusals, tallies."""

    id: int
    cycle_id: int
    committee_id: str
    date: str
    status: str
    experts: list[dict[str, Any]]
    present: list[str]
    applications: list[dict[str, Any]]
    recusals: list[dict[str, Any]]
    progress: dict[str, int]
    tallies: list[dict[str, Any]] | None
    skipped: list[str] = field(default_factory=list)

    @property
    def status_name(self) -> str:
        """The session's state in words (已组建, 投票中, 已计票)."""
        return STATUS_NAMES.get(self.status, self.status)

    def as_dict(self) -> dict[str, Any]:
        return {
            "session_id": str(self.id),
            "id": str(self.id),
            "cycle_id": str(self.cycle_id),
            "committee_id": self.committee_id,
            "date": self.date,
            "status": self.status,
            "status_name": self.status_name,
            "experts": [e["username"] for e in self.experts],
            "panel": self.experts,
            "present": self.present,
            "applications": self.applications,
            "recusals": self.recusals,
            "progress": self.progress,
            "tallies": self.tallies,
            "skipped": self.skipped,
        }


def session_view(session: Session, row: ReviewSession) -> SessionView:
    """The view of one session; tallies only once every present expert has voted."""
    members = session.execute(
        select(SessionExpert, User)
        .join(User, User.id == SessionExpert.user_id)
        .where(SessionExpert.session_id == row.id)
        .order_by(User.username)
    ).all()
    names = {user.id: user.username for _, user in members}
    profiles = {
        p.user_id: p
        for p in session.scalars(
            select(ExpertProfile).where(ExpertProfile.user_id.in_(list(names)))
        )
    }
    experts = [
        {
            "username": user.username,
            "name": user.name,
            "specialty": profiles[user.id].specialty if user.id in profiles else None,
            "chosen_by": member.chosen_by,
            "present": member.present,
        }
        for member, user in members
    ]
    apps = session.execute(
        select(SessionApplication, User.name)
        .join(Application, Application.id == SessionApplication.application_id)
        .join(User, User.id == Application.applicant_id)
        .where(SessionApplication.session_id == row.id)
        .order_by(SessionApplication.application_id)
    ).all()
    recusals = [
        {
            "expert": names.get(r.user_id, ""),
            "application_id": str(r.application_id),
            "reason": r.reason,
        }
        for r in session.scalars(
            select(Recusal).where(Recusal.session_id == row.id).order_by(Recusal.id)
        )
    ]
    tallies = None
    if row.status == "tallied":
        comments: dict[int, list[str]] = {}
        for app_id, comment in session.execute(
            select(BallotVote.application_id, BallotVote.comment).where(
                BallotVote.session_id == row.id, BallotVote.comment.is_not(None)
            )
        ):
            comments.setdefault(app_id, []).append(str(comment))
        tallies = [
            {
                "application_id": str(a.application_id),
                "applicant_name": name,
                "agree": a.agree,
                "disagree": a.disagree,
                "abstain": a.abstain,
                "present": a.present,
                "passed": a.passed,
                # anonymous, and sorted so that no order hints at who wrote what
                "comments": sorted(comments.get(a.application_id, [])),
            }
            for a, name in apps
            if a.present is not None
        ]
    return SessionView(
        id=row.id,
        cycle_id=row.cycle_id,
        committee_id=row.committee_id,
        date=row.held_on.isoformat(),
        status=row.status,
        experts=experts,
        present=[str(e["username"]) for e in experts if e["present"]],
        applications=[
            {"application_id": str(a.application_id), "applicant_name": name} for a, name in apps
        ],
        recusals=recusals,
        progress={"cast": row.votes_cast, "expected": row.votes_expected},
        tallies=tallies,
    )
