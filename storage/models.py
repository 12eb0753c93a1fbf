"""Tables. Columns derived from workflow state are written by the engine in the same commit."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy import false as sa_false
from sqlalchemy.orm import Mapped, mapped_column

from storage.db import Base


class Org(Base):
    """A node of the review tree (platform, hrss, office, dept) or a self-registered unit."""

    __tablename__ = "org"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16))
    parent_id: Mapped[str | None] = mapped_column(String(64), ForeignKey("org.id"), index=True)
    status: Mapped[str] = mapped_column(String(32), default="active")
    charge: Mapped[bool] = mapped_column(Boolean, default=True)
    credit_code: Mapped[str | None] = mapped_column(String(18), unique=True)
    contact: Mapped[str | None] = mapped_column(String(100))
    phone: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class User(Base):
    __tablename__ = "app_user"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16))
    org_id: Mapped[str | None] = mapped_column(String(64), ForeignKey("org.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    phone: Mapped[str | None] = mapped_column(String(32))
    id_number: Mapped[str | None] = mapped_column(String(18), unique=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # Consecutive wrong passwords since the last success or lock; shared by every worker.
    failed_logins: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    locked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class ApiToken(Base):
    __tablename__ = "api_token"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class WebSession(Base):
    """A browser session kept on the server; the cookie carries only the random id.

    ``id`` is the sha256 of that 256-bit id, so a database read does not yield usable cookies.
    ``user_id`` is None before sign-in (the session then only holds the CSRF token).
    """

    __tablename__ = "web_session"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"), index=True)
    data: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Why it ended: logout, rotated, idle, expired, password_changed.
    end_reason: Mapped[str | None] = mapped_column(String(16))


class ProcessVersion(Base):
    """One deployed version of one process: its BPMN and forms, stored once."""

    __tablename__ = "process_version"
    __table_args__ = (
        UniqueConstraint("process_id", "number"),
        UniqueConstraint("process_id", "sha256", name="uq_process_version_sha"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    process_id: Mapped[str] = mapped_column(String(64), index=True)
    number: Mapped[int] = mapped_column(Integer)  # 1, 2, 3... per process
    sha256: Mapped[str] = mapped_column(String(64))
    bpmn_xml: Mapped[str] = mapped_column(Text)
    files: Mapped[dict[str, Any]] = mapped_column(JSON)
    deployed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    deployed_by: Mapped[str | None] = mapped_column(String(64))


class ProcessInstance(Base):
    __tablename__ = "process_instance"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    process_version_id: Mapped[int] = mapped_column(ForeignKey("process_version.id"), index=True)
    process_id: Mapped[str] = mapped_column(String(64), index=True)
    status: Mapped[str] = mapped_column(String(16), index=True)
    state: Mapped[str] = mapped_column(Text)
    # The compare-and-swap counter: every save writes revision + 1 where it read revision.
    revision: Mapped[int] = mapped_column(Integer, nullable=False)
    business_key: Mapped[str | None] = mapped_column(String(64), index=True)
    application_id: Mapped[int | None] = mapped_column(Integer, index=True)
    problem: Mapped[str | None] = mapped_column(Text)
    error_task: Mapped[str | None] = mapped_column(String(64))
    started_by: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


class HumanTask(Base):
    """The task index: one row per READY user task, the only source of worklists."""

    __tablename__ = "human_task"
    # Worklists (an org's, by task name, an account's) read a page in order off these and
    # count from them alone; trailing columns serve the filters and the transfers' NOT IN.
    __table_args__ = (
        Index("ix_human_task_org_queue", "org_id", "lane", "created_at", "id", "process_id"),
        Index("ix_human_task_org_name_queue", "org_id", "name", "lane", "created_at", "id"),
        Index("ix_human_task_user_queue", "user_id", "lane", "created_at", "id"),
    )
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    instance_id: Mapped[int] = mapped_column(
        ForeignKey("process_instance.id", ondelete="CASCADE"), index=True
    )
    process_id: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(200))
    lane: Mapped[str | None] = mapped_column(String(32))
    org_id: Mapped[str | None] = mapped_column(String(64))
    user_id: Mapped[int | None] = mapped_column(Integer)
    application_id: Mapped[int | None] = mapped_column(Integer, index=True)
    form: Mapped[str | None] = mapped_column(String(200))
    ui_form: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Timer(Base):
    __tablename__ = "timer"
    # instance_status: an instance's pending timers, read on every save of the instance.
    __table_args__ = (
        Index("ix_timer_status_due", "status", "due_at"),
        Index("ix_timer_instance_status", "instance_id", "status"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id", ondelete="CASCADE"))
    task_id: Mapped[str] = mapped_column(String(36), unique=True)
    name: Mapped[str] = mapped_column(String(64))
    due_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    status: Mapped[str] = mapped_column(String(16), default="pending")
    fired_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ProcessCurrent(Base):
    """Which version of a process new instances start on (deploy sets it, promote moves it)."""

    __tablename__ = "process_current"
    process_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    process_version_id: Mapped[int] = mapped_column(ForeignKey("process_version.id"))
    since: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    set_by: Mapped[str | None] = mapped_column(String(64))


class AuditEvent(Base):
    """Append-only: who did what, when, with which opinion.

    Hash-chained (storage/audit_chain.py): ``seq`` orders the chain, ``prev_hash`` is the
    hash of the row before, ``hash`` covers every other column of this row.
    """

    __tablename__ = "audit_event"
    __table_args__ = (Index("ix_audit_event_org_task", "org_id", "task_name", "at"),)  # tabs
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    actor_id: Mapped[int | None] = mapped_column(Integer)
    actor_name: Mapped[str] = mapped_column(String(100))
    org_id: Mapped[str | None] = mapped_column(String(64))
    instance_id: Mapped[int | None] = mapped_column(Integer, index=True)
    application_id: Mapped[int | None] = mapped_column(Integer, index=True)
    task_id: Mapped[str | None] = mapped_column(String(36))
    task_name: Mapped[str | None] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64))
    opinion: Mapped[str | None] = mapped_column(Text)
    reason: Mapped[str | None] = mapped_column(Text)
    before_status: Mapped[str | None] = mapped_column(String(32))
    after_status: Mapped[str | None] = mapped_column(String(32))
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    seq: Mapped[int] = mapped_column(Integer, unique=True)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditChainHead(Base):
    """One row (id 1): the last sequence number and hash of the audit chain.

    Appending locks this row first, so concurrent appends queue up behind each other.
    """

    __tablename__ = "audit_chain_head"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(Integer)
    last_hash: Mapped[str] = mapped_column(String(64))


class Notification(Base):
    """Outbox: written in the verb's transaction, delivered after commit."""

    __tablename__ = "notification"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    user_id: Mapped[int | None] = mapped_column(Integer, index=True)
    org_id: Mapped[str | None] = mapped_column(String(64), index=True)
    channel: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(64))
    text: Mapped[str] = mapped_column(Text)
    phone: Mapped[str | None] = mapped_column(String(32))
    instance_id: Mapped[int | None] = mapped_column(Integer)
    dedup_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    read_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class StoredFile(Base):
    __tablename__ = "stored_file"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    size: Mapped[int] = mapped_column(Integer)
    pages: Mapped[int] = mapped_column(Integer)
    filename: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(64))
    owner_id: Mapped[int | None] = mapped_column(Integer, index=True)
    owner_org_id: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Dossier(Base):
    __tablename__ = "dossier"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"), unique=True)
    status: Mapped[str] = mapped_column(String(16), default="draft")
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    instance_id: Mapped[int | None] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Application(Base):
    __tablename__ = "application"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    applicant_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"), index=True)
    unit_org_id: Mapped[str] = mapped_column(String(64), index=True)
    series: Mapped[str] = mapped_column(String(64))
    level: Mapped[str] = mapped_column(String(32))
    specialty: Mapped[str] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(32), index=True)
    stage: Mapped[str | None] = mapped_column(String(64))
    chain: Mapped[list[str] | None] = mapped_column(JSON)
    instance_id: Mapped[int | None] = mapped_column(Integer)
    publicity_end: Mapped[date | None] = mapped_column(Date)
    review_form: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    verification_code: Mapped[str | None] = mapped_column(String(32), unique=True)
    # 破格: declared on the application form; kept here so lists and worklists can mark it.
    exceptional: Mapped[bool] = mapped_column(Boolean, default=False, server_default=sa_false())
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # The annual cycle (申报年度) it was filed in; None for applications filed before cycles.
    cycle_id: Mapped[int | None] = mapped_column(ForeignKey("review_cycle.id"), index=True)


class ReviewCycle(Base):
    """A committee's annual cycle (申报年度/批次): a filing window, an optional quota and the
    title_application version its applications run on, pinned for the whole cycle."""

    __tablename__ = "review_cycle"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    committee_id: Mapped[str] = mapped_column(String(64), index=True)  # catalogue id
    year: Mapped[int] = mapped_column(Integer)
    opens_on: Mapped[date] = mapped_column(Date)
    closes_on: Mapped[date] = mapped_column(Date)
    quota: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), index=True)  # open / closed
    version_id: Mapped[int] = mapped_column(ForeignKey("process_version.id"))
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    closed_by: Mapped[str | None] = mapped_column(String(64))
    close_reason: Mapped[str | None] = mapped_column(Text)


class CalendarOverride(Base):
    """Administrator-entered working-day facts for years the calendar package lacks."""

    __tablename__ = "calendar_override"
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    is_workday: Mapped[bool] = mapped_column(Boolean)
    note: Mapped[str | None] = mapped_column(String(200))


class CalendarYear(Base):
    """A year whose holidays and make-up days an administrator has fully entered."""

    __tablename__ = "calendar_year"
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    entered_by: Mapped[str | None] = mapped_column(String(64))
    entered_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Certificate(Base):
    """An issued 职称证书: its number (prefix, year, sequence), holder, title and state.

    ``number`` is ``prefix`` + year + the 5-digit ``sequence`` of its (committee, year); the
    sequence comes from ``certificate_counter``, so numbers are gapless per committee and year.
    """

    __tablename__ = "certificate"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str] = mapped_column(String(40), unique=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("application.id"), unique=True)
    committee_id: Mapped[str] = mapped_column(String(64))
    issuer_org_id: Mapped[str | None] = mapped_column(String(64))
    year: Mapped[int] = mapped_column(Integer)
    sequence: Mapped[int] = mapped_column(Integer)
    holder_name: Mapped[str] = mapped_column(String(100))
    title: Mapped[str] = mapped_column(String(200))
    verification_code: Mapped[str] = mapped_column(String(32), unique=True)
    issued_on: Mapped[date] = mapped_column(Date)
    issued_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_by: Mapped[int | None] = mapped_column(Integer)
    revoke_reason: Mapped[str | None] = mapped_column(Text)
    __table_args__ = (
        UniqueConstraint("committee_id", "year", "sequence", name="uq_certificate_sequence"),
    )


class CertificateCounter(Base):
    """The last certificate sequence of one committee and year.

    Issuing UPDATEs it first (a row lock on PostgreSQL, the write lock on SQLite), so two
    issues of the same committee and year queue up and never share or skip a number.
    """

    __tablename__ = "certificate_counter"
    committee_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last: Mapped[int] = mapped_column(Integer, default=0)


class TaskTransfer(Base):
    """转办: the account now holding a ready org task; deleted when the task leaves the index.

    Kept apart from ``human_task``, whose rows every save of an instance rewrites.
    """

    __tablename__ = "task_transfer"
    task_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    instance_id: Mapped[int] = mapped_column(Integer, index=True)
    holder_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"), index=True)
    from_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"))
    reason: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class StandIn(Base):
    """委派: a colleague acts for an account from ``starts_on`` to ``ends_on`` (China dates)."""

    __tablename__ = "stand_in"
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"), primary_key=True)
    stand_in_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"), index=True)
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    set_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ApplicationCopy(Base):
    """抄送: an application copied to an account, which may then read it (and nothing more)."""

    __tablename__ = "application_copy"
    __table_args__ = (UniqueConstraint("application_id", "user_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("application.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"), index=True)
    by_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"))
    note: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
