"""The committee's review rules (bpmn/rules/expert_review.json), owned by the designers.

National rules (DOMAIN.md §8): a session votes only when at least two thirds of its panel are
present, and an application passes when its 同意 votes reach two thirds of the experts present.
The fractions, the smallest panel and the results publicity's working days live in the rules
file, so a committee changes them by deploying, not in Python.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

EXPERT_REVIEW_RULES = "expert_review.json"


@dataclass(frozen=True)
class ReviewRules:
    """Panel size, quorum and pass thresholds, and the results publicity's length."""

    min_panel_size: int = 5
    quorum: Fraction = Fraction(2, 3)
    pass_share: Fraction = Fraction(2, 3)
    result_publicity_workdays: int = 5

    def quorum_met(self, panel: int, present: int) -> bool:
        """Whether ``present`` of a ``panel`` may vote (present / panel >= quorum)."""
        return panel > 0 and Fraction(present, panel) >= self.quorum

    def least_present(self, panel: int) -> int:
        """The fewest experts present with whom a panel of this size may vote."""
        return next(n for n in range(panel + 1) if self.quorum_met(panel, n))

    def passed(self, agree: int, present: int) -> bool:
        """Whether ``agree`` 同意 votes of ``present`` voting experts pass (agree / present >= share)."""
        return present > 0 and Fraction(agree, present) >= self.pass_share


def _fraction(value: Any, name: str) -> Fraction:
    if (
        not isinstance(value, list)
        or len(value) != 2
        or not all(isinstance(v, int) and not isinstance(v, bool) for v in value)
    ):
        raise ValueError(f"{name} 须为 [分子, 分母]")
    num, den = value
    if den <= 0 or not 0 < num <= den:
        raise ValueError(f"{name} 须为大于 0、不大于 1 的分数")
    return Fraction(num, den)


def _positive(doc: Mapping[str, Any], name: str, default: int) -> int:
    value = doc.get(name, default)
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 1000:
        raise ValueError(f"{name} 须为 1 至 1000 的整数")
    return value


def parse_rules(doc: Mapping[str, Any] | None) -> ReviewRules:
    """The rules of a parsed rules file (defaults where a key is missing); ValueError if bad."""
    if not doc:
        return ReviewRules()
    if not isinstance(doc, Mapping):
        raise ValueError("评审规则须为 JSON 对象")
    defaults = ReviewRules()
    return ReviewRules(
        min_panel_size=_positive(doc, "min_panel_size", defaults.min_panel_size),
        quorum=_fraction(doc.get("quorum", [2, 3]), "quorum"),
        pass_share=_fraction(doc.get("pass", [2, 3]), "pass"),
        result_publicity_workdays=_positive(
            doc, "result_publicity_workdays", defaults.result_publicity_workdays
        ),
    )
