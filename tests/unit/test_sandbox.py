"""The script sandbox: a catalogue of known escapes, each refused or contained, and the limits."""

from __future__ import annotations

import os

import pytest

from engine.sandbox import SandboxLimits, ScriptLimitExceeded, pool_for
from engine.scripts import ScriptPolicyError, compile_checked, script_engine

# (technique, source). Each must be refused when the diagram is validated.
ESCAPES = [
    ("import statement", "import os"),
    ("from-import", "from os import system"),
    ("__import__ builtin", "m = __import__('os')"),
    ("subclasses walk", "s = ().__class__.__bases__[0].__subclasses__()"),
    ("mro walk", "m = [].__class__.__mro__"),
    ("generator frame", "g = (x for x in [1])\nb = g.gi_frame.f_back.f_builtins"),
    ("generator code", "g = (x for x in [1])\nc = g.gi_code"),
    ("generator in call", "b = list(x for x in [1])"),
    ("coroutine", "async def f():\n    pass"),
    ("coroutine frame attribute", "c = f.cr_frame"),
    ("function globals", "f = lambda: 0\ng = f.__globals__"),
    ("lambda default", "v = (lambda x=len: x)()"),
    ("decorator", "@notify\ndef f():\n    pass"),
    ("class body", "class A:\n    pass"),
    ("str.format field walk", "s = '{0.__class__.__base__}'.format(1)"),
    ("format_map field walk", "s = '{x.__class__}'.format_map({'x': 1})"),
    ("computed getattr", "c = getattr(1, '__cla' + 'ss__')"),
    ("vars()", "v = vars()"),
    ("dir()", "d = dir()"),
    ("globals()", "g = globals()"),
    ("locals()", "g = locals()"),
    ("eval", "v = eval('1')"),
    ("exec", "exec('x = 1')"),
    ("compile", "c = compile('1', 'f', 'eval')"),
    ("open", "f = open('/etc/passwd')"),
    ("traceback frame", "try:\n    1 / 0\nexcept Exception as e:\n    t = e.__traceback__"),
    ("exception attributes", "try:\n    x = 1\nexcept Exception as e:\n    a = e.args"),
    ("raise", "raise SystemExit"),
    ("type()", "t = type(1)"),
    ("type() making a class", "t = type('X', (), {})"),
    ("object", "o = object"),
    ("super()", "s = super()"),
    ("setattr", "setattr(x, 'a', 1)"),
    ("delattr", "delattr(x, 'a')"),
    ("with statement", "with x:\n    pass"),
    ("global", "global x\nx = 1"),
    ("walrus", "y = (z := 1)"),
    ("registered function attribute", "g = notify.__globals__"),
    ("f-string attribute walk", "s = f'{notify.__globals__}'"),
    ("f-string computed format spec", "s = f'{1:{spec}}'"),
    ("bytes literal", "b = b'x'"),
    ("builtins dict", "o = __builtins__['open']"),
    ("breakpoint", "breakpoint()"),
    ("help", "help(1)"),
    ("input", "x = input()"),
    ("exit", "exit()"),
    ("memoryview", "m = memoryview(bytearray(1))"),
    ("while loop", "while True:\n    pass"),
    ("match statement", "match x:\n    case 1:\n        pass"),
    ("assigning an attribute", "x.get = 1"),
    ("calling a computed value", "y = [len][0]('a')"),
    ("star unpacking", "notify(*args)"),
    ("yield", "x = yield 1"),
    ("assert", "assert False"),
    ("name starting with underscore", "_x = 1"),
    ("dunder name", "v = __name__"),
]


@pytest.mark.parametrize(("technique", "source"), ESCAPES, ids=[t for t, _ in ESCAPES])
def test_escape_is_refused_at_validate_time(technique, source):
    assert len(ESCAPES) >= 25
    with pytest.raises((ScriptPolicyError, SyntaxError)):
        compile_checked(source, "exec")


@pytest.mark.parametrize(
    "source",
    ["import os", "g = (x for x in [1])\nb = g.gi_frame", "s = '{0.__class__}'.format(1)"],
)
def test_worker_refuses_what_bypasses_the_validator(source):
    # Even a caller that skips compile_checked gets nothing past the worker's own check.
    with pytest.raises(ScriptPolicyError):
        pool_for(SandboxLimits()).run("exec", source, {}, {})


def test_scripts_see_only_data_and_registered_functions():
    calls = []
    env = script_engine({"notify": lambda to, kind, text: calls.append((to, kind, text))})
    data = {"unit_org_id": "u1", "name": "张三", "level": 0, "chain": ["a"]}
    env.environment.execute(
        'level = level + 1\nchain.append("b")\nnotify(unit_org_id, "k", name + "好")\ndel name',
        data,
    )
    assert data == {"unit_org_id": "u1", "level": 1, "chain": ["a", "b"]}
    assert calls == [("u1", "k", "张三好")]
    assert env.environment.evaluate("level + 1 <= len(chain)", data) is True


def test_worker_holds_no_server_secrets():
    os.environ["ZHIPING_SECRET_PROBE"] = "s3cret"
    try:
        # The worker starts with an empty environment and no project code; the only way in
        # is task data, so an allowed expression can only echo what it was given.
        env = script_engine({}).environment
        assert env.evaluate("sorted(x.keys())", {"x": {"a": 1}}) == ["a"]
        with pytest.raises(NameError):
            env.evaluate("ZHIPING_SECRET_PROBE", {})
    finally:
        del os.environ["ZHIPING_SECRET_PROBE"]


def test_error_in_a_registered_function_reaches_the_caller_unchanged():
    class Refused(ValueError):
        pass

    def office_of(chain):
        raise Refused("unknown organisation 'x'")

    env = script_engine({"office_of": office_of}).environment
    with pytest.raises(Refused, match="unknown organisation"):
        env.execute("o = office_of(chain)", {"chain": []})


@pytest.mark.parametrize(
    ("source", "kind"),
    [
        ("n = 9 ** 9 ** 9", "time"),
        ("for i in range(10 ** 12):\n    pass", "time"),
        ("s = 'a' * 2 ** 31", "memory"),
        ("big = [0] * (10 ** 9)", "memory"),
    ],
)
def test_runaway_script_is_stopped_and_the_next_one_runs(source, kind):
    limits = SandboxLimits(seconds=0.5, memory_mb=64)
    env = script_engine({}, limits).environment
    with pytest.raises(ScriptLimitExceeded) as caught:
        env.execute(source, {})
    assert caught.value.kind == kind
    assert ("时间限制" if kind == "time" else "内存") in str(caught.value)
    assert env.evaluate("1 + 1", {}) == 2


def test_results_that_are_not_task_data_are_refused():
    env = script_engine({}).environment
    with pytest.raises(ValueError):
        env.execute("x = float('nan')", {})
    with pytest.raises(TypeError):
        env.execute("x = {1, 2}", {})
