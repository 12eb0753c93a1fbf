"""Tables of the committee's review: experts, review sessions, recusals and the secret ballot.

The ballot is kept in two tables that share no column naming a voter: ``ballot_seat`` says who
may vote on which application and whether they have; ``ballot_vote`` holds the votes, keyed by
random ids, with no voter and no time. Nothing joins a vote back to an expert.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from storage.db import Base


class ExpertProfile(Base):
    """An expert of a committee's pool (评审专家库): the account's specialty and interests."""

    __tablename__ = "expert_profile"
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"), primary_key=True)
    office_org_id: Mapped[str] = mapped_column(ForeignKey("org.id"), index=True)
    specialty: Mapped[str | None] = mapped_column(String(100))
    # The unified social credit code of the expert's own employer (recusal: same unit).
    unit_credit_code: Mapped[str | None] = mapped_column(String(18))
    # ID numbers of applicants the expert declared a relation with (recusal).
    relations: Mapped[list[str]] = mapped_column(JSON, default=list)


class ReviewSession(Base):
    """A review session (评审会) of a cycle: its panel, attendance and ballot."""

    __tablename__ = "review_session"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("review_cycle.id"), index=True)
    committee_id: Mapped[str] = mapped_column(String(64))
    office_org_id: Mapped[str] = mapped_column(String(64), index=True)
    held_on: Mapped[date] = mapped_column(Date)
    # formed -> voting (attendance met the quorum) -> tallied (every present expert voted)
    status: Mapped[str] = mapped_column(String(16), default="formed")
    votes_expected: Mapped[int] = mapped_column(Integer, default=0)
    votes_cast: Mapped[int] = mapped_column(Integer, default=0)
    created_by: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    tallied_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class SessionExpert(Base):
    """An expert on a session's panel, drawn at random or picked; present once recorded."""

    __tablename__ = "session_expert"
    __table_args__ = (UniqueConstraint("session_id", "user_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    session_id: Mapped[int] = mapped_column(
        ForeignKey("review_session.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"), index=True)
    chosen_by: Mapped[str] = mapped_column(String(8))  # "draw" or "pick"
    present: Mapped[bool] = mapped_column(Boolean, default=False)


class SessionApplication(Base):
    """An application a session reviews (the cycle's applications waiting for a session)."""

    __tablename__ = "session_application"
    __table_args__ = (UniqueConstraint("session_id", "application_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    session_id: Mapped[int] = mapped_column(
        ForeignKey("review_session.id", ondelete="CASCADE"), index=True
    )
    application_id: Mapped[int] = mapped_column(ForeignKey("application.id"), index=True)
    # The tally, written once every present expert has voted; None before.
    agree: Mapped[int | None] = mapped_column(Integer)
    disagree: Mapped[int | None] = mapped_column(Integer)
    abstain: Mapped[int | None] = mapped_column(Integer)
    present: Mapped[int | None] = mapped_column(Integer)
    passed: Mapped[bool | None] = mapped_column(Boolean)


class Recusal(Base):
    """An expert excluded from one application of a session (回避), and why."""

    __tablename__ = "recusal"
    __table_args__ = (UniqueConstraint("session_id", "user_id", "application_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    session_id: Mapped[int] = mapped_column(
        ForeignKey("review_session.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"))
    application_id: Mapped[int] = mapped_column(ForeignKey("application.id"), index=True)
    reason: Mapped[str] = mapped_column(String(300))


class BallotSeat(Base):
    """One present, non-recused expert's right to vote on one application, and whether used."""

    __tablename__ = "ballot_seat"
    __table_args__ = (UniqueConstraint("session_id", "application_id", "user_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    session_id: Mapped[int] = mapped_column(
        ForeignKey("review_session.id", ondelete="CASCADE"), index=True
    )
    application_id: Mapped[int] = mapped_column(ForeignKey("application.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"), index=True)
    voted: Mapped[bool] = mapped_column(Boolean, default=False)


class BallotVote(Base):
    """A secret vote: which application and what, never who or when."""

    __tablename__ = "ballot_vote"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)  # random, not ordered
    session_id: Mapped[int] = mapped_column(
        ForeignKey("review_session.id", ondelete="CASCADE"), index=True
    )
    application_id: Mapped[int] = mapped_column(ForeignKey("application.id"))
    vote: Mapped[str] = mapped_column(String(8))  # agree / disagree / abstain
    comment: Mapped[str | None] = mapped_column(Text)
