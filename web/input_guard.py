"""One guard for everything a request carries: path, query string, form fields, JSON body.

Refused with 400 before any view runs: NUL characters and lone surrogates (no database stores
them: PostgreSQL refuses NUL, both drivers refuse surrogates), NaN and Infinity (not JSON; a
stored NaN comes back as invalid JSON), numbers beyond the exactly representable integers of
I-JSON (RFC 7493), and JSON nested deeper than MAX_DEPTH (the parser recurses).
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from flask import Flask, g, request
from werkzeug.exceptions import BadRequest
from werkzeug.routing import BaseConverter, ValidationError

from engine import MAX_ID, InvalidDataError, parse_id

MAX_DEPTH = 32
MAX_SAFE_INTEGER = 2**53 - 1
MAX_OFFSET = 10_000_000
FORM_TYPES = ("multipart/form-data", "application/x-www-form-urlencoded")
_NUMBER = re.compile(r"[0-9]{1,10}")


class InputRefused(ValueError):
    """Input no view should see; the message says why, in Chinese."""


class IdConverter(BaseConverter):
    """``<id:name>``: an id of ASCII digits within the database range, else no match (404)."""

    regex = r"[0-9]{1,10}"

    def to_python(self, value: str) -> int:
        number = parse_id(value)
        if number is None:
            raise ValidationError()
        return number

    def to_url(self, value: Any) -> str:
        return str(value)


def check_text(value: str | None) -> None:
    """Refuse NUL characters and lone surrogates in one string (a nameless form part: None)."""
    if value is None:
        return
    if "\x00" in value:
        raise InputRefused("请求中含有空字符（NUL），不予处理")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise InputRefused("请求中含有无效的 Unicode 字符（孤立代理项），不予处理") from None


def _refuse_constant(name: str) -> Any:
    raise InputRefused(f"JSON 中不允许 {name}，数值必须是有限数")


def _finite(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):
        raise InputRefused("JSON 数值超出范围")
    return number


def strict_loads(data: bytes | str) -> Any:
    """Parse JSON, refusing what the module docstring lists; InputRefused says why."""
    try:
        value = json.loads(data, parse_constant=_refuse_constant, parse_float=_finite)
    except RecursionError:
        raise InputRefused(f"JSON 嵌套层数过多（最多 {MAX_DEPTH} 层）") from None
    except InputRefused:
        raise
    except ValueError as exc:  # JSONDecodeError, bad UTF-8, an integer of 4300+ digits
        raise InputRefused(f"请求体不是合法的 JSON (malformed JSON: {exc})") from None
    check_json(value)
    return value


def check_json(value: Any) -> None:
    """Walk a parsed JSON value without recursion: depth, strings, integers."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            if depth > MAX_DEPTH:
                raise InputRefused(f"JSON 嵌套层数过多（最多 {MAX_DEPTH} 层）")
            if isinstance(item, dict):
                for key in item:
                    check_text(key)
                stack.extend((v, depth + 1) for v in item.values())
            else:
                stack.extend((v, depth + 1) for v in item)
        elif isinstance(item, str):
            check_text(item)
        elif isinstance(item, int) and abs(item) > MAX_SAFE_INTEGER:
            raise InputRefused("JSON 整数超出范围")


def request_json() -> Any:
    """The request body as strictly parsed JSON (parsed once per request)."""
    if "request_json" not in g:
        try:
            g.request_json = strict_loads(request.get_data(cache=True))
        except InputRefused as exc:
            raise BadRequest(str(exc)) from None
    return g.request_json


def query_int(name: str, default: int, low: int, high: int) -> int:
    """An integer query parameter of ASCII digits within [low, high]; 400 otherwise."""
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    number = int(raw) if _NUMBER.fullmatch(raw) else None
    if number is None or not low <= number <= high:
        raise BadRequest(f"{name} 应为 {low} 至 {high} 之间的整数")
    return number


def query_flag(name: str) -> bool:
    """A boolean query parameter: true/1/yes or false/0/no (or absent); anything else 422."""
    raw = (request.args.get(name) or "").strip().lower()
    if raw in ("", "false", "0", "no"):
        return False
    if raw in ("true", "1", "yes"):
        return True
    raise InvalidDataError(f"{name} 取值不正确", fields={name: "应为 true 或 false"})


def _guard() -> None:
    try:
        check_text(request.path)
        for key, values in request.args.lists():
            check_text(key)
            for value in values:
                check_text(value)
        if request.mimetype in FORM_TYPES:
            for key, values in request.form.lists():
                check_text(key)
                for value in values:
                    check_text(value)
            return
    except InputRefused as exc:
        raise BadRequest(str(exc)) from None
    if (request.path.startswith("/api/") or request.is_json) and request.get_data(cache=True):
        request_json()


def init_app(app: Flask) -> None:
    """Register the id converter and the guard (before any other request hook)."""
    app.url_map.converters["id"] = IdConverter
    app.before_request_funcs.setdefault(None, []).insert(0, _guard)


__all__ = ["MAX_ID", "MAX_OFFSET", "IdConverter", "query_flag", "query_int", "request_json"]
