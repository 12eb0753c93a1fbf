"""Persistence: Flask-SQLAlchemy models, the unit of work and migrations. Imports nothing of ours."""

from storage.db import Base, db
from storage.models import (
    ApiToken,
    Application,
    AuditEvent,
    CalendarOverride,
    CalendarYear,
    Dossier,
    HumanTask,
    Notification,
    Org,
    ProcessInstance,
    ProcessVersion,
    StoredFile,
    Timer,
    User,
    WebSession,
)
from storage.unit_of_work import SqlUnitOfWork, configure_engine_events

__all__ = [
    "ApiToken",
    "Application",
    "AuditEvent",
    "Base",
    "CalendarOverride",
    "CalendarYear",
    "Dossier",
    "HumanTask",
    "Notification",
    "Org",
    "ProcessInstance",
    "ProcessVersion",
    "SqlUnitOfWork",
    "StoredFile",
    "Timer",
    "User",
    "WebSession",
    "configure_engine_events",
    "db",
]
