"""Designer-owned files of a deployed version: forms, the dossier form, rules, committees.

A thin layer over ``FormResolver`` (engine/form_resolver.py): every read names the version
whose files apply, so an upload-deploy's files are what completion, pages and rules use.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from engine import committees
from engine.form_resolver import FormResolver, Version, disk_files
from engine.persist import DeployedSpec
from engine.review_rules import ReviewRules


class DesignerFiles:
    """The rules, committee catalogue and forms a version carries (bpmn/ as fallback)."""

    def __init__(self, bpmn_dir: Path) -> None:
        self.bpmn_dir = bpmn_dir
        self.resolver = FormResolver(bpmn_dir)

    def eligibility_rules(self, version: Version | None) -> dict[str, Any]:
        """A version's eligibility thresholds (bpmn/rules/eligibility.json)."""
        return self.resolver.eligibility_rules(version)

    def committees(self, version: Version | None) -> committees.Catalogue:
        """A version's committee catalogue (bpmn/rules/committees.json)."""
        return self.resolver.committees(version)

    def review_rules(self, version: Version | None) -> ReviewRules:
        """A version's committee review rules (bpmn/rules/expert_review.json)."""
        return self.resolver.review_rules(version)

    def dossier_form(self, version: Version | None) -> dict[str, Any]:
        """A version's dossier JSON Schema, for labelling items."""
        return self.resolver.form(version, "dossier")[0]

    def form(self, version: Version | None, name: str) -> tuple[dict[str, Any], dict[str, Any]]:
        """A form's JSON Schema and UI schema (``name`` without suffix)."""
        return self.resolver.form(version, name)

    def files_of(self, version: Version | None) -> Mapping[str, Any]:
        """Every parsed designer file of a version, by file name."""
        return self.resolver.files_of(version)

    @staticmethod
    def submission_form(deployed: DeployedSpec) -> dict[str, Any] | None:
        """The applicant's form of a process: its prefilled user task's schema, if any."""
        for meta in deployed.loaded.user_tasks.values():
            if meta.prefill and meta.form:
                return deployed.forms.get(meta.form)
        return None

    def fallback_forms(self) -> dict[str, str]:
        """Form and rules files of the bpmn directory, used when an upload does not carry them."""
        return disk_files(self.bpmn_dir)
