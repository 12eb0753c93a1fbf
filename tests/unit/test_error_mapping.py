"""Engine errors carry a code and a message, never an HTTP status; web maps each class."""

from __future__ import annotations

import inspect

import pytest

import engine
from engine import errors as engine_errors
from engine.errors import EngineError
from engine.reminders import DeliveryError
from web.errors import http_status


def _engine_error_classes() -> list[type[EngineError]]:
    found = {
        obj
        for module in (engine_errors, engine)
        for _, obj in inspect.getmembers(module, inspect.isclass)
        if issubclass(obj, EngineError)
    }
    return sorted(found | {DeliveryError}, key=lambda cls: cls.__name__)


@pytest.mark.parametrize("cls", _engine_error_classes(), ids=lambda cls: cls.__name__)
def test_engine_errors_know_no_http_status(cls):
    assert not hasattr(cls, "status")


@pytest.mark.parametrize(
    ("error", "status", "code"),
    [
        (engine.NotFoundError("申报不存在"), 404, "not_found"),
        (engine.ForbiddenError("无权查看"), 403, "forbidden"),
        (engine.ConflictError("已在审核中", code="under_review"), 409, "under_review"),
        (engine.TaskNotReadyError("任务已办理"), 409, "task_not_ready"),
        (engine.ConcurrentUpdateError("已被他人处理"), 409, "stale_version"),
        (engine.InvalidDataError("信息有误", fields={"a": "必填"}), 422, "invalid_data"),
        (engine.UnknownYearError(2031), 422, "calendar_year_unknown"),
        (engine.FileRejectedError("文件为空", code="empty_file"), 422, "empty_file"),
        (engine.FileTooLargeError("文件过大"), 413, "file_too_large"),
        (engine.FileTypeError("不是 PDF"), 415, "not_pdf"),
        (engine.DeployError([]), 422, "invalid_process"),
        (engine.AccountLockedError(90), 429, "account_locked"),
        (DeliveryError("gateway unreachable"), 502, "delivery_failed"),
        (EngineError("demo user cannot log in"), 400, "engine_error"),
    ],
    ids=lambda value: type(value).__name__ if isinstance(value, Exception) else None,
)
def test_web_maps_each_engine_error_to_its_status(error, status, code):
    assert (http_status(error), error.code) == (status, code)
