"""The secret ballot (无记名投票): a vote is recorded apart from its voter, then tallied.

An expert's ``expert_vote`` task (a user task whose ``ballot`` property is true) never keeps
the vote in the workflow: the runtime hands the vote to ``record_vote`` and completes the task
with ``{"voted": true}`` only. ``ballot_seat`` knows who has voted, ``ballot_vote`` knows the
votes (random ids, no voter, no time). When the session's last seat votes, one counter update
says so (``votes_cast`` reaches ``votes_expected``; the row's write lock makes exactly one
transaction see it), and that transaction tallies every application of the session.
"""

from __future__ import annotations

import secrets
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Table, select, update
from sqlalchemy.orm import Session

from engine.errors import ConflictError, ForbiddenError
from engine.review_rules import ReviewRules
from storage import BallotSeat, BallotVote, ReviewSession, SessionApplication

VOTES = ("agree", "disagree", "abstain")
VOTE_NAMES = {"agree": "同意", "disagree": "不同意", "abstain": "弃权"}
# The workflow keeps only this of a cast ballot.
CAST = {"voted": True}


def record_vote(
    session: Session,
    task_data: Mapping[str, Any],
    application_id: int | None,
    user_id: int,
    submitted: Mapping[str, Any],
) -> int:
    """Record one expert's vote secretly; return the review session's id.

    The task's data names the review session (``review_session_id``); the seat must be the
    expert's and unused. The vote goes to ``ballot_vote`` without the voter.
    """
    review_session_id = task_data.get("review_session_id")
    if not isinstance(review_session_id, int) or application_id is None:
        raise ConflictError("该投票任务不属于任何评审会", code="no_ballot")
    seat = session.scalars(
        select(BallotSeat).where(
            BallotSeat.session_id == review_session_id,
            BallotSeat.application_id == application_id,
            BallotSeat.user_id == user_id,
        )
    ).first()
    if seat is None:
        raise ForbiddenError("您不是该申报的表决专家")
    if seat.voted:
        raise ConflictError("您已对该申报投票，不能重复投票", code="already_voted")
    vote = str(submitted.get("vote"))
    if vote not in VOTES:
        raise ConflictError("表决意见无效", code="bad_vote")
    seat.voted = True
    comment = submitted.get("comment")
    session.add(
        BallotVote(
            id=secrets.token_hex(16),
            session_id=review_session_id,
            application_id=application_id,
            vote=vote,
            comment=str(comment).strip() or None if comment else None,
        )
    )
    return review_session_id


def count_cast(session: Session, review_session_id: int) -> bool:
    """Count one cast vote on the session row; True for the transaction that cast the last."""
    table = cast(Table, ReviewSession.__table__)
    row = session.execute(
        update(table)
        .where(table.c.id == review_session_id)
        .values(votes_cast=table.c.votes_cast + 1)
        .returning(table.c.votes_cast, table.c.votes_expected)
    ).one()
    return bool(row.votes_cast == row.votes_expected)


@dataclass(frozen=True)
class Tally:
    """The counted votes on one application of a session (never who voted what)."""

    application_id: int
    agree: int
    disagree: int
    abstain: int
    present: int
    passed: bool

    def as_payload(self) -> dict[str, Any]:
        return {
            "agree": self.agree,
            "disagree": self.disagree,
            "abstain": self.abstain,
            "present": self.present,
            "passed": self.passed,
            "summary": self.summary(),
        }

    def summary(self) -> str:
        """The tally in the words of the minutes (Chinese)."""
        verdict = "通过" if self.passed else "未通过"
        return (
            f"评审会表决{verdict}：出席并参加表决专家 {self.present} 人，同意 {self.agree} 票，"
            f"不同意 {self.disagree} 票，弃权 {self.abstain} 票"
        )


def tally(session: Session, review_session_id: int, rules: ReviewRules) -> list[Tally]:
    """Count every application's votes, write the counts on the session's rows, return them."""
    rows = session.scalars(
        select(SessionApplication)
        .where(SessionApplication.session_id == review_session_id)
        .order_by(SessionApplication.application_id)
    ).all()
    votes = session.execute(
        select(BallotVote.application_id, BallotVote.vote).where(
            BallotVote.session_id == review_session_id
        )
    ).all()
    seats = Counter(
        session.scalars(
            select(BallotSeat.application_id).where(BallotSeat.session_id == review_session_id)
        ).all()
    )
    counts: dict[int, Counter[str]] = {}
    for app_id, vote in votes:
        counts.setdefault(app_id, Counter())[vote] += 1
    out = []
    for row in rows:
        if not seats[row.application_id]:
            continue  # nobody could vote on it (every present expert recused): not tallied
        got = counts.get(row.application_id, Counter())
        present = seats[row.application_id]
        result = Tally(
            row.application_id,
            got["agree"],
            got["disagree"],
            got["abstain"],
            present,
            rules.passed(got["agree"], present),
        )
        row.agree, row.disagree, row.abstain = result.agree, result.disagree, result.abstain
        row.present, row.passed = result.present, result.passed
        out.append(result)
    return out


def holds_seat(session: Session, application_id: int, user_id: int) -> bool:
    """Whether a review session seated this account to vote on this application."""
    found = session.scalar(
        select(BallotSeat.id)
        .where(BallotSeat.application_id == application_id, BallotSeat.user_id == user_id)
        .limit(1)
    )
    return found is not None
