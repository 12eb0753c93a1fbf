"""What the office sends to form a review session and record attendance, checked."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from engine.errors import InvalidDataError
from engine.workdays import parse_date


def usernames(value: Any, field: str) -> list[str]:
    """A non-empty list of distinct usernames (experts of a panel, or those present)."""
    if not isinstance(value, list) or not value or len(value) > 500:
        raise InvalidDataError("请列出专家用户名", fields={field: "应为非空的用户名列表"})
    names = [v.strip() for v in value if isinstance(v, str) and v.strip()]
    if len(names) != len(value):
        raise InvalidDataError("专家用户名无效", fields={field: "每一项应为用户名"})
    if len(set(names)) != len(names):
        raise InvalidDataError("专家名单有重复", fields={field: "同一专家只能列一次"})
    return names


def session_date(body: Mapping[str, Any]) -> date:
    """The session's date."""
    try:
        return parse_date(body.get("date"))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise InvalidDataError(
            "评审会日期无效", fields={"date": "应为 YYYY-MM-DD 格式的日期"}
        ) from None
