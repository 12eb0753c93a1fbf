"""The demo's committee stage: an expert pool, a review session that has voted, a certificate.

Built through the public services like the rest of the demo. The results publicity lasts five
working days from the tally, which a freshly loaded demo cannot wait for: the demo, acting as
the system, fires that one timer early (``force``), and the audit says so. Everything else —
panel, recusal of the expert from the applicant's unit, attendance, the secret ballot, the
tally — runs exactly as in production.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import select

from engine.accounts import Accounts
from engine.clock import CHINA_TZ, Clock
from engine.cycle_rules import open_cycle_for
from engine.review_sessions import ReviewSessions
from engine.tasks import Tasks
from engine.timers import Timers
from engine.views import Actor
from storage import Application, Timer, UnitOfWorkFactory

EXPERTS = [
    ("exp_wang", "王建国", "水利工程"),
    ("exp_li", "李秀英", "水利工程"),
    ("exp_zhang", "张志强", "水利工程"),
    ("exp_liu", "刘海涛", "水利工程"),
    ("exp_chen", "陈丽华", "水利工程"),
    ("exp_yang", "杨卫东", "水利工程"),
    ("exp_huang", "黄晓燕", "水利工程"),
]
# The expert who works at the demo unit: recused from its applications.
SAME_UNIT_EXPERT = "exp_huang"
ABSENT_EXPERT = "exp_yang"


def expert_users(password: str, unit_credit_code: str) -> list[dict[str, Any]]:
    """The committee's expert pool as an `orgs load` file's users."""
    return [
        {
            "username": username,
            "password": password,
            "role": "expert",
            "org": "nb-office",
            "name": name,
            "specialty": specialty,
            **({"unit_credit_code": unit_credit_code} if username == SAME_UNIT_EXPERT else {}),
        }
        for username, name, specialty in EXPERTS
    ]


class CommitteeDemo:
    """Runs one review session of this year's cycle over the applications waiting for it."""

    def __init__(
        self,
        uow: UnitOfWorkFactory,
        sessions: ReviewSessions,
        tasks: Tasks,
        timers: Timers,
        accounts: Accounts,
        clock: Clock,
        login: Callable[[str], Actor],
    ) -> None:
        self.uow, self.sessions, self.tasks, self.timers = uow, sessions, tasks, timers
        self.accounts, self.clock, self.login = accounts, clock, login

    def _cycle_id(self) -> int:
        today = self.clock().astimezone(CHINA_TZ).date()
        with self.uow() as uow:
            cycle = open_cycle_for(uow.session, "nb-water-mid", today)
            if cycle is None:
                raise LookupError("no open cycle of nb-water-mid")
            return cycle.id

    def hold_session(self, app_id: str) -> None:
        """Form a session, record attendance, vote, and let the results publicity end."""
        office = self.login("nb_office")
        today = self.clock().astimezone(CHINA_TZ).date().isoformat()
        panel = [username for username, _n, _s in EXPERTS]
        view = self.sessions.form_session(
            self._cycle_id(), {"date": today, "experts": panel}, office
        )
        present = [u for u in panel if u != ABSENT_EXPERT]
        self.sessions.record_attendance(view.id, {"present": present}, office)
        voters = [u for u in present if u != SAME_UNIT_EXPERT]
        for i, username in enumerate(voters):
            expert = self.login(username)
            items, _ = self.tasks.list_tasks(expert, name="expert_vote", application=app_id)
            vote = "abstain" if i == len(voters) - 1 else "agree"
            comment = "业绩突出，同意通过" if i == 0 else None
            data = {"vote": vote, **({"comment": comment} if comment else {})}
            self.tasks.complete(items[0].id, data, actor=expert)
        with self.uow() as uow:
            instance_id = uow.session.scalar(
                select(Application.instance_id).where(Application.id == int(app_id))
            )
            timer_id = uow.session.scalar(
                select(Timer.id).where(Timer.instance_id == instance_id, Timer.status == "pending")
            )
        if timer_id is not None:
            self.timers.fire_timer(timer_id, force=True)
