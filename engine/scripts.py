"""The restricted environment every BPMN script, gateway condition and status expression runs in.

Two walls (docs/decisions/0007-script-sandbox.md):
1. an allow-list over the syntax tree (engine.script_policy), checked when a diagram is
   validated and again before anything runs, so no construct outside it ever executes;
2. a worker process with a time and memory budget (engine.sandbox), so what the allow-list
   admits still cannot hold a server thread, the database or the machine.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import lru_cache
from typing import Any

from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.script_engine.python_environment import BasePythonScriptEngineEnvironment

from engine.plain_expressions import NOT_PLAIN, evaluate_plain, execute_plain
from engine.sandbox import SandboxLimits, ScriptLimitExceeded, pool_for
from engine.script_policy import SAFE_BUILTIN_NAMES, ScriptPolicyError, check

__all__ = [
    "SAFE_BUILTIN_NAMES",
    "RestrictedEnvironment",
    "ScriptLimitExceeded",
    "ScriptPolicyError",
    "called_names",
    "compile_checked",
    "script_engine",
]

DEFAULT_LIMITS = SandboxLimits()


@lru_cache(maxsize=4096)
def compile_checked(source: str, mode: str) -> str:
    """Parse and police a script ('exec') or expression ('eval'); the checked source.

    Raises SyntaxError or ScriptPolicyError. Cached per source text, so the check costs
    nothing after the first time.
    """
    check(source, mode)
    return source


def called_names(source: str, mode: str) -> set[str]:
    """Names used as functions in a script, for the deploy-time registry check."""
    import ast

    tree = ast.parse(source, mode=mode)
    return {
        n.func.id
        for n in ast.walk(tree)
        if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)
    }


class RestrictedEnvironment(BasePythonScriptEngineEnvironment):
    """Runs scripts and expressions in the sandbox pool; registered functions stay here."""

    def __init__(
        self, functions: Mapping[str, Callable[..., Any]], limits: SandboxLimits = DEFAULT_LIMITS
    ) -> None:
        super().__init__({})
        self.functions = dict(functions)
        self.limits = limits

    def evaluate(self, expression: Any, context: dict, external_context: dict | None = None) -> Any:
        source = compile_checked(_text(expression), "eval")
        data = {**(external_context or {}), **context}
        value = evaluate_plain(source, data)
        if value is not NOT_PLAIN:
            return value  # reads the data only: no worker needed (engine/plain_expressions.py)
        answer = pool_for(self.limits).run("eval", source, data, self.functions)
        return answer.get("value")

    def execute(self, script: Any, context: dict, external_context: dict | None = None) -> bool:
        source = compile_checked(_text(script), "exec")
        clash = set(self.functions) & set(context)
        if clash:
            raise ValueError(
                "task data overwrites registered function(s); rename the field(s): "
                + ", ".join(sorted(clash))
            )
        data = {**(external_context or {}), **context}
        assigned = execute_plain(source, data)
        if assigned is not NOT_PLAIN:
            context.update(assigned)  # plain assignments only: no worker needed
            return True
        answer = pool_for(self.limits).run("exec", source, data, self.functions)
        changed, removed = answer.get("changed"), answer.get("removed")
        if not isinstance(changed, dict) or not isinstance(removed, list):
            raise ValueError("script worker answered without task data")
        for key in removed:
            context.pop(key, None)
        context.update(changed)
        return True


def _text(source: Any) -> str:
    if not isinstance(source, str):
        raise ScriptPolicyError("只有脚本文本可以在沙箱中运行")
    return source


def script_engine(
    functions: Mapping[str, Callable[..., Any]], limits: SandboxLimits = DEFAULT_LIMITS
) -> PythonScriptEngine:
    """A Spiff script engine running in the restricted environment."""
    return PythonScriptEngine(environment=RestrictedEnvironment(functions, limits))
