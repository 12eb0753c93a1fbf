"""Hand-off rules of engine.policy (转办 / 委派 / 抄送) over plain actors and rows."""

from __future__ import annotations

from types import SimpleNamespace

from engine import policy, roles
from engine.views import Actor

DEPT = Actor(5, "yz_water_1", "张三", roles.DEPT, "yz-water")
COLLEAGUE = Actor(6, "yz_water_2", "张四", roles.DEPT, "yz-water")
OTHER_DEPT = Actor(7, "bl_water", "北仑水利", roles.DEPT, "bl-water")
APPLICANT = Actor(1, "zhang", "李四", roles.APPLICANT, "unit-a")

ORG_TASK = SimpleNamespace(lane=roles.REVIEWER_LANE, user_id=None, org_id="yz-water")
OWN_TASK = SimpleNamespace(lane=roles.APPLICANT_LANE, user_id=1, org_id="unit-a")
NOT_ROUTED = SimpleNamespace(applicant_id=2, unit_org_id="unit-b", chain=["bl-water"])


def test_a_transferred_task_is_only_its_holders_and_its_stand_ins():
    assert policy.may_act(DEPT, ORG_TASK) and policy.may_act(COLLEAGUE, ORG_TASK)
    assert policy.may_act(COLLEAGUE, ORG_TASK, holder_id=COLLEAGUE.id)
    assert not policy.may_act(DEPT, ORG_TASK, holder_id=COLLEAGUE.id)
    assert policy.may_act(DEPT, ORG_TASK, holder_id=COLLEAGUE.id, stands_in_for=[COLLEAGUE.id])
    # standing in never opens another org's task
    assert not policy.may_act(OTHER_DEPT, ORG_TASK, holder_id=6, stands_in_for=[6])


def test_only_org_tasks_transfer_and_only_to_who_may_act_on_them():
    assert policy.may_transfer(DEPT, ORG_TASK)
    assert not policy.may_transfer(APPLICANT, OWN_TASK)
    assert policy.may_receive_task(roles.DEPT, "yz-water", True, ORG_TASK)
    assert not policy.may_receive_task(roles.DEPT, "yz-water", False, ORG_TASK)
    assert not policy.may_receive_task(roles.DEPT, "bl-water", True, ORG_TASK)
    assert not policy.may_receive_task(roles.UNIT, "yz-water", True, ORG_TASK)


def test_a_stand_in_is_a_colleague_of_the_same_role():
    assert policy.may_stand_in_for(DEPT, roles.DEPT, "yz-water", True)
    assert not policy.may_stand_in_for(DEPT, roles.HRSS, "yz-water", True)
    assert not policy.may_stand_in_for(DEPT, roles.DEPT, "bl-water", True)
    assert not policy.may_hand_off(APPLICANT)


def test_a_copy_lets_its_recipient_read_an_application_it_would_not_see():
    assert not policy.may_see_application(DEPT, NOT_ROUTED)
    assert policy.may_see_application(DEPT, NOT_ROUTED, copied=lambda: True)
    assert not policy.may_see_application(DEPT, NOT_ROUTED, copied=lambda: False)
    # applicants never read others' applications, copy or not
    assert not policy.may_see_application(APPLICANT, NOT_ROUTED, copied=lambda: True)
    assert policy.may_receive_copy(roles.DEPT, True)
    assert not policy.may_receive_copy(roles.APPLICANT, True)


def test_messages_to_the_absent_reach_the_stand_in():
    assert not policy.may_read_message(DEPT, COLLEAGUE.id, None)
    assert policy.may_read_message(DEPT, COLLEAGUE.id, None, [COLLEAGUE.id])
