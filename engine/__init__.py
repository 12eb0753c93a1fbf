"""The process runtime and the services over it. Knows nothing of Flask."""

from engine import policy, roles, statuses
from engine.accounts import Accounts
from engine.applications import Applications
from engine.audit import AuditLog
from engine.calendar_admin import CalendarAdmin
from engine.certificates import Certificates
from engine.clock import CHINA_TZ, ManualClock, system_clock
from engine.cycles import Cycles
from engine.dashboard import Dashboard, DashboardFilters
from engine.deployments import Deployments
from engine.designer_files import DesignerFiles
from engine.dossiers import Dossiers
from engine.errors import (
    AccountLockedError,
    ConcurrentUpdateError,
    ConflictError,
    DeployError,
    EngineError,
    FileRejectedError,
    FileTooLargeError,
    FileTypeError,
    ForbiddenError,
    InvalidDataError,
    NotFoundError,
    TaskNotReadyError,
    UnknownYearError,
)
from engine.exports import Exports
from engine.fee_settings import FeeSettings
from engine.files import Documents, FileStore
from engine.handoffs import Handoffs
from engine.ids import MAX_ID, parse_id
from engine.onboarding import Applicants, Units
from engine.operations import Operations
from engine.passwords import PasswordHasher
from engine.policy import may_deploy, may_see_dashboard
from engine.process_runtime import ProcessRuntime
from engine.reminders import DeliveryError, Notices, SmsMessage
from engine.sandbox import SandboxLimits
from engine.statuses import APPLICATION_STATUSES, INSTANCE_STATUSES
from engine.tasks import Tasks
from engine.timer_batches import watch_new_timers
from engine.timers import Timers
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
    "Applicants",
    "Applications",
    "AuditLog",
    "CalendarAdmin",
    "CalendarPolicy",
    "Certificates",
    "CompleteResult",
    "ConcurrentUpdateError",
    "ConflictError",
    "Cycles",
    "Dashboard",
    "DashboardFilters",
    "DeliveryError",
    "DeployError",
    "Deployments",
    "DesignerFiles",
    "Documents",
    "Dossiers",
    "EngineError",
    "Exports",
    "FeeSettings",
    "FileRejectedError",
    "FileStore",
    "FileTooLargeError",
    "FileTypeError",
    "ForbiddenError",
    "Handoffs",
    "InvalidDataError",
    "ManualClock",
    "NotFoundError",
    "Notices",
    "Operations",
    "PasswordHasher",
    "ProcessRuntime",
    "SandboxLimits",
    "SmsMessage",
    "TaskDetail",
    "TaskNotReadyError",
    "TaskSummary",
    "Tasks",
    "Timers",
    "Units",
    "UnknownYearError",
    "Withdrawals",
    "default_validators",
    "may_deploy",
    "may_see_dashboard",
    "parse_date",
    "parse_id",
    "policy",
    "roles",
    "statuses",
    "system_clock",
    "watch_new_timers",
]
