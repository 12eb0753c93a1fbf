"""Designer-owned files under the bpmn directory: rules, committees and form schemas.

Each file is read once per ``DesignerFiles`` object (one per app), never into class state.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from engine import committees, eligibility
from engine.persist import DeployedSpec


class DesignerFiles:
    """The rules, committee catalogue and forms that live beside the diagrams."""

    def __init__(self, bpmn_dir: Path) -> None:
        self.bpmn_dir = bpmn_dir
        self._rules: dict[str, Any] | None = None
        self._committees: committees.Catalogue | None = None
        self._dossier_form: dict[str, Any] | None = None

    def eligibility_rules(self) -> dict[str, Any]:
        """Designer-owned thresholds from bpmn/rules/eligibility.json (read once)."""
        if self._rules is None:
            self._rules = eligibility.load_rules(self.bpmn_dir)
        return self._rules

    def committees(self) -> committees.Catalogue:
        """The designers' committee catalogue, bpmn/rules/committees.json (read once)."""
        if self._committees is None:
            self._committees = committees.load_catalogue(self.bpmn_dir)
        return self._committees

    def committees_listing(self) -> list[dict[str, Any]]:
        """GET /committees: every committee of the catalogue."""
        return [c.public() for c in self.committees().committees]

    def dossier_form(self) -> dict[str, Any]:
        """The dossier's JSON Schema from bpmn/forms (read once), for labelling items."""
        if self._dossier_form is None:
            path = self.bpmn_dir / "forms" / "dossier.schema.json"
            self._dossier_form = json.loads(path.read_text(encoding="utf-8"))
        return self._dossier_form

    @staticmethod
    def submission_form(deployed: DeployedSpec) -> dict[str, Any] | None:
        """The applicant's form of a process: its prefilled user task's schema, if any."""
        for meta in deployed.loaded.user_tasks.values():
            if meta.prefill and meta.form:
                return deployed.forms.get(meta.form)
        return None

    def fallback_forms(self) -> dict[str, str]:
        """Form files of the bpmn directory, used when an upload does not carry them."""
        forms_dir = self.bpmn_dir / "forms"
        if not forms_dir.is_dir():
            return {}
        return {p.name: p.read_text(encoding="utf-8") for p in sorted(forms_dir.glob("*.json"))}
