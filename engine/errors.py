"""Domain errors raised by the engine: a ``code`` (English, for machines), a message (Chinese,
for people) and per-field problems. None of them knows HTTP: web/errors.py maps each class to
its status."""

from __future__ import annotations


class EngineError(Exception):
    """Base class of every error the engine raises on purpose (a bad request as such)."""

    code = "engine_error"

    def __init__(
        self, message: str, *, fields: dict[str, str] | None = None, code: str | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.fields = fields or {}
        if code:
            self.code = code


class NotFoundError(EngineError):
    """The thing asked for does not exist (or the id is not one)."""

    code = "not_found"


class ForbiddenError(EngineError):
    """The actor may not do this or see this."""

    code = "forbidden"


class ConflictError(EngineError):
    """The request does not fit the current state (task gone, wrong stage)."""

    code = "conflict"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message, code=code)


class TaskNotReadyError(ConflictError):
    code = "task_not_ready"


class ConcurrentUpdateError(ConflictError):
    code = "stale_version"


class InvalidDataError(EngineError):
    """Submitted data fails the form schema or a business rule."""

    code = "invalid_data"


class UnknownYearError(InvalidDataError):
    """The working-day calendar does not know a year; never guessed."""

    code = "calendar_year_unknown"

    def __init__(self, year: int) -> None:
        super().__init__(f"{year} 年的节假日安排尚未录入，无法计算工作日")
        self.year = year


class FileRejectedError(EngineError):
    """An uploaded file was refused for what is in it (empty, broken, too many pages...)."""

    code = "file_rejected"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message, code=code)


class FileTooLargeError(FileRejectedError):
    """An uploaded file is over the size limit."""

    code = "file_too_large"


class FileTypeError(FileRejectedError):
    """An uploaded file is not of an accepted type (not a PDF)."""

    code = "not_pdf"


class DeployError(EngineError):
    """A process definition failed validation; problems lists file/line/element/message."""

    code = "invalid_process"

    def __init__(self, problems: list[dict]) -> None:
        super().__init__(f"{len(problems)} problem(s) in the process definition")
        self.problems = problems


class AccountLockedError(EngineError):
    """Too many wrong passwords in a row: the account is locked for a while."""

    code = "account_locked"

    def __init__(self, seconds_left: int) -> None:
        minutes = max(1, -(-seconds_left // 60))
        super().__init__(f"密码连续输错次数过多，账户已锁定，请 {minutes} 分钟后再试")
        self.retry_after = max(1, seconds_left)
        self.minutes_left = minutes
