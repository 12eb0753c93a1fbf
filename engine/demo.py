"""Demo data: a Ningbo-like org tree, accounts for every role, applications at several stages.

Built only through the public services, exactly as people would do it through the API.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from engine import eligibility
from engine.accounts import Accounts
from engine.applications import Applications
from engine.clock import CHINA_TZ
from engine.cycles import Cycles
from engine.demo_committee import EXPERTS, CommitteeDemo, expert_users
from engine.deployments import Deployments
from engine.dossiers import Dossiers
from engine.errors import EngineError
from engine.identity import credit_code_check_char, id_check_char
from engine.onboarding import Applicants, Units
from engine.tasks import Tasks
from engine.views import Actor
from engine.workdays import WorkCalendar

ORGS = [
    {"id": "platform", "name": "平台管理", "kind": "platform", "parent": None},
    {"id": "nb-hrss", "name": "宁波市人力资源和社会保障局", "kind": "hrss", "parent": None},
    {
        "id": "nb-office",
        "name": "宁波市水利工程中级评委会办公室",
        "kind": "office",
        "parent": "nb-hrss",
    },
    {"id": "nb-water", "name": "宁波市水利局", "kind": "dept", "parent": "nb-office"},
    {"id": "yz-hrss", "name": "鄞州区人力社保局", "kind": "hrss", "parent": "nb-water"},
    {"id": "yz-water", "name": "鄞州区农业农村局(水利)", "kind": "dept", "parent": "yz-hrss"},
    {"id": "bl-hrss", "name": "北仑区人力社保局", "kind": "hrss", "parent": "nb-water"},
    {"id": "bl-water", "name": "北仑区水利局", "kind": "dept", "parent": "bl-hrss"},
]
STAFF = [
    ("admin", "admin", "platform", "平台管理员"),
    ("designer", "designer", "platform", "流程设计员"),
    ("platform", "platform", "platform", "平台审核员"),
    ("yz_water", "dept", "yz-water", "鄞州水利审核员"),
    ("yz_hrss", "hrss", "yz-hrss", "鄞州人社审核员"),
    ("bl_water", "dept", "bl-water", "北仑水利审核员"),
    ("bl_hrss", "hrss", "bl-hrss", "北仑人社审核员"),
    ("nb_water", "dept", "nb-water", "宁波水利局审核员"),
    ("nb_office", "office", "nb-office", "评委会办公室"),
    ("nb_hrss", "hrss", "nb-hrss", "宁波人社审核员"),
]
PASSWORD = "Demo-2026"
DOSSIER = {
    "gender": "男",
    "birth_date": "1988-05-12",
    "work_start_date": "2010-07-01",
    "highest_education": "本科",
    "education": [
        {"school": "河海大学", "major": "水利水电工程", "degree": "本科", "graduated": "2010-06-30"}
    ],
    "current_title": {
        "series": "工程",
        "name": "助理工程师",
        "obtained": "2015-12-01",
        "appointed_post": "助理工程师",
        "appointed_since": "2016-01-01",
    },
    "work_history": [
        {
            "start": "2010-07-01",
            "end": "2026-11-01",
            "unit": "宁波甬江水利设计院",
            "post": "设计员",
            "work": "水库除险加固、海塘提标设计",
        }
    ],
    "appraisals": [{"year": y, "grade": "合格"} for y in range(2021, 2026)],
    "continuing_education": [
        {"year": y, "public_hours": 30, "professional_hours": 64} for y in range(2021, 2026)
    ],
    "summary": "从事水利工程设计工作十余年，主持完成多项中小型水库除险加固设计。",
}
PEOPLE = [
    ("陈明", "unit_review"),
    ("林芳", "level_2"),
    ("王磊", "awaiting_payment"),
    ("赵静", "publicity"),
    ("周涛", "certified"),
    ("郑华", "expert_review"),
    ("吴敏", "draft"),
]
STAGE_LABELS = {
    "unit_review": "待单位审查",
    "level_2": "鄞州区人社待审查",
    "awaiting_payment": "待缴费确认",
    "publicity": "公示中",
    "certified": "评审通过，已颁发证书",
    "expert_review": "待评委会评审",
    "draft": "档案已通过、尚未申报",
}


def _credit_code(n: int) -> str:
    head = f"91330212MA2DEMO{n:02d}".replace("O", "0")
    return head + credit_code_check_char(head)


def _id_number(n: int) -> str:
    head = f"33020419880{n % 9 + 1}1{n % 9}{n:03d}"[:17]
    return head + id_check_char(head)


# The four eligibility checks an approval confirms (资历, 年度考核, 继续教育, 评聘结合).
CHECKS = dict.fromkeys(eligibility.APPROVAL_CHECKS, True)


class DemoLoader:
    """Loads the demo once; a second run notices and only prints the logins."""

    def __init__(
        self,
        tasks: Tasks,
        deployments: Deployments,
        accounts: Accounts,
        units: Units,
        applicants: Applicants,
        dossiers: Dossiers,
        applications: Applications,
        pdf: Callable[[], bytes],
        *,
        cycles: Cycles,
        committee: CommitteeDemo | None = None,
    ) -> None:
        self.tasks, self.deployments, self.accounts = tasks, deployments, accounts
        self.clock = tasks.clock
        self.units, self.applicants, self.dossiers = units, applicants, dossiers
        self.applications = applications
        self.pdf = pdf
        self.cycles = cycles
        self.committee = committee
        self.calendar = WorkCalendar()

    def login_as(self, username: str) -> Actor:
        """A demo account signed in (the demo password)."""
        return self._as(username)

    def _as(self, username: str) -> Actor:
        actor = self.accounts.login(username, PASSWORD)
        if actor is None:
            raise EngineError(f"demo user {username} cannot log in")
        return actor

    def _task(self, username: str, name: str, app_id: str | None = None) -> str:
        items, _ = self.tasks.list_tasks(self._as(username), name=name, application=app_id)
        return items[0].id

    def _do(self, username: str, name: str, app_id: str | None = None, **data: Any) -> None:
        self.tasks.complete(self._task(username, name, app_id), data, actor=self._as(username))

    def logins(self) -> list[tuple[str, str, str]]:
        """(username, password, who) for every demo account."""
        rows = [(u, PASSWORD, f"{name}（{role}）") for u, role, _o, name in STAFF]
        rows.append(("unit_demo", PASSWORD, "宁波甬江水利设计院（用人单位）"))
        rows += [(u, PASSWORD, f"{n}（评审专家，{s}）") for u, n, s in EXPERTS]
        rows += [
            (f"applicant{i}", PASSWORD, f"{n}（申报人，{STAGE_LABELS[stage]}）")
            for i, (n, stage) in enumerate(PEOPLE, 1)
        ]
        return rows

    def load(self) -> bool:
        """Load everything; False when the demo was already there."""
        if self.accounts.login("admin", PASSWORD) is not None:
            return False
        users = [
            {"username": u, "password": PASSWORD, "role": r, "org": o, "name": n}
            for u, r, o, n in STAFF
        ]
        users += expert_users(PASSWORD, _credit_code(1))
        self.accounts.load_orgs({"orgs": ORGS, "users": users})
        self.deployments.deploy_directory(actor="demo")
        self._open_cycles()
        unit_id = self._unit()
        for i, (name, stage) in enumerate(PEOPLE, 1):
            self._applicant(i, name, unit_id, stage)
        return True

    def _open_cycles(self) -> None:
        """This year's cycle (申报年度) of every committee, opened by its office, so filing
        works all year; its applications run on the version just deployed."""
        year = self.clock().astimezone(CHINA_TZ).year
        window = {"year": year, "opens_on": f"{year}-01-01", "closes_on": f"{year}-12-31"}
        for committee in self.cycles.committees().committees:
            office = "nb_office" if committee.office_org_id == "nb-office" else "admin"
            self.cycles.open_cycle(committee.id, window, self._as(office))

    def _unit(self) -> str:
        out = self.units.register_unit(
            {
                "name": "宁波甬江水利设计院",
                "credit_code": _credit_code(1),
                "dept_org_id": "yz-water",
                "contact": "何主任",
                "phone": "0574-87001234",
                "username": "unit_demo",
                "password": PASSWORD,
            }
        )
        self.units.upload_entrustment(
            out["unit_id"], self.pdf(), "委托证明.pdf", self._as("unit_demo")
        )
        self._do(
            "platform", "review_entrustment", decision="approve", opinion="委托证明盖章齐全，同意"
        )
        return out["unit_id"]

    def _applicant(self, i: int, name: str, unit_id: str, stage: str) -> None:
        username = f"applicant{i}"
        self.applicants.register_applicant(
            {
                "name": name,
                "id_number": _id_number(i),
                "phone": f"1380000{i:04d}",
                "unit_id": unit_id,
                "username": username,
                "password": PASSWORD,
            }
        )
        me = self._as(username)
        self.dossiers.put_dossier(self._dossier(), me)
        self.dossiers.submit_dossier(me)
        self._do("unit_demo", "review_dossier", decision="approve", opinion="档案属实")
        if stage == "draft":
            return
        app_id = self.applications.create(
            {"series": "工程", "level": "中级", "specialty": "水利工程"}, me
        )["application_id"]
        self._do(
            username,
            "submit_application",
            app_id,
            title_applied="工程师",
            work_summary=DOSSIER["summary"],
            is_public_institution_staff=False,
            attachments=[],
            pledge=True,
        )
        if stage == "unit_review":
            return
        self._unit_review(app_id, open_window=stage == "publicity")
        if stage == "publicity":
            return
        chain = ["yz_water", "yz_hrss", "nb_water", "nb_office", "nb_hrss"]
        levels = chain[:1] if stage == "level_2" else chain
        for reviewer in levels:
            self._do(
                reviewer,
                "level_review",
                app_id,
                decision="approve",
                opinion="资历、年度考核、继续教育均符合条件，同意",
                **CHECKS,
            )
            if reviewer != chain[-1]:  # the top level's approval ends the review
                self._do(reviewer, "recommend", app_id, note="同意推荐")
        if stage in ("certified", "expert_review"):
            self._do(username, "confirm_payment", app_id, payment_reference=f"NBDEMO2026000{i}")
            self._do("nb_office", "verify_payment", app_id, decision="confirm")
            self._do("nb_office", "receive_paper", app_id, copies=3)
        if stage == "certified" and self.committee is not None:
            self.committee.hold_session(app_id)

    def _dossier(self) -> dict:
        """The demo dossier with appraisals and training for the five years before today,
        so the demo applications meet the binding eligibility rules whenever it runs."""
        year = self.clock().astimezone(CHINA_TZ).year
        years = range(year - 5, year)
        return {
            **DOSSIER,
            "appraisals": [{"year": y, "grade": "合格"} for y in years],
            "continuing_education": [
                {"year": y, "public_hours": 30, "professional_hours": 64} for y in years
            ],
        }

    def _unit_review(self, app_id: str, *, open_window: bool) -> None:
        today = self.clock().astimezone(CHINA_TZ).date()
        start = today - timedelta(days=2) if open_window else self._past_start(today)
        end = self.calendar.earliest_end(start, 5)
        self._do(
            "unit_demo",
            "unit_review",
            app_id,
            decision="approve",
            opinion="经审核，申报材料完整无误，公示期内无异议，同意报送",
            **CHECKS,
            publicity_start=start.isoformat(),
            publicity_end=end.isoformat(),
            publicity_place="单位公告栏及内网",
            publicity_objections="",
        )

    def _past_start(self, today: date) -> date:
        start = today - timedelta(days=14)
        while self.calendar.earliest_end(start, 5) >= today:
            start -= timedelta(days=1)
        return start
