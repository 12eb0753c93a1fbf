"""Domain errors raised by the engine; web/errors.py maps them to HTTP answers."""

from __future__ import annotations


class EngineError(Exception):
    """Base class of every error the engine raises on purpose."""

    code = "engine_error"
    status = 400

    def __init__(self, message: str, *, fields: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.fields = fields or {}


class NotFoundError(EngineError):
    code = "not_found"
    status = 404


class ForbiddenError(EngineError):
    code = "forbidden"
    status = 403


class ConflictError(EngineError):
    """The request does not fit the current state (task gone, wrong stage)."""

    code = "conflict"
    status = 409

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        if code:
            self.code = code


class TaskNotReadyError(ConflictError):
    code = "task_not_ready"


class ConcurrentUpdateError(ConflictError):
    code = "stale_version"


class InvalidDataError(EngineError):
    """Submitted data fails the form schema or a business rule (HTTP 422)."""

    code = "invalid_data"
    status = 422


class UnknownYearError(InvalidDataError):
    """The working-day calendar does not know a year; never guessed."""

    code = "calendar_year_unknown"

    def __init__(self, year: int) -> None:
        super().__init__(f"{year} 年的节假日安排尚未录入，无法计算工作日")
        self.year = year


class FileRejectedError(EngineError):
    """An uploaded file was refused; status is 413, 415 or 422."""

    code = "file_rejected"

    def __init__(self, message: str, *, status: int = 422, code: str = "file_rejected") -> None:
        super().__init__(message)
        self.status = status
        self.code = code


class DeployError(EngineError):
    """A process definition failed validation; problems lists file/line/element/message."""

    code = "invalid_process"
    status = 422

    def __init__(self, problems: list[dict]) -> None:
        super().__init__(f"{len(problems)} problem(s) in the process definition")
        self.problems = problems


class AccountLockedError(EngineError):
    """Too many wrong passwords in a row: the account is locked for a while (HTTP 429)."""

    code = "account_locked"
    status = 429

    def __init__(self, seconds_left: int) -> None:
        minutes = max(1, -(-seconds_left // 60))
        super().__init__(f"密码连续输错次数过多，账户已锁定，请 {minutes} 分钟后再试")
        self.retry_after = max(1, seconds_left)
        self.minutes_left = minutes
