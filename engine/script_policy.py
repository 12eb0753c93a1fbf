"""What a BPMN script or expression may say: an allow-list over Python's syntax tree.

Only the constructs the diagrams need are admitted: assignments, ``if``/``for``, literals,
arithmetic and comparisons, comprehensions, calls of registered functions and a few safe
builtins, and a short list of container and string methods. Everything else (imports,
function and class definitions, lambdas, generators, ``try``, ``with``, ``global``, walrus,
attribute names outside the list, names starting with ``_``, builtins outside the list) is
refused when the diagram is validated, so frames, code objects, ``str.format`` field walks
and the other doors out of Python are never reachable from a diagram.

This module uses the standard library only: the sandbox's worker process imports it too.
"""

from __future__ import annotations

import ast
import builtins

SAFE_BUILTIN_NAMES = (
    "abs",
    "all",
    "any",
    "bool",
    "dict",
    "enumerate",
    "filter",
    "float",
    "int",
    "isinstance",
    "len",
    "list",
    "map",
    "max",
    "min",
    "range",
    "round",
    "set",
    "sorted",
    "str",
    "sum",
    "tuple",
    "zip",
)

# Methods of str, list, dict and set that return plain data and never an object with
# a door out (no ``format``/``format_map``, which walk attributes inside a string).
SAFE_ATTRIBUTES = frozenset(
    {
        "get",
        "keys",
        "values",
        "items",
        "append",
        "extend",
        "insert",
        "pop",
        "remove",
        "index",
        "count",
        "copy",
        "update",
        "setdefault",
        "add",
        "discard",
        "union",
        "intersection",
        "difference",
        "sort",
        "reverse",
        "strip",
        "lstrip",
        "rstrip",
        "split",
        "join",
        "replace",
        "startswith",
        "endswith",
        "lower",
        "upper",
        "isdigit",
        "zfill",
    }
)

_ALLOWED_NODES: tuple[type[ast.AST], ...] = (
    # structure
    ast.Module,
    ast.Expression,
    ast.Expr,
    ast.Assign,
    ast.AugAssign,
    ast.If,
    ast.For,
    ast.Pass,
    ast.Break,
    ast.Continue,
    ast.Delete,
    # expressions
    ast.BoolOp,
    ast.BinOp,
    ast.UnaryOp,
    ast.Compare,
    ast.IfExp,
    ast.Call,
    ast.keyword,
    ast.Constant,
    ast.Name,
    ast.Attribute,
    ast.Subscript,
    ast.Slice,
    ast.List,
    ast.Tuple,
    ast.Dict,
    ast.Set,
    ast.ListComp,
    ast.SetComp,
    ast.DictComp,
    ast.comprehension,
    ast.JoinedStr,
    ast.FormattedValue,
    # contexts and operators
    ast.Load,
    ast.Store,
    ast.Del,
    ast.boolop,
    ast.operator,
    ast.unaryop,
    ast.cmpop,
)

_FORBIDDEN_BUILTINS = frozenset(dir(builtins)) - set(SAFE_BUILTIN_NAMES) - {"True", "False", "None"}


class ScriptPolicyError(PermissionError):
    """A script or expression uses a construct the environment forbids."""


_PHRASES: dict[type[ast.AST], str] = {
    ast.Import: "不允许 import",
    ast.ImportFrom: "不允许 import",
    ast.FunctionDef: "不允许定义函数或类",
    ast.AsyncFunctionDef: "不允许定义函数或类",
    ast.ClassDef: "不允许定义函数或类",
    ast.Lambda: "不允许定义函数或类",
    ast.Global: "不允许 global/nonlocal",
    ast.Nonlocal: "不允许 global/nonlocal",
    ast.GeneratorExp: "不允许生成器表达式",
    ast.Try: "不允许 try/raise",
    ast.Raise: "不允许 try/raise",
    ast.While: "不允许 while 循环",
}


def _node_problem(node: ast.AST) -> str | None:
    if not isinstance(node, _ALLOWED_NODES):
        return _PHRASES.get(type(node), f"不允许 {type(node).__name__}")
    if isinstance(node, ast.Attribute):
        if node.attr not in SAFE_ATTRIBUTES:
            return f"不允许属性 {node.attr!r}"
        if not isinstance(node.ctx, ast.Load):
            return f"不允许给属性 {node.attr!r} 赋值"
    elif isinstance(node, ast.Name):
        if node.id.startswith("_") or node.id in _FORBIDDEN_BUILTINS:
            return f"不允许名称 {node.id!r}"
    elif isinstance(node, ast.FormattedValue) and node.format_spec is not None:
        # A nested format spec is itself an f-string; only literal specs are needed.
        if not all(isinstance(v, ast.Constant) for v in node.format_spec.values):  # type: ignore[attr-defined]
            return "不允许计算得到的格式说明"
    elif isinstance(node, ast.Call) and not isinstance(node.func, ast.Name | ast.Attribute):
        return "不允许调用计算得到的值"
    elif isinstance(node, ast.Constant) and isinstance(node.value, bytes):
        return "不允许 bytes 字面量"
    return None


def violations(tree: ast.AST) -> list[str]:
    """Every construct in ``tree`` the allow-list refuses, as short phrases a designer reads.

    A refused construct's insides are not reported again (``import os`` is one problem).
    """
    found: list[str] = []
    todo = [tree]
    while todo:
        node = todo.pop()
        problem = _node_problem(node)
        if problem:
            found.append(problem)
            if not isinstance(node, _ALLOWED_NODES):
                continue
        todo.extend(reversed(list(ast.iter_child_nodes(node))))
    return found


def check(source: str, mode: str) -> ast.AST:
    """Parse ``source`` ('exec' or 'eval') and refuse it unless every construct is allowed."""
    tree = ast.parse(source, filename="<bpmn>", mode=mode)
    problems = violations(tree)
    if problems:
        raise ScriptPolicyError("；".join(dict.fromkeys(problems)))
    return tree


def safe_builtins() -> dict[str, object]:
    """The builtins a script sees: the allow-listed names and the three constants."""
    table: dict[str, object] = {n: getattr(builtins, n) for n in SAFE_BUILTIN_NAMES}
    table.update({"True": True, "False": False, "None": None})
    return table
