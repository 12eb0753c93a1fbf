"""The workflow runtime and the domain services BPMN calls. Knows nothing of Flask."""

from engine.accounts import Accounts
from engine.applications import Applications
from engine.clock import CHINA_TZ, ManualClock, system_clock
from engine.errors import (
    ConcurrentUpdateError,
    ConflictError,
    DeployError,
    EngineError,
    FileRejectedError,
    ForbiddenError,
    InvalidDataError,
    NotFoundError,
    TaskNotReadyError,
    UnknownYearError,
)
from engine.exports import Exports
from engine.files import Documents, FileStore
from engine.onboarding import Onboarding
from engine.service import WorkflowEngine
from engine.views import Actor, CompleteResult, TaskDetail, TaskSummary

__all__ = [
    "CHINA_TZ",
    "Accounts",
    "Actor",
    "Applications",
    "CompleteResult",
    "ConcurrentUpdateError",
    "ConflictError",
    "DeployError",
    "Documents",
    "EngineError",
    "Exports",
    "FileRejectedError",
    "FileStore",
    "ForbiddenError",
    "InvalidDataError",
    "ManualClock",
    "NotFoundError",
    "Onboarding",
    "TaskDetail",
    "TaskNotReadyError",
    "TaskSummary",
    "UnknownYearError",
    "WorkflowEngine",
    "system_clock",
]
