"""Persistence: Flask-SQLAlchemy models, the unit of work and migrations. Imports nothing of ours."""

from storage.audit_chain import GENESIS, AuditAppendOnlyError, row_hash
from storage.db import Base, db
from storage.models import (
    ApiToken,
    Application,
    AuditChainHead,
    AuditEvent,
    CalendarOverride,
    CalendarYear,
    Dossier,
    HumanTask,
    Notification,
    Org,
    ProcessCurrent,
    ProcessInstance,
    ProcessVersion,
    StoredFile,
    Timer,
    User,
    WebSession,
)
from storage.unit_of_work import SqlUnitOfWork, configure_engine_events

__all__ = [
    "GENESIS",
    "ApiToken",
    "Application",
    "AuditAppendOnlyError",
    "AuditChainHead",
    "AuditEvent",
    "Base",
    "CalendarOverride",
    "CalendarYear",
    "Dossier",
    "HumanTask",
    "Notification",
    "Org",
    "ProcessCurrent",
    "ProcessInstance",
    "ProcessVersion",
    "SqlUnitOfWork",
    "StoredFile",
    "Timer",
    "User",
    "WebSession",
    "configure_engine_events",
    "db",
    "row_hash",
]
