"""The restricted environment every BPMN script and expression runs in.

No imports, no names or attributes that start with an underscore, a short list of
builtins, and only the functions the engine registers. Checked once per source text
at deploy time and cached, so running a script costs no more than plain exec.
"""

from __future__ import annotations

import ast
import builtins
from collections.abc import Callable, Mapping
from functools import lru_cache
from types import CodeType
from typing import Any

from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine, TaskDataEnvironment

SAFE_BUILTIN_NAMES = [
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
]
SAFE_BUILTINS: dict[str, Any] = {n: getattr(builtins, n) for n in SAFE_BUILTIN_NAMES}
SAFE_BUILTINS.update({"True": True, "False": False, "None": None})


class ScriptPolicyError(PermissionError):
    """A script or expression uses a construct the environment forbids."""


def _violations(tree: ast.AST) -> list[str]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import | ast.ImportFrom):
            found.append("import is not allowed")
        elif isinstance(node, ast.Global | ast.Nonlocal):
            found.append("global/nonlocal is not allowed")
        elif isinstance(node, ast.Attribute) and node.attr.startswith("_"):
            found.append(f"attribute {node.attr!r} is not allowed")
        elif isinstance(node, ast.Name) and node.id.startswith("_"):
            found.append(f"name {node.id!r} is not allowed")
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef | ast.Lambda):
            found.append("defining functions or classes is not allowed")
    return found


@lru_cache(maxsize=4096)
def compile_checked(source: str, mode: str) -> CodeType:
    """Parse, police and compile a script ('exec') or expression ('eval')."""
    tree = ast.parse(source, mode=mode)
    problems = _violations(tree)
    if problems:
        raise ScriptPolicyError("; ".join(dict.fromkeys(problems)))
    return compile(tree, "<bpmn>", mode)


def called_names(source: str, mode: str) -> set[str]:
    """Names used as functions in a script, for the deploy-time registry check."""
    tree = ast.parse(source, mode=mode)
    return {
        n.func.id
        for n in ast.walk(tree)
        if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)
    }


class RestrictedEnvironment(TaskDataEnvironment):
    """TaskDataEnvironment whose globals are the safe builtins plus registered functions."""

    def __init__(self, functions: Mapping[str, Callable[..., Any]]) -> None:
        super().__init__({"__builtins__": SAFE_BUILTINS, **functions})

    def evaluate(self, expression: Any, context: dict, external_context: dict | None = None) -> Any:
        code = compile_checked(expression, "eval") if isinstance(expression, str) else expression
        return super().evaluate(code, context, external_context)

    def execute(self, script: Any, context: dict, external_context: dict | None = None) -> bool:
        code = compile_checked(script, "exec") if isinstance(script, str) else script
        return super().execute(code, context, external_context)


def script_engine(functions: Mapping[str, Callable[..., Any]]) -> PythonScriptEngine:
    """A Spiff script engine running in the restricted environment."""
    return PythonScriptEngine(environment=RestrictedEnvironment(functions))
