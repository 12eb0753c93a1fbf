"""One place that hands out a deployed version's designer files: forms, the dossier's form,
the eligibility rules and the committee catalogue, keyed by (process version, file name).

A version stores the forms its user tasks name (ADR 0006) and, since ADR 0015, the designer
files every process shares (``SHARED_FILES``). Completion, task pages, the dossier and the
rules all read through here, so after an upload-deploy they use the deployed files. A version
stored before it kept the shared files, or a request outside any instance when nothing is
deployed, falls back to bpmn/ on disk.
"""

from __future__ import annotations

import json
from collections import ChainMap
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol

from engine import committees, forms
from engine.review_rules import EXPERT_REVIEW_RULES, ReviewRules, parse_rules

DOSSIER_FORM = "dossier.schema.json"
DOSSIER_UI = "dossier.ui.json"
ELIGIBILITY_RULES = "eligibility.json"
COMMITTEE_CATALOGUE = "committees.json"
# Designer files not named by any user task that every version carries.
SHARED_FILES = (
    DOSSIER_FORM,
    DOSSIER_UI,
    ELIGIBILITY_RULES,
    COMMITTEE_CATALOGUE,
    EXPERT_REVIEW_RULES,
)
RULES_FILES = (ELIGIBILITY_RULES, COMMITTEE_CATALOGUE, EXPERT_REVIEW_RULES)
# Requests outside any instance (the dossier page, filing, GET /committees) use the shared files
# of this process's current version: the one an application files into.
SHARED_FILES_PROCESS = "title_application"


class Version(Protocol):
    id: int
    forms: dict[str, Any]


def disk_files(bpmn_dir: Path) -> dict[str, str]:
    """Texts of bpmn/forms/*.json and the rules files, by file name (for deploys that do not
    upload them, and versions stored without them)."""
    out: dict[str, str] = {}
    forms_dir = bpmn_dir / "forms"
    if forms_dir.is_dir():
        out.update(
            {p.name: p.read_text(encoding="utf-8") for p in sorted(forms_dir.glob("*.json"))}
        )
    for name in RULES_FILES:
        path = bpmn_dir / "rules" / name
        if path.is_file():
            out[name] = path.read_text(encoding="utf-8")
    return out


def shared_files(texts: Mapping[str, str]) -> dict[str, str]:
    """The shared designer files among these texts (by file name), stored with each version."""
    return {name: texts[name] for name in SHARED_FILES if name in texts}


def shared_file_problem(name: str, text: str) -> str | None:
    """Why a shared designer file would break the engine, or None."""
    if name == DOSSIER_FORM:
        return forms.schema_problem(text)
    doc, problem = forms.json_object(text, name)
    if problem:
        return problem
    if name == COMMITTEE_CATALOGUE:
        try:
            committees.parse_catalogue(doc)
        except ValueError as exc:
            return f"不是有效的评委会目录：{exc}"
    if name == EXPERT_REVIEW_RULES:
        try:
            parse_rules(doc)
        except ValueError as exc:
            return f"评审规则无效：{exc}"
    return None


class FormResolver:
    """A version's designer files by name, parsed once per version."""

    def __init__(self, bpmn_dir: Path) -> None:
        self.bpmn_dir = bpmn_dir
        self._disk: dict[str, Any] | None = None
        self._catalogues: dict[int | None, committees.Catalogue] = {}

    def _from_disk(self) -> Mapping[str, Any]:
        if self._disk is None:
            self._disk = {k: json.loads(v) for k, v in disk_files(self.bpmn_dir).items()}
        return self._disk

    def file(self, version: Version | None, name: str) -> Any | None:
        """A parsed file of the version (of bpmn/ when the version does not carry it)."""
        if version is not None and name in version.forms:
            return version.forms[name]
        return self._from_disk().get(name)

    def files_of(self, version: Version | None) -> Mapping[str, Any]:
        """Every parsed file of the version, bpmn/'s where the version carries none."""
        own = version.forms if version is not None else {}
        return ChainMap(own, self._from_disk())  # type: ignore[arg-type]

    def form(self, version: Version | None, name: str) -> tuple[dict[str, Any], dict[str, Any]]:
        """A form's JSON Schema and UI schema (``name`` without suffix, e.g. "dossier")."""
        schema = self.file(version, f"{name}.schema.json") or {}
        ui = self.file(version, f"{name}.ui.json") or {}
        return schema, ui

    def eligibility_rules(self, version: Version | None) -> dict[str, Any]:
        """The designers' eligibility thresholds (bpmn/rules/eligibility.json)."""
        return self.file(version, ELIGIBILITY_RULES) or {}

    def review_rules(self, version: Version | None) -> ReviewRules:
        """The committee's review rules (bpmn/rules/expert_review.json)."""
        return parse_rules(self.file(version, EXPERT_REVIEW_RULES))

    def committees(self, version: Version | None) -> committees.Catalogue:
        """The designers' committee catalogue (bpmn/rules/committees.json)."""
        key = version.id if version is not None and COMMITTEE_CATALOGUE in version.forms else None
        if key not in self._catalogues:
            doc = self.file(version, COMMITTEE_CATALOGUE)
            self._catalogues[key] = (
                committees.parse_catalogue(doc) if doc else committees.Catalogue([])
            )
        return self._catalogues[key]
