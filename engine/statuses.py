"""Which statuses end an application or an instance; every other status is open.

A diagram names an application's statuses (ADR 0002): each user task and waiting timer
carries a ``status`` expression. The engine knows only the ends, so a status that only a
diagram names (``expert_review``) is open: it holds the one open application an applicant
may have, and pages show it by the name of the diagram element that set it.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable
from typing import Any

from sqlalchemy import ColumnElement

from storage import Application, ProcessInstance

# Where an application ends: the outcomes of a finished diagram, an operator's terminate, and
# the committee stage's results (API.md).
TERMINAL_APPLICATION_STATUSES = frozenset(
    {"rejected", "completed", "terminated", "withdrawn", "certified", "not_passed"}
)
# The applicant holds the form: nothing is submitted (nothing to publicise yet).
EDITING_STATUSES = frozenset({"draft", "returned"})
# The qualification review is over and the review form (评审表) can be exported: for the paper
# copies, and for the committee's session and its results afterwards.
EXPORTABLE_STATUSES = frozenset(
    {"awaiting_paper", "completed", "expert_review", "result_publicity", "certified", "not_passed"}
)
# The statuses the engine's own diagrams and verbs name (API.md); list filters accept these.
APPLICATION_STATUSES = (
    "draft",
    "unit_review",
    "publicity",
    "in_review",
    "returned",
    "awaiting_payment",
    "awaiting_paper",
    "rejected",
    "completed",
    "terminated",
    "withdrawn",
    "expert_review",
    "result_publicity",
    "certified",
    "not_passed",
)

TERMINAL_INSTANCE_STATUSES = frozenset({"completed", "terminated"})
INSTANCE_STATUSES = ("running", "waiting", "error", "suspended", "completed", "terminated")


def is_open(status: str | None) -> bool:
    """Whether an application in this status is still in progress."""
    return status not in TERMINAL_APPLICATION_STATUSES


def open_applications() -> ColumnElement[bool]:
    """SQL condition on ``Application``: still in progress."""
    return Application.status.not_in(TERMINAL_APPLICATION_STATUSES)


def has_public_version(status: str) -> bool:
    """Whether the 公示版 exists: submitted to the unit, and not ended short of completion."""
    return status not in EDITING_STATUSES and (is_open(status) or status == "completed")


def is_live_instance(status: str | None) -> bool:
    """Whether an instance may still move (running, waiting, error or suspended)."""
    return status not in TERMINAL_INSTANCE_STATUSES


def live_instances() -> ColumnElement[bool]:
    """SQL condition on ``ProcessInstance``: not completed or terminated."""
    return ProcessInstance.status.not_in(TERMINAL_INSTANCE_STATUSES)


def named_statuses(expression: str | None) -> list[str]:
    """The literal status names a status expression can yield (``"a" if x else "b"``)."""
    if not expression:
        return []
    try:
        tree = ast.parse(expression, mode="eval")
    except SyntaxError:
        return []
    return [
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
    ]


def status_titles(user_tasks: Iterable[Any]) -> dict[str, str]:
    """Status name -> the name of the user task that sets it (objects with ``status_expr``
    and ``title``, e.g. the user tasks of one deployed process)."""
    out: dict[str, str] = {}
    for meta in user_tasks:
        for status in named_statuses(meta.status_expr):
            out.setdefault(status, meta.title)
    return out
