"""The workflow runtime and the domain services BPMN calls. Knows nothing of Flask."""

from engine.accounts import Accounts
from engine.applications import APPLICATION_STATUSES, Applications
from engine.clock import CHINA_TZ, ManualClock, system_clock
from engine.dashboard import Dashboard, DashboardFilters
from engine.errors import (
    AccountLockedError,
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
from engine.ids import MAX_ID, parse_id
from engine.onboarding import Onboarding
from engine.operations import INSTANCE_STATUSES
from engine.policy import may_deploy, may_see_dashboard
from engine.reminders import DeliveryError, SmsMessage
from engine.sandbox import SandboxLimits
from engine.service import WorkflowEngine
from engine.validators import default_validators
from engine.views import Actor, CompleteResult, TaskDetail, TaskSummary
from engine.withdrawal import Withdrawals
from engine.workdays import CalendarPolicy, parse_date

__all__ = [
    "APPLICATION_STATUSES",
    "CHINA_TZ",
    "INSTANCE_STATUSES",
    "MAX_ID",
    "AccountLockedError",
    "Accounts",
    "Actor",
    "Applications",
    "CalendarPolicy",
    "CompleteResult",
    "ConcurrentUpdateError",
    "ConflictError",
    "Dashboard",
    "DashboardFilters",
    "DeliveryError",
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
    "SandboxLimits",
    "SmsMessage",
    "TaskDetail",
    "TaskNotReadyError",
    "TaskSummary",
    "UnknownYearError",
    "Withdrawals",
    "WorkflowEngine",
    "default_validators",
    "may_deploy",
    "may_see_dashboard",
    "parse_date",
    "parse_id",
    "system_clock",
]
