"""The bulk fill of bench/worklist_scale.py: an org tree, and open instances shaped like real
rows (applicant, application, instance with a real state, task-index row, pending publicity
timers, the audit rows of the levels passed), inserted with SQLAlchemy Core."""

from __future__ import annotations

import random
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

CITIES, DISTRICTS, UNITS_PER_DISTRICT = 10, 5, 10
CHAIN = ["yz-water", "yz-hrss", "nb-water", "nb-office", "nb-hrss"]  # the bench unit's
# Stage of a synthetic instance -> (weight, task name or None, lane, application status).
STAGES = {
    "review_dossier": (10, "review_dossier", "unit", None),
    "submit_application": (15, "submit_application", "applicant", "draft"),
    "unit_review": (15, "unit_review", "unit", "unit_review"),
    "publicity": (5, None, None, "publicity"),
    "level_review": (35, "level_review", "reviewer", "in_review"),
    "recommend": (10, "recommend", "reviewer", "in_review"),
    "confirm_payment": (5, "confirm_payment", "applicant", "awaiting_payment"),
    "receive_paper": (5, "receive_paper", "reviewer", "awaiting_paper"),
}
TITLES = {
    "review_dossier": "审核业绩档案",
    "submit_application": "填写并提交申报表",
    "unit_review": "单位资格审查与公示",
    "level_review": "本级审查",
    "recommend": "审核推荐",
    "confirm_payment": "缴费确认",
    "receive_paper": "登记纸质材料",
}


class Filler:
    """Bulk inserts with SQLAlchemy Core, copying the shape of one real application."""

    def __init__(self, app: Any, template: dict[str, Any]) -> None:
        from sqlalchemy import MetaData

        self.app = app
        with app.extensions["unit_of_work"]() as uow:
            self.engine = uow.session.get_bind()
        self.meta = MetaData()
        self.meta.reflect(
            self.engine,
            only=[
                "org",
                "app_user",
                "application",
                "process_instance",
                "human_task",
                "dossier",
                "timer",
                "audit_event",
                "audit_chain_head",
            ],
        )
        with self.engine.connect() as conn:  # audit rows continue the chain's numbering
            self.seq = conn.execute(self.meta.tables["audit_chain_head"].select()).one().seq
        self.t = template
        self.rng = random.Random(15)
        self.count = 0
        self.units: list[tuple[str, list[str]]] = []  # (unit id, chain)
        # The measured orgs' first tasks (stage, org), so that each of their pages is full at
        # both counts: what differs between the counts is the size of the queues and tables.
        self.seed = [
            (s, template["unit_id"]) for s in ("review_dossier", "unit_review") for _ in range(60)
        ]
        for org in (CHAIN[0], CHAIN[1], CHAIN[3]):
            self.seed += [("level_review", org)] * 120 + [("recommend", org)] * 60
        self.rng.shuffle(self.seed)

    def orgs(self) -> None:
        """10 cities (the first is the fixtures' nb-*), 5 districts each, 10 units each."""
        now = datetime.now(UTC)
        rows: list[dict[str, Any]] = []

        def org(oid: str, kind: str, parent: str | None) -> None:
            rows.append(
                {
                    "id": oid,
                    "name": f"测试{oid}",
                    "kind": kind,
                    "parent_id": parent,
                    "status": "active",
                    "charge": True,
                    "created_at": now,
                }
            )

        for c in range(CITIES):
            city = {"hrss": f"c{c}-hrss", "office": f"c{c}-office", "water": f"c{c}-water"}
            if c == 0:
                city = {"hrss": "nb-hrss", "office": "nb-office", "water": "nb-water"}
            else:
                org(city["hrss"], "hrss", None)
                org(city["office"], "office", city["hrss"])
                org(city["water"], "dept", city["office"])
            districts = [(f"c{c}d{d}-water", f"c{c}d{d}-hrss") for d in range(DISTRICTS)]
            if c == 0:
                districts[:2] = [("yz-water", "yz-hrss"), ("bl-water", "bl-hrss")]
            for d, (dept, hrss) in enumerate(districts):
                if not (c == 0 and d < 2):
                    org(hrss, "hrss", city["water"])
                    org(dept, "dept", hrss)
                chain = [dept, hrss, city["water"], city["office"], city["hrss"]]
                for u in range(UNITS_PER_DISTRICT):
                    unit = f"c{c}d{d}u{u}"
                    org(unit, "unit", dept)
                    self.units.append((unit, chain))
                if c == 0 and d == 0:
                    self.units.append((self.t["unit_id"], chain))  # the bench's real unit
        with self.engine.begin() as conn:
            conn.execute(self.meta.tables["org"].insert(), rows)

    def fill_to(self, total: int, chunk: int = 5000) -> float:
        """Insert synthetic open instances until there are ``total``; seconds taken."""
        start = time.perf_counter()
        names = list(STAGES)
        weights = [STAGES[s][0] for s in names]
        tb = self.meta.tables
        while self.count < total:
            n = min(chunk, total - self.count)
            users, apps, insts, tasks = [], [], [], []
            timers: list[dict[str, Any]] = []
            audit: list[dict[str, Any]] = []
            base = self.t["next_id"]
            now = datetime.now(UTC)
            for i in range(n):
                k = base + i
                forced = None
                if self.seed:
                    stage, forced = self.seed.pop()
                    unit, chain = self.t["unit_id"], CHAIN  # the bench's own unit
                else:
                    stage = self.rng.choices(names, weights)[0]
                    unit, chain = self.rng.choice(self.units)
                _w, task, lane, status = STAGES[stage]
                at = now - timedelta(seconds=self.rng.randrange(0, 3 * 365 * 86400))
                users.append(
                    {
                        "id": k,
                        "username": f"bench{k}",
                        "password_hash": self.t["password_hash"],
                        "role": "applicant",
                        "org_id": unit,
                        "name": f"申报人{k}",
                        "id_number": None,
                        "active": True,
                        "created_at": at,
                        "failed_logins": 0,
                    }
                )
                process = "dossier_review" if stage == "review_dossier" else "title_application"
                app_id = None if stage == "review_dossier" else k
                if app_id is not None:
                    apps.append(
                        {
                            "id": k,
                            "applicant_id": k,
                            "unit_org_id": unit,
                            "series": "工程",
                            "level": "中级",
                            "specialty": "水利工程",
                            "status": status,
                            "stage": task,
                            "chain": chain,
                            "instance_id": k,
                            "exceptional": False,
                            "created_at": at,
                            "updated_at": at,
                            "cycle_id": self.t["cycle_id"],
                        }
                    )
                insts.append(
                    {
                        "id": k,
                        "process_version_id": self.t["version"][process],
                        "process_id": process,
                        "status": "waiting",
                        "state": self.t["state"][process],
                        "revision": 3,
                        "business_key": f"dossier-{k}" if app_id is None else f"application-{k}",
                        "application_id": app_id,
                        "started_by": k,
                        "created_at": at,
                        "updated_at": at,
                    }
                )
                if task is None:  # waiting for the publicity window to end
                    timers.append(
                        {
                            "instance_id": k,
                            "task_id": str(uuid.UUID(int=self.rng.getrandbits(128))),
                            "name": "publicity_wait",
                            "due_at": now + timedelta(hours=self.rng.randrange(1, 240)),
                            "status": "pending",
                            "created_at": at,
                        }
                    )
                    continue
                org = None
                if lane == "unit":
                    org = unit
                elif lane == "reviewer":
                    org = chain[3] if stage == "receive_paper" else self.rng.choice(chain)
                    org = forced or org
                tasks.append(
                    {
                        "id": str(uuid.UUID(int=self.rng.getrandbits(128))),
                        "instance_id": k,
                        "process_id": process,
                        "name": task,
                        "title": TITLES[task],
                        "lane": lane,
                        "org_id": org,
                        "user_id": k if lane == "applicant" else None,
                        "application_id": app_id,
                        "form": f"{task}.schema.json",
                        "ui_form": f"{task}.ui.json",
                        "created_at": at,
                    }
                )
                audit += self._decisions(k, stage, org, chain, at)
            head = tb["audit_chain_head"]
            with self.engine.begin() as conn:
                conn.execute(tb["app_user"].insert(), users)
                conn.execute(tb["process_instance"].insert(), insts)
                if apps:
                    conn.execute(tb["application"].insert(), apps)
                conn.execute(tb["human_task"].insert(), tasks)
                if timers:
                    conn.execute(tb["timer"].insert(), timers)
                if audit:
                    conn.execute(tb["audit_event"].insert(), audit)
                    conn.execute(head.update().values(seq=self.seq, last_hash="f" * 64))
            self.t["next_id"] += n
            self.count += n
        self.settle()
        return time.perf_counter() - start

    def _decisions(
        self, k: int, stage: str, org: str | None, chain: list[str], at: datetime
    ) -> list[dict[str, Any]]:
        """The audit rows of the levels an application has passed (本级审查 approvals)."""
        if stage in ("level_review", "recommend"):
            passed = chain[: chain.index(org or "") + (stage == "recommend")]
        else:
            passed = chain if stage in ("confirm_payment", "receive_paper") else []
        rows = []
        for n, level in enumerate(passed):
            self.seq += 1
            rows.append(
                {
                    "at": at + timedelta(days=n + 1),
                    "actor_id": None,
                    "actor_name": f"审查人{level}",
                    "org_id": level,
                    "instance_id": k,
                    "application_id": k,
                    "task_id": str(uuid.UUID(int=self.rng.getrandbits(128))),
                    "task_name": "level_review",
                    "action": "approve",
                    "opinion": "同意",
                    "before_status": "in_review",
                    "after_status": "in_review",
                    "detail": {"decision": "approve"},
                    "seq": self.seq,
                    "prev_hash": "f" * 64,
                    "hash": "f" * 64,
                }
            )
        return rows

    def settle(self) -> None:
        """Statistics (and PostgreSQL's visibility map), as autovacuum/ANALYZE would have."""
        from sqlalchemy import text

        if self.engine.dialect.name == "postgresql":
            with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
                c.execute(text("VACUUM ANALYZE"))
                c.execute(text("CHECKPOINT"))  # the fill's writes flushed now, not mid-timing
                # Keep the ids the app's own inserts draw clear of the synthetic ones.
                for table in ("app_user", "application", "process_instance", "dossier"):
                    c.execute(
                        text(
                            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'),"
                            f" (SELECT max(id) FROM {table}))"
                        )
                    )
        else:
            with self.engine.begin() as c:
                c.execute(text("ANALYZE"))

    def applicants(self, count: int) -> list[str]:
        """Fresh applicants of the real unit with approved dossiers (for filing)."""
        tb = self.meta.tables
        now = datetime.now(UTC)
        names = []
        users, dossiers = [], []
        for _ in range(count):
            k = self.t["next_id"]
            self.t["next_id"] += 1
            names.append(f"bench{k}")
            users.append(
                {
                    "id": k,
                    "username": f"bench{k}",
                    "password_hash": self.t["password_hash"],
                    "role": "applicant",
                    "org_id": self.t["unit_id"],
                    "name": f"申报人{k}",
                    "active": True,
                    "created_at": now,
                    "failed_logins": 0,
                }
            )
            dossiers.append(
                {
                    "id": k,
                    "user_id": k,
                    "status": "approved",
                    "data": self.t["dossier"],
                    "updated_at": now,
                }
            )
        with self.engine.begin() as conn:
            conn.execute(tb["app_user"].insert(), users)
            conn.execute(tb["dossier"].insert(), dossiers)
        self.settle()
        return names


def template(api: Any) -> dict[str, Any]:
    """One real unit, applicant and application: the rows the synthetic ones copy."""
    from sqlalchemy import func, select

    from storage import Application, Dossier, ProcessInstance, User
    from tests import flows

    unit = flows.register_unit(api)
    person = flows.register_applicant(api, unit)
    app_id = flows.file_application(api, person)
    with api.app.extensions["unit_of_work"]() as uow:
        s = uow.session
        user = s.scalars(select(User).where(User.username == person["username"])).one()
        app = s.get(Application, int(app_id))
        states, versions = {}, {}
        for process in ("title_application", "dossier_review"):
            inst = s.scalars(
                select(ProcessInstance)
                .where(ProcessInstance.process_id == process)
                .order_by(ProcessInstance.id.desc())
            ).first()
            states[process], versions[process] = inst.state, inst.process_version_id
        top = max(
            s.scalar(select(func.max(t.id))) or 0 for t in (User, Application, ProcessInstance)
        )
        dossier = s.scalars(select(Dossier.data).where(Dossier.user_id == user.id)).one()
        return {
            "unit": unit,
            "person": person,
            "unit_id": unit["unit_id"],
            "password_hash": user.password_hash,
            "password": flows.PASSWORDS[person["username"]],
            "cycle_id": app.cycle_id,
            "state": states,
            "version": versions,
            "dossier": dossier,
            "next_id": top + 1000,
        }
