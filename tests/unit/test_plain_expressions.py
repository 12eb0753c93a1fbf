"""Expressions over task data only are evaluated in process with Python's own meaning; the
rest, and every failure, goes to the sandbox (engine/plain_expressions.py)."""

from __future__ import annotations

import pytest

from engine import scripts
from engine.plain_expressions import NOT_PLAIN, evaluate_plain, execute_plain

DATA = {
    "decision": "approve",
    "return_count": 0,
    "ballot_experts": [5, 6, 7],
    "ballot_index": 1,
    "chain": ["yz-water", "nb-hrss"],
    "level_org": "nb-hrss",
    "dossier": {"years": 6, "tags": ["a"]},
    "flag": None,
}

PLAIN = [
    '"unit_review"',
    '"returned" if return_count else "draft"',
    "ballot_experts[ballot_index]",
    'decision == "approve"',
    'decision != "approve" or return_count >= 2',
    "not return_count and decision",
    "level_org in chain",
    "level_org not in chain",
    "flag is None",
    "flag is not None and flag",
    'dossier["years"] >= 5',
    '0 < dossier["years"] <= 10',
    "chain[1]",
    "dossier",
    "3",
    "None",
]


@pytest.mark.parametrize("source", PLAIN)
def test_a_plain_expression_means_what_python_means(source):
    assert evaluate_plain(source, DATA) == eval(source, {}, dict(DATA))


@pytest.mark.parametrize(
    "source",
    [
        "len(chain)",  # a call
        "return_count + 1",  # arithmetic
        "missing_name",  # not in the data: the sandbox says NameError
        "[x for x in chain]",  # builds and loops
        "chain[0:1]",  # a slice
        "decision < 3",  # a TypeError: the sandbox reports it
        'dossier["nope"]',  # a KeyError: likewise
        "decision.upper()",  # an attribute
        "-return_count",
    ],
)
def test_anything_else_goes_to_the_sandbox(source):
    assert evaluate_plain(source, DATA) is NOT_PLAIN


def test_short_circuits_like_python():
    assert evaluate_plain("return_count and missing_name", DATA) == 0
    assert evaluate_plain("decision or missing_name", DATA) == "approve"
    assert evaluate_plain('"a" if decision else missing_name', DATA) == "a"


def test_the_answer_is_a_copy():
    value = evaluate_plain("dossier", DATA)
    value["tags"].append("b")
    assert DATA["dossier"]["tags"] == ["a"]


def test_plain_expressions_never_reach_the_worker_and_others_do(monkeypatch):
    calls = []

    class Pool:
        def run(self, mode, source, data, functions):
            calls.append(source)
            return {"value": "from the worker"}

    monkeypatch.setattr(scripts, "pool_for", lambda limits: Pool())
    env = scripts.RestrictedEnvironment({})
    assert env.evaluate('"returned" if return_count else "draft"', dict(DATA)) == "draft"
    assert calls == []
    assert env.evaluate("len(chain)", dict(DATA)) == "from the worker"
    assert calls == ["len(chain)"]


def test_the_allow_list_still_runs_first():
    env = scripts.RestrictedEnvironment({})
    with pytest.raises(scripts.ScriptPolicyError):
        env.evaluate("__import__", {"__import__": 1})


PLAIN_SCRIPTS = [
    "return_count = 0",
    'outcome = "withdrawn"\ndecision = None',
    "level_org = chain[ballot_index]\ndecision = None",
    'late = dossier["years"] > 5\nlabel = "late" if late else "on time"',  # reads the one before
    "copy = dossier",
]


@pytest.mark.parametrize("source", PLAIN_SCRIPTS)
def test_a_script_of_plain_assignments_means_what_python_means(source):
    expected = dict(DATA)
    exec(source, {}, expected)
    assert {**DATA, **execute_plain(source, DATA)} == expected


@pytest.mark.parametrize(
    "source",
    [
        'notify(chain, "x")',  # a call
        "return_count += 1",  # arithmetic
        "a, b = chain",  # unpacking
        'dossier["years"] = 1',  # changes a value in place
        "a = b = 1",  # two targets
        "decision",  # a bare expression
        "a = 1\nb = missing_name",  # the sandbox says NameError, and sets no a either
        "",  # nothing to run
    ],
)
def test_any_other_script_goes_to_the_sandbox_whole(source):
    assert execute_plain(source, DATA) is NOT_PLAIN


def test_a_plain_script_sets_copies_and_leaves_the_data_alone():
    data = dict(DATA)
    assigned = execute_plain("copy = dossier", data)
    assigned["copy"]["tags"].append("b")
    assert data == DATA and DATA["dossier"]["tags"] == ["a"]


def test_plain_scripts_never_reach_the_worker_and_others_do(monkeypatch):
    calls = []

    class Pool:
        def run(self, mode, source, data, functions):
            calls.append(source)
            return {"changed": {"sent": True}, "removed": []}

    monkeypatch.setattr(scripts, "pool_for", lambda limits: Pool())
    env = scripts.RestrictedEnvironment({})
    context = dict(DATA)
    env.execute("level_org = chain[0]\ndecision = None", context)
    assert calls == [] and context == {**DATA, "level_org": "yz-water", "decision": None}
    env.execute("sent = len(chain) > 1", context)
    assert calls == ["sent = len(chain) > 1"] and context["sent"] is True
