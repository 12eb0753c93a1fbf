"""What a person needs beside a task's form: the application, dossier, attachments, history."""

from __future__ import annotations

from typing import Any

from engine import Actor, TaskDetail
from web.answers import application_detail_json
from web.blueprints._page_common import (
    applications,
    designer_forms,
    directory,
    org_names_of,
    profiles,
)
from web.formrender import build_fields, file_ids

# Task data keys the engine puts on every title application (see Applications.create).
SUBMISSION_FORM = "submit_application"


def task_context(detail: TaskDetail, actor: Actor) -> dict[str, Any]:
    """Facts shown above a task form; every piece is optional."""
    data = detail.context
    out: dict[str, Any] = {"application": None, "orgs": {}, "unit": None}
    if detail.summary.application_id:
        found = applications().get(detail.summary.application_id, actor)
        out["application"] = application_detail_json(found)
        out["orgs"] = org_names_of(out["application"])
    ids: list[str] = file_ids(detail.form, detail.data)
    instance = detail.summary.instance_id
    out["dossier_fields"], found = _section("dossier", data.get("dossier"), instance)
    ids += found
    submitted = data if detail.summary.name != SUBMISSION_FORM else None
    out["submitted_fields"], found = _section(SUBMISSION_FORM, submitted, instance)
    ids += found
    if detail.summary.process == "unit_registration" and data.get("unit_org_id"):
        out["unit"] = profiles().unit_profile(str(data["unit_org_id"]))
        out["entrustment_file_id"] = data.get("entrustment_file_id")
        ids.append(str(data.get("entrustment_file_id") or ""))
    out["applicant_name"] = data.get("applicant_name")
    out["hints"] = data.get("hints") if isinstance(data.get("hints"), list) else []
    out["files"] = directory().files(ids)
    return out


def _section(form: str, values: Any, instance_id: str) -> tuple[list | None, list[str]]:
    """Read-only fields of a form (as the instance's version has it) filled with values, and
    the file ids they hold."""
    if not isinstance(values, dict):
        return None, []
    schema, ui = designer_forms().form(form, instance_id)
    if not any(k in values for k in schema.get("properties") or {}):
        return None, []
    return build_fields(schema, ui, values, {}), file_ids(schema, values)
