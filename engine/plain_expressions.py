"""Expressions that read task data and nothing else, evaluated without the sandbox's worker.

Most expressions in a diagram are a status (``"unit_review"``), a condition
(``decision == "approve"``, ``"returned" if return_count else "draft"``) or an account
(``ballot_experts[ballot_index]``). Sending each to a worker process costs a round trip per
expression on every step. An expression built only from constants, names of the task's data,
subscripts, comparisons, ``and``/``or``/``not`` and ``x if c else y`` calls no function,
builds nothing and runs no loop, so it cannot outlast the sandbox's budget; it is evaluated
here, on the task data, with Python's own operators.

A script made only of such expressions assigned to names (``return_count = 0``,
``level_org = review_chain[level_index]`` then ``decision = None``), one after another, is run
here the same way: each value over the data as the assignments before it left it.

Anything else, and any name the data does not hold (a builtin such as ``len``, or a name
that is missing and must fail as it would in the sandbox), goes to the sandbox as before.
The allow-list check (engine.script_policy) runs first either way.
"""

from __future__ import annotations

import ast
import operator
from collections.abc import Callable, Mapping
from copy import deepcopy
from functools import lru_cache
from typing import Any

NOT_PLAIN: Any = object()  # the answer when the sandbox must evaluate the expression

_COMPARE: dict[type[ast.cmpop], Callable[[Any, Any], Any]] = {
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
    ast.In: lambda a, b: a in b,
    ast.NotIn: lambda a, b: a not in b,
    ast.Is: operator.is_,
    ast.IsNot: operator.is_not,
}
_CONSTANTS = (str, int, float, bool, type(None))


class _Missing(Exception):
    """A name the data does not hold: the sandbox decides."""


def _plain(node: ast.AST) -> bool:
    if isinstance(node, ast.Constant):
        return isinstance(node.value, _CONSTANTS)
    if isinstance(node, ast.Name):
        return True
    if isinstance(node, ast.Subscript):
        return _plain(node.value) and _plain(node.slice)
    if isinstance(node, ast.IfExp):
        return _plain(node.test) and _plain(node.body) and _plain(node.orelse)
    if isinstance(node, ast.BoolOp):
        return all(_plain(v) for v in node.values)
    if isinstance(node, ast.UnaryOp):
        return isinstance(node.op, ast.Not) and _plain(node.operand)
    if isinstance(node, ast.Compare):
        return (
            all(type(op) in _COMPARE for op in node.ops)
            and _plain(node.left)
            and all(_plain(c) for c in node.comparators)
        )
    return False


@lru_cache(maxsize=4096)
def _tree(source: str) -> ast.expr | None:
    """The expression's tree when it is plain (None: the sandbox evaluates it)."""
    body = ast.parse(source, mode="eval").body
    return body if _plain(body) else None


def _value(node: ast.expr, data: Mapping[str, Any]) -> Any:
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Name):
        if node.id not in data:
            raise _Missing(node.id)
        return data[node.id]
    if isinstance(node, ast.Subscript):
        return _value(node.value, data)[_value(node.slice, data)]
    if isinstance(node, ast.IfExp):
        return _value(node.body if _value(node.test, data) else node.orelse, data)
    if isinstance(node, ast.BoolOp):
        result: Any = None
        for item in node.values:
            result = _value(item, data)
            if isinstance(node.op, ast.And) and not result:
                return result
            if isinstance(node.op, ast.Or) and result:
                return result
        return result
    if isinstance(node, ast.UnaryOp):
        return not _value(node.operand, data)
    assert isinstance(node, ast.Compare)
    left = _value(node.left, data)
    for op, right_node in zip(node.ops, node.comparators, strict=True):
        right = _value(right_node, data)
        if not _COMPARE[type(op)](left, right):
            return False
        left = right
    return True


@lru_cache(maxsize=4096)
def _assignments(source: str) -> tuple[tuple[str, ast.expr], ...] | None:
    """The script's (name, value) pairs when it only assigns plain expressions to names, one
    name a statement (None: the sandbox runs it)."""
    pairs = []
    for statement in ast.parse(source, mode="exec").body:
        if not (
            isinstance(statement, ast.Assign)
            and len(statement.targets) == 1
            and isinstance(statement.targets[0], ast.Name)
            and _plain(statement.value)
        ):
            return None
        pairs.append((statement.targets[0].id, statement.value))
    return tuple(pairs) or None


def _copied(value: Any) -> Any:
    # A copy, as the sandbox's answer is: the caller may change it without changing the data.
    return deepcopy(value) if isinstance(value, (dict, list)) else value


def execute_plain(source: str, data: Mapping[str, Any]) -> Any:
    """The names a script of plain assignments sets, with their values (a dict), or
    ``NOT_PLAIN``: then nothing was set, and the sandbox runs the whole script."""
    try:
        pairs = _assignments(source)
        if pairs is None:
            return NOT_PLAIN
        scope, changed = dict(data), {}
        for name, node in pairs:
            scope[name] = changed[name] = _copied(_value(node, scope))
    except (_Missing, LookupError, TypeError, ValueError, RecursionError, SyntaxError):
        return NOT_PLAIN
    return changed


def evaluate_plain(source: str, data: Mapping[str, Any]) -> Any:
    """The value of a plain expression over ``data``, or ``NOT_PLAIN``. An expression that
    fails here (a missing key, comparing a number with text) is also ``NOT_PLAIN``: the
    sandbox evaluates it again and fails with its own, usual error."""
    try:
        tree = _tree(source)
        if tree is None:
            return NOT_PLAIN
        value = _value(tree, data)
    except (_Missing, LookupError, TypeError, ValueError, RecursionError, SyntaxError):
        return NOT_PLAIN
    return _copied(value)
