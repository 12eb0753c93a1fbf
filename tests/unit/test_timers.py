"""Pieces of the scheduler that need no running database: counting, settings, wiring."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from types import SimpleNamespace

import pytest

from engine import CalendarPolicy
from engine.reminders import waited_workdays
from engine.workdays import WorkCalendar
from web import create_app
from web.config import calendar_policy, flag
from web.notifier import gateway_sender, log_sender, sender_for
from web.scheduler import _claim_batch, _workers, heartbeat_fresh, scheduler_state

THU_10AM = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)  # Thursday 10:00 in Ningbo


@pytest.mark.parametrize(
    ("today", "waited"),
    [
        (date(2026, 11, 26), 0),  # the day it arrived does not count
        (date(2026, 11, 27), 1),
        (date(2026, 11, 29), 1),  # the weekend does not count
        (date(2026, 12, 1), 3),
    ],
)
def test_waited_workdays_counts_days_after_arrival(today, waited):
    assert waited_workdays(WorkCalendar(), THU_10AM, today) == waited


def test_waited_workdays_across_national_day_and_its_makeup_saturday():
    arrived = datetime(2026, 9, 30, 8, 0, tzinfo=UTC)
    assert waited_workdays(WorkCalendar(), arrived, date(2026, 10, 9)) == 2
    assert waited_workdays(WorkCalendar(), arrived, date(2026, 10, 10)) == 3
    strict = WorkCalendar(policy=CalendarPolicy(makeup_days_count=False))
    assert waited_workdays(strict, arrived, date(2026, 10, 10)) == 2


def test_late_evening_utc_is_already_the_next_day_in_china():
    arrived = datetime(2026, 11, 26, 17, 0, tzinfo=UTC)  # Friday 01:00 in Ningbo
    assert waited_workdays(WorkCalendar(), arrived, date(2026, 11, 27)) == 0


@pytest.mark.parametrize(
    ("value", "expected"),
    [(True, True), (False, False), ("true", True), ("yes", True), ("0", False), ("no", False)],
)
def test_flag_settings(value, expected):
    assert flag(value) is expected


def test_calendar_policy_from_settings():
    policy = calendar_policy(
        {"CALENDAR_COUNT_START_DAY": "false", "CALENDAR_MAKEUP_DAYS_COUNT": False}
    )
    assert policy == CalendarPolicy(count_start_day=False, makeup_days_count=False)


def test_create_app_passes_the_calendar_policy_to_the_validator(tmp_path: Path):
    app = create_app(
        {"DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}", "CALENDAR_MAKEUP_DAYS_COUNT": "false"}
    )
    validator = app.extensions["runtime"].validators["publicity_window"]
    assert validator.policy == CalendarPolicy(count_start_day=True, makeup_days_count=False)


def test_no_job_store_means_no_scheduler(tmp_path: Path):
    app = create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'empty.db'}"})
    assert heartbeat_fresh(app) is False
    assert scheduler_state(app) == "not running"


def test_sms_transport_choice():
    assert sender_for("", 5) is log_sender
    assert sender_for("https://sms.example/send", 5) is not log_sender
    with pytest.raises(ValueError, match="http"):
        gateway_sender("file:///etc/passwd")


@pytest.mark.parametrize(
    ("url", "claim", "workers"),
    [("sqlite:///x.db", 5, 1), ("postgresql+psycopg://db/zhiping", 20, 2)],
)
def test_sweep_claim_batch_and_workers_follow_the_database(url, claim, workers):
    app = SimpleNamespace(
        config={
            "SQLALCHEMY_DATABASE_URI": url,
            "SCHEDULER_CLAIM_BATCH": 20,
            "SCHEDULER_WORKERS": 2,
        }
    )
    assert (_claim_batch(app), _workers(app)) == (claim, workers)
