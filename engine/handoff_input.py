"""Reading hand-off requests (转办 / 委派 / 抄送): required text, usernames, date ranges.

Each reader raises ``InvalidDataError`` with ``fields`` naming what is wrong (422), in
Chinese; nothing here touches the database.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from engine.errors import InvalidDataError
from engine.workdays import parse_date

TEXT_MAX = 2000
RECIPIENTS_MAX = 50


def _text(body: Mapping[str, Any], name: str, *, required: bool) -> str | None:
    value = body.get(name)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise InvalidDataError("请填写必填项", fields={name: "必填"})
        return None
    if not isinstance(value, str):
        raise InvalidDataError("字段格式不正确", fields={name: "应为文字"})
    if len(value.strip()) > TEXT_MAX:
        raise InvalidDataError("内容过长", fields={name: f"不能超过 {TEXT_MAX} 个字符"})
    return value.strip()


def transfer_request(body: Mapping[str, Any]) -> tuple[str, str]:
    """(target username, reason) of a 转办; both required."""
    fields = {n: "必填" for n in ("to", "reason") if not str(body.get(n) or "").strip()}
    if fields:
        raise InvalidDataError("请选择转办对象并填写转办原因", fields=fields)
    to = _text(body, "to", required=True)
    reason = _text(body, "reason", required=True)
    assert to is not None and reason is not None
    return to, reason


def stand_in_request(body: Mapping[str, Any], today: date) -> tuple[str, date, date]:
    """(stand-in username, from, until) of a 委派: until ≥ from and not before today."""
    fields: dict[str, str] = {}
    to = None
    try:
        to = _text(body, "to", required=True)
    except InvalidDataError as exc:
        fields.update(exc.fields)
    dates: dict[str, date] = {}
    for name in ("from", "until"):
        value = body.get(name)
        if value is None or value == "":
            fields[name] = "必填"
            continue
        try:
            dates[name] = parse_date(value)
        except ValueError as exc:
            fields[name] = str(exc)
    if "from" in dates and "until" in dates and dates["until"] < dates["from"]:
        fields["until"] = "结束日期不能早于开始日期"
    elif "until" in dates and dates["until"] < today:
        fields["until"] = f"结束日期不能早于今天（{today.isoformat()}）"
    if fields:
        raise InvalidDataError("委派设置不正确", fields=fields)
    assert to is not None
    return to, dates["from"], dates["until"]


def copy_request(body: Mapping[str, Any]) -> tuple[list[str], str | None]:
    """(recipient usernames, note) of a 抄送: one to 50 distinct usernames."""
    to = body.get("to")
    if isinstance(to, str):
        to = [to]
    if not isinstance(to, list) or not to:
        raise InvalidDataError("请选择抄送对象", fields={"to": "必填：用户名列表"})
    if not all(isinstance(u, str) and u.strip() for u in to):
        raise InvalidDataError("抄送对象格式不正确", fields={"to": "应为用户名列表"})
    names = list(dict.fromkeys(u.strip() for u in to))
    if len(names) > RECIPIENTS_MAX:
        raise InvalidDataError("抄送对象过多", fields={"to": f"一次最多抄送 {RECIPIENTS_MAX} 人"})
    return names, _text(body, "note", required=False)
