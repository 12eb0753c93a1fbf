"""Access rules of engine.policy over plain actors and rows: no Flask, no application."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace

import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from engine import policy, roles
from engine.views import Actor
from storage import Application

APPLICANT = Actor(1, "zhang", "张三", roles.APPLICANT, "unit-a")
OTHER_APPLICANT = Actor(2, "li", "李四", roles.APPLICANT, "unit-a")
UNIT = Actor(3, "unit_a", "甲单位", roles.UNIT, "unit-a")
PENDING_UNIT = Actor(4, "unit_b", "乙单位", roles.UNIT, "unit-b", org_status="pending")
DEPT = Actor(5, "yz_water", "鄞州水利", roles.DEPT, "yz-water")
OTHER_DEPT = Actor(6, "bl_water", "北仑水利", roles.DEPT, "bl-water")
OFFICE = Actor(7, "nb_office", "评委会办公室", roles.OFFICE, "nb-office")
PLATFORM = Actor(8, "platform", "平台审核", roles.PLATFORM, "platform")
ADMIN = Actor(9, "admin", "管理员", roles.ADMIN, "platform")
DESIGNER = Actor(10, "designer", "设计员", roles.DESIGNER, "platform")
STRANGER = Actor(11, "nobody", "无角色", "auditor", "platform")

APP = SimpleNamespace(applicant_id=1, unit_org_id="unit-a", chain=["yz-water", "nb-office"])
NOT_ROUTED = SimpleNamespace(applicant_id=2, unit_org_id="unit-b", chain=["bl-water"])


def _task(lane: str, *, org: str | None = None, user: int | None = None) -> SimpleNamespace:
    return SimpleNamespace(lane=lane, org_id=org, user_id=user)


@pytest.mark.parametrize(
    ("actor", "sees"),
    [
        (APPLICANT, True),
        (OTHER_APPLICANT, False),
        (UNIT, True),
        (PENDING_UNIT, False),
        (DEPT, True),
        (OTHER_DEPT, False),
        (OFFICE, True),
        (PLATFORM, True),
        (ADMIN, True),
        (DESIGNER, False),
        (STRANGER, False),
    ],
)
def test_may_see_application_follows_each_roles_scope(actor, sees):
    assert policy.may_see_application(actor, APP) is sees


def test_reviewer_sees_an_application_only_once_routed_to_it():
    assert not policy.may_see_application(DEPT, SimpleNamespace(**{**vars(APP), "chain": None}))
    assert policy.may_see_application(OTHER_DEPT, NOT_ROUTED)


@pytest.mark.parametrize(
    ("actor", "task", "may"),
    [
        (APPLICANT, _task("applicant", user=1), True),
        (OTHER_APPLICANT, _task("applicant", user=1), False),
        (UNIT, _task("applicant", user=3), False),
        (UNIT, _task("unit", org="unit-a"), True),
        (UNIT, _task("unit", org="unit-b"), False),
        (PENDING_UNIT, _task("unit", org="unit-b"), False),
        (DEPT, _task("reviewer", org="yz-water"), True),
        (DEPT, _task("unit", org="yz-water"), False),
        (OTHER_DEPT, _task("reviewer", org="yz-water"), False),
        (OFFICE, _task("reviewer", org="nb-office"), True),
        (DEPT, _task("reviewer", org=None), False),
        (PLATFORM, _task("platform", org="platform"), True),
        (ADMIN, _task("platform", org="platform"), True),
        (ADMIN, _task("reviewer", org="platform"), False),
        (DESIGNER, _task("platform", org="platform"), False),
        (STRANGER, _task("platform", org="platform"), False),
        (DEPT, _task("unknown_lane", org="yz-water"), False),
    ],
)
def test_may_act_needs_the_lanes_role_and_the_tasks_org_or_person(actor, task, may):
    assert policy.may_act(actor, task) is may


def test_task_filter_matches_may_act():
    assert policy.task_filter_for(APPLICANT) == {"lanes": ["applicant"], "user_id": 1}
    assert policy.task_filter_for(DEPT) == {"lanes": ["reviewer"], "org_id": "yz-water"}
    assert policy.task_filter_for(ADMIN) == {"lanes": ["platform"], "org_id": "platform"}
    assert policy.task_filter_for(PENDING_UNIT)["lanes"] == []
    assert policy.task_filter_for(DESIGNER)["lanes"] == []
    assert not policy.has_worklist(DESIGNER) and policy.has_worklist(UNIT)


@pytest.mark.parametrize(
    ("actor", "owner_id", "owner_org", "may"),
    [
        (APPLICANT, 1, "unit-a", True),  # own file
        (OTHER_APPLICANT, 1, "unit-a", False),  # same unit, someone else's
        (UNIT, 1, "unit-a", True),  # a person of its org
        (UNIT, 2, "unit-b", False),
        (DEPT, 1, "unit-a", True),  # its application is routed to the dept
        (OTHER_DEPT, 1, "unit-a", False),
        (DEPT, None, "unit-a", False),  # the unit's own file (entrustment)
        (PLATFORM, 2, "unit-b", True),
        (DESIGNER, 1, "unit-a", False),
    ],
)
def test_may_see_file(actor, owner_id, owner_org, may):
    owner_apps = [APP] if owner_id == 1 else [NOT_ROUTED] if owner_id == 2 else []
    assert policy.may_see_file(actor, owner_id, owner_org, owner_apps) is may


def test_may_use_file_own_or_org_but_not_the_applicants_unit():
    assert policy.may_use_file(APPLICANT, 1, "unit-a")
    assert not policy.may_use_file(APPLICANT, 3, "unit-a")
    assert policy.may_use_file(UNIT, 99, "unit-a")
    assert not policy.may_use_file(UNIT, 99, "unit-b")


def test_message_scope():
    assert policy.message_org(APPLICANT) is None  # its org is its unit: not its messages
    assert policy.message_org(UNIT) == "unit-a"
    assert policy.may_read_message(APPLICANT, 1, None)
    assert not policy.may_read_message(APPLICANT, None, "unit-a")
    assert policy.may_read_message(UNIT, None, "unit-a")
    assert not policy.may_read_message(UNIT, 1, None)
    assert not policy.may_read_message(DEPT, None, "unit-a")


def test_awaiting_activation_is_the_unit_whose_org_is_not_approved():
    assert policy.awaiting_activation(PENDING_UNIT)
    assert not policy.awaiting_activation(UNIT)
    pending_applicant = Actor(12, "wang", "王五", roles.APPLICANT, "unit-b", org_status="pending")
    assert not policy.awaiting_activation(pending_applicant)


@pytest.mark.parametrize(
    ("actor", "operate", "deploy", "oversee", "review", "file", "list_apps"),
    [
        (APPLICANT, False, False, False, False, True, True),
        (UNIT, False, False, False, False, False, True),
        (DEPT, False, False, False, True, False, True),
        (OFFICE, False, False, False, True, False, True),
        (PLATFORM, False, False, True, False, False, True),
        (ADMIN, True, True, True, False, False, True),
        (DESIGNER, False, True, False, False, False, False),
        (STRANGER, False, False, False, False, False, False),
    ],
)
def test_capabilities_of_each_role(actor, operate, deploy, oversee, review, file, list_apps):
    assert policy.may_operate(actor) is operate
    assert policy.may_deploy(actor) is deploy
    assert policy.oversees(actor) is oversee
    assert policy.reviews_levels(actor) is review
    assert policy.may_file(actor) is file
    assert policy.may_list_applications(actor) is list_apps


def test_fee_switch_own_org_admin_writes_platform_reads():
    assert policy.may_see_fee(DEPT, "yz-water", write=True)
    assert not policy.may_see_fee(DEPT, "bl-water", write=False)
    assert policy.may_see_fee(ADMIN, "bl-water", write=True)
    assert policy.may_see_fee(PLATFORM, "bl-water", write=False)
    assert not policy.may_see_fee(PLATFORM, "bl-water", write=True)
    assert not policy.may_see_fee(UNIT, "unit-a", write=False)


def test_withdraw_side():
    assert policy.withdraw_side(APPLICANT, 1, "unit-a") == "applicant"
    assert policy.withdraw_side(OTHER_APPLICANT, 1, "unit-a") is None
    assert policy.withdraw_side(UNIT, 1, "unit-a") == "unit"
    assert policy.withdraw_side(PENDING_UNIT, 1, "unit-b") is None
    assert policy.withdraw_side(ADMIN, 1, "unit-a") is None


def test_role_table():
    assert roles.lanes() == {"applicant", "unit", "reviewer", "platform", "expert"}
    assert roles.lane_roles("expert") == {"expert"}
    assert roles.reviewer_roles() == {"dept", "hrss", "office"} == roles.REVIEW_ORG_KINDS
    assert roles.operator_roles() == {"admin", "platform"}
    assert roles.lane_roles("platform") == {"admin", "platform"}
    for name, role in roles.ROLES.items():
        assert role.org_kind in roles.TREE_ORG_KINDS | {roles.UNIT}, name
        assert role.sees is None or role.sees in policy.SCOPES, name


ACTORS = [APPLICANT, OTHER_APPLICANT, UNIT, DEPT, OTHER_DEPT, OFFICE, ADMIN, DESIGNER, STRANGER]
ROWS = [APP, NOT_ROUTED, SimpleNamespace(applicant_id=1, unit_org_id="unit-a", chain=None)]


def test_sql_filter_selects_exactly_the_rows_the_check_admits():
    """The one scope declaration makes both; an in-memory table shows they agree."""
    db = create_engine("sqlite://")
    Application.__table__.create(db)
    with Session(db) as session:
        for i, row in enumerate(ROWS, start=1):
            now = datetime(2026, 11, 16, tzinfo=UTC)
            fields = dict(series="工程", level="中级", specialty="水利", status="draft")
            session.add(Application(id=i, created_at=now, updated_at=now, **fields, **vars(row)))
        session.flush()
        for actor in ACTORS:
            by_sql = set(
                session.scalars(select(Application.id).where(policy.application_filter(actor)))
            )
            by_check = {
                i for i, row in enumerate(ROWS, start=1) if policy.may_see_application(actor, row)
            }
            assert by_sql == by_check, actor.username
