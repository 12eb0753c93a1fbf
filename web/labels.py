"""Chinese words for codes shown on pages, and the navigation of each role.

Formatting only: which page a role may use is still decided by the engine on every call.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import current_app, url_for

from engine import CHINA_TZ, Actor, policy, statuses

ROLES = {
    "applicant": "申报人员",
    "unit": "用人单位",
    "dept": "主管部门",
    "hrss": "人力社保部门",
    "office": "评委会办公室",
    "platform": "平台审核",
    "admin": "平台管理员",
    "designer": "流程设计人员",
    "expert": "评审专家",
}
APPLICATION_STATUS = {
    "draft": "填写中",
    "unit_review": "单位审查中",
    "publicity": "公示中",
    "in_review": "逐级审查中",
    "returned": "已退回待修改",
    "rejected": "审查不通过",
    "awaiting_payment": "待缴费",
    "awaiting_paper": "待报送纸质材料",
    "completed": "已办结",
    "terminated": "已终止",
    "withdrawn": "已撤回",
    "expert_review": "待评委会评审",
    "result_publicity": "评审结果公示中",
    "certified": "已取得职称",
    "not_passed": "评审未通过",
}
DOSSIER_STATUS = {
    "draft": "草稿（未提交）",
    "submitted": "单位审核中",
    "approved": "审核通过",
    "returned": "已退回待修改",
}
ENTRUSTMENT_STATE = {
    "pending": "待上传委托证明",
    "under_review": "委托证明审核中",
    "rejected": "委托证明未通过，请重新上传",
    "active": "已激活",
}
ACTIONS = {
    "start": "发起",
    "complete": "提交",
    "submit_application": "提交申报",
    "recommend": "审核推荐",
    "confirm_payment": "登记缴费凭证",
    "verify_payment": "缴费核对",
    "confirm": "确认到账",
    "refuse": "退回缴费凭证",
    "receive_paper": "登记纸质材料",
    "review_entrustment": "审核委托证明",
    "approve": "审查通过",
    "return": "退回",
    "reject": "评审不通过",
    "urge": "催办",
    "withdraw": "撤回",
    "task_transferred": "转办",
    "application_cc": "抄送",
    "stand_in_set": "设置委派",
    "stand_in_ended": "结束委派",
    "fee_setting": "收费设定",
    "export_review_form": "导出评审表",
    "timer_fired": "公示期满",
    "timer_failed": "定时处理出错",
    "retry": "运维重试",
    "reset": "运维重置",
    "suspend": "挂起",
    "resume": "恢复",
    "terminate": "终止",
    "migrate": "迁移流程版本",
    "deploy": "发布流程",
    "promote": "设为当前版本",
    "dashboard_export": "导出统计看板数据",
    "cycle_open": "开设申报年度",
    "cycle_close": "关闭申报年度",
    "login": "登录",
    "logout": "退出登录",
    "login_failed": "登录失败",
    "account_locked": "账号锁定",
    "session_expired": "登录已过期",
    "token_revoked": "注销访问令牌",
    "issue_certificate": "发放职称证书",
    "revoke_certificate": "撤销职称证书",
    "session_formed": "组建评审会",
    "expert_recused": "专家回避",
    "attendance_recorded": "登记出席",
    "ballot_open": "开始投票",
    "expert_vote": "投票",
    "ballot_tallied": "计票",
    "session_tallied": "评审会计票",
    "result_objection": "登记异议",
}
# The eligibility checks a review records (timeline, review form).
CHECKS = {
    "seniority_ok": "资历",
    "appraisal_ok": "年度考核",
    "continuing_education_ok": "继续教育",
    "post_quota_ok": "评聘结合",
    "exceptional_ok": "破格条件审查",
}
TASKS = {
    "review_entrustment": "审核委托证明",
    "review_dossier": "审核业绩档案",
    "submit_application": "填写并提交申报表",
    "unit_review": "单位资格审查与公示",
    "publicity_result": "登记公示结果",
    "level_review": "本级审查",
    "recommend": "审核推荐",
    "confirm_payment": "缴费确认",
    "verify_payment": "缴费核对",
    "receive_paper": "登记纸质材料",
    "expert_vote": "评审投票",
    "review_objection": "异议核查",
}
PROCESSES = {
    "title_application": "职称申报与评审",
    "dossier_review": "业绩档案审核",
    "unit_registration": "用人单位注册",
}
PAYMENT_STATE = {
    "not_required": "无需缴费",
    "awaiting_reference": "待缴费并登记流水号",
    "awaiting_confirmation": "待评委会办公室核对",
    "refused": "缴费凭证被退回，请重新登记",
    "confirmed": "已确认到账",
    "closed": "—",
}
INSTANCE_STATUS = {
    "running": "运行中",
    "waiting": "等待中",
    "error": "出错",
    "suspended": "已挂起",
    "completed": "已办结",
    "terminated": "已终止",
}
TASK_STATES = {
    "READY": "待办理",
    "WAITING": "等待中",
    "STARTED": "进行中",
    "ERROR": "出错",
    "COMPLETED": "已完成",
}
TIMER_STATUS = {"pending": "等待触发", "fired": "已触发", "cancelled": "已取消"}
# An annual cycle (申报年度) by today's date: engine.cycle_rules names the phases.
CYCLE_PHASE = {"upcoming": "未开始", "accepting": "受理中", "ended": "已截止", "closed": "已关闭"}
OPERATIONS = {
    "migrate": "迁移版本",
    "suspend": "挂起",
    "resume": "恢复",
    "terminate": "终止",
    "retry": "重试出错的任务",
}


NavItem = tuple[str, Any]


def nav_for(actor: Actor | None) -> list[NavItem]:
    """(title, url) of the pages in the top bar for this actor; a menu is (title, [(title,
    url), ...]) as the guide names it (申报业务管理 → 职称评审资格审查)."""
    if actor is None:
        return []
    if policy.awaiting_activation(actor):
        return [("委托证明", url_for("unit_pages.entrustment")), *_messages()]
    items: list[NavItem] = [("待办事项", url_for("pages.worklist"))]
    applications = ("申报查询", url_for("application_pages.index"))
    if policy.may_file(actor):
        items += [("业绩档案", url_for("dossier_pages.edit")), ("我的申报", applications[1])]
    elif policy.is_unit_account(actor):
        items += [
            ("业绩档案审核", url_for("pages.worklist", process="dossier_review")),
            ("职称申报资格审查", url_for("pages.worklist", process="title_application")),
            ("本单位申报", applications[1]),
            ("委托证明", url_for("unit_pages.entrustment")),
        ]
    elif policy.reviews_levels(actor):
        business = [
            ("职称评审资格审查", url_for("review_pages.qualification")),
            ("批量审核", url_for("review_pages.approve")),
            ("收费设定", url_for("review_pages.fee")),
        ]
        if policy.keeps_cycles(actor):
            business.append(("申报年度", url_for("cycle_pages.index")))
        items += [("申报业务管理", business), applications]
    elif policy.may_list_applications(actor):
        items.append(applications)
    if policy.may_operate(actor):
        items += [
            ("流程实例", url_for("ops_pages.index")),
            ("节假日", url_for("calendar_pages.index")),
            ("申报年度", url_for("cycle_pages.index")),
        ]
    if policy.may_see_dashboard(actor):
        items.append(("统计看板", url_for("dashboard_pages.index")))
    if policy.may_deploy(actor):
        items.append(("流程定义", url_for("designer_pages.index")))
    if policy.may_hand_off(actor):
        items += [
            ("抄送我的", url_for("handoff_pages.copies")),
            ("我的委派", url_for("handoff_pages.stand_in")),
        ]
    return items + _messages()


def status_label(code: str | None) -> str:
    """An application status in Chinese; a status only a diagram names is shown by the name
    of the diagram's step that sets it."""
    if code in APPLICATION_STATUS:
        return APPLICATION_STATUS[code]
    return current_app.extensions["designer_forms"].status_titles().get(code or "", code or "")


def status_css(code: str | None) -> str:
    """CSS classes of a status badge: ``s-open`` for every status still in progress."""
    return f"s-{code}" + (" s-open" if statuses.is_open(code) else "")


def _messages() -> list[tuple[str, str]]:
    return [("消息", url_for("message_pages.index"))]


def mark_value(value: object) -> str:
    """An old or new value of a changed item, as one line of text."""
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, dict):
        return "，".join(str(v) for v in value.values() if v not in (None, ""))
    if isinstance(value, list):
        return "；".join(mark_value(v) for v in value)
    return str(value)


def short_time(value: str | None) -> str:
    """An ISO timestamp as Ningbo wall-clock time: '2026-11-26 10:00'."""
    if not value:
        return ""
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return value
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)  # naive database values are UTC (engine.views.iso)
    return moment.astimezone(CHINA_TZ).strftime("%Y-%m-%d %H:%M")


def template_context() -> dict[str, Any]:
    """Label tables for every template."""
    return {
        "ROLES": ROLES,
        "CHECKS": CHECKS,
        "APPLICATION_STATUS": APPLICATION_STATUS,
        "PAYMENT_STATE": PAYMENT_STATE,
        "DOSSIER_STATUS": DOSSIER_STATUS,
        "ENTRUSTMENT_STATE": ENTRUSTMENT_STATE,
        "ACTIONS": ACTIONS,
        "TASKS": TASKS,
        "PROCESSES": PROCESSES,
        "INSTANCE_STATUS": INSTANCE_STATUS,
        "TASK_STATES": TASK_STATES,
        "TIMER_STATUS": TIMER_STATUS,
        "OPERATIONS": OPERATIONS,
        "CYCLE_PHASE": CYCLE_PHASE,
        "nav_for": nav_for,
        "status_label": status_label,
        "status_css": status_css,
    }
