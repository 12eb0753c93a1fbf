"""The engine's services run with no Flask app at all: a plain SQLAlchemy engine, the real
diagrams deployed, and an application driven from filing through several review levels."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, text

from engine import (
    Accounts,
    Actor,
    Applicants,
    Applications,
    Cycles,
    Deployments,
    DesignerFiles,
    Dossiers,
    FileStore,
    ManualClock,
    PasswordHasher,
    ProcessRuntime,
    Tasks,
    Units,
)
from engine.read_models import DesignerForms
from storage import AuditEvent, Base, open_database, session_factory, unit_of_work_factory
from tests import flows
from tests.conftest import FIXTURES, START
from tests.helpers import PASSWORDS

BPMN_DIR = Path(__file__).resolve().parents[2] / "bpmn"


class Services:
    """The services a review needs, wired by hand the way create_app wires them."""

    def __init__(self, url: str, files_dir: Path) -> None:
        self.db = open_database(url)
        uow = unit_of_work_factory(session_factory(self.db))
        self.uow = uow
        clock = ManualClock(START)
        hasher = PasswordHasher(2**8)
        files = DesignerFiles(BPMN_DIR)
        runtime = ProcessRuntime(files, clock=clock)
        store = FileStore(files_dir, max_bytes=10 * 2**20, max_pages=50)
        self.deployments = Deployments(uow, runtime, files, clock=clock)
        self.accounts = Accounts(uow, clock, timedelta(hours=1), hasher=hasher)
        self.units = Units(uow, runtime, store, clock=clock, hasher=hasher)
        self.applicants = Applicants(uow, clock=clock, hasher=hasher)
        self.dossiers = Dossiers(uow, runtime, files, clock=clock)
        self.applications = Applications(uow, runtime, files, clock=clock)
        self.tasks = Tasks(uow, runtime, files, clock=clock)
        committees = DesignerForms(uow, runtime, files).current_committees
        self.cycles = Cycles(uow, committees=committees, clock=clock)

    def empty(self) -> None:
        tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
        with self.uow() as uow:
            if self.db.dialect.name == "postgresql":
                uow.session.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
            else:
                for name in tables:
                    uow.session.execute(text(f"DELETE FROM {name}"))
            uow.commit()

    def who(self, username: str) -> Actor:
        actor = self.accounts.login(username, PASSWORDS[username])
        assert actor is not None, username
        return actor

    def only_task(self, username: str, name: str, application: str | None = None) -> str:
        items, total = self.tasks.list_tasks(self.who(username), name=name, application=application)
        assert total == 1, (username, name, items)
        return items[0].id

    def complete(self, username: str, name: str, application: str | None = None, **data: Any):
        task_id = self.only_task(username, name, application)
        return self.tasks.complete(task_id, data, actor=self.who(username))


@pytest.fixture
def services(database_url: str, tmp_path: Path) -> Iterator[Services]:
    svc = Services(database_url, tmp_path / "files")
    svc.empty()
    yield svc
    svc.db.dispose()


def test_a_review_runs_through_the_services_without_flask(services: Services) -> None:
    # No Flask app exists here, let alone an app context: every verb opens its own session.
    created = services.deployments.deploy_directory(actor="tests")
    assert {r["process_id"] for r in created} >= {"title_application", "dossier_review"}
    services.accounts.load_orgs(json.loads((FIXTURES / "orgs.json").read_text()))
    # The committee's office opens the year's cycle: filing needs one.
    window = {"year": 2026, "opens_on": "2026-11-01", "closes_on": "2026-12-31"}
    services.cycles.open_cycle("nb-water-mid", window, services.who("nb_office_1"))

    # A unit registers and the platform approves its entrustment.
    unit_user = "unit_nf"
    PASSWORDS[unit_user] = "unit-Pass-nf1"
    unit = services.units.register_unit(
        {
            "name": "宁波无框架水利设计院",
            "credit_code": flows.credit_code(990),
            "dept_org_id": "yz-water",
            "contact": "联系人",
            "phone": "0574-87654321",
            "username": unit_user,
            "password": PASSWORDS[unit_user],
        }
    )
    services.units.upload_entrustment(
        unit["unit_id"], flows.pdf_bytes(), "委托证明.pdf", services.who(unit_user)
    )
    services.complete("platform_1", "review_entrustment", decision="approve", opinion="齐全")

    # An applicant registers; the unit approves the dossier.
    person = "appl_nf"
    PASSWORDS[person] = "appl-Pass-nf1"
    services.applicants.register_applicant(
        {
            "name": "王五",
            "id_number": flows.id_number(990),
            "phone": "13800138000",
            "unit_id": unit["unit_id"],
            "username": person,
            "password": PASSWORDS[person],
        }
    )
    services.dossiers.put_dossier(flows.DOSSIER, services.who(person))
    services.dossiers.submit_dossier(services.who(person))
    services.complete(unit_user, "review_dossier", decision="approve", opinion="档案属实")

    # The application: filed, submitted, approved by the unit and three review levels.
    filed = services.applications.create(
        {"series": "工程", "level": "中级", "specialty": "水利工程"}, services.who(person)
    )
    app_id = filed["application_id"]
    services.complete(person, "submit_application", app_id, **flows.APPLICATION_FORM)
    services.complete(
        unit_user,
        "unit_review",
        app_id,
        decision="approve",
        opinion="同意报送",
        **flows.CHECKS,
        **flows.PAST_WINDOW,
    )
    for org in flows.CHAIN[:3]:
        reviewer = flows.REVIEWERS[org]
        services.complete(
            reviewer, "level_review", app_id, decision="approve", opinion="同意", **flows.CHECKS
        )
        result = services.complete(reviewer, "recommend", app_id, note="同意推荐")
        assert result.status == "running"

    detail = services.applications.get(app_id, services.who(person))
    assert detail.summary.status == "in_review"
    assert [t.name for t in detail.current_tasks] == ["level_review"]
    with services.uow() as uow:
        actions = uow.session.scalars(
            select(AuditEvent.action).where(AuditEvent.application_id == int(app_id))
        ).all()
    assert actions.count("approve") == 4 and actions.count("recommend") == 3
