"""Who is who: the roles, the kinds of org, and the BPMN lanes each role acts in.

Data only; the rules that read it are in engine/policy.py. A new role is one ``ROLES`` entry
here (plus its scope in policy.py when none fits, its Chinese name in web/labels.py, and a
diagram lane). Everything that needs a role set asks the functions below, so an entry added at
run time (as the tests do) counts everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

APPLICANT = "applicant"
UNIT = "unit"
DEPT = "dept"
HRSS = "hrss"
OFFICE = "office"
PLATFORM = "platform"
ADMIN = "admin"
DESIGNER = "designer"
EXPERT = "expert"

# Kinds of org in the review tree that `orgs load` reads; units register themselves.
TREE_ORG_KINDS = frozenset({PLATFORM, HRSS, OFFICE, DEPT})
# Kinds of org that review level by level (a review chain is a list of these); each has a fee switch.
REVIEW_ORG_KINDS = frozenset({DEPT, HRSS, OFFICE})

# BPMN lane names. A user task's lane says which roles may act on it (``Role.lanes``).
APPLICANT_LANE = "applicant"
UNIT_LANE = "unit"
REVIEWER_LANE = "reviewer"
PLATFORM_LANE = "platform"
EXPERT_LANE = "expert"


@dataclass(frozen=True)
class Role:
    """What an account of one role is: where it belongs, where it acts, what it sees.

    ``sees`` names an application scope of engine.policy (``SCOPES``); None sees no application.
    """

    org_kind: str  # the kind of org its accounts belong to
    lanes: frozenset[str] = frozenset()  # the lanes whose tasks it may act on
    sees: str | None = None
    acts_for_org: bool = True  # holds its org's tasks and reads its org's messages
    files_applications: bool = False  # keeps a dossier and files applications
    registers_org: bool = False  # its org self-registers and is active only once approved
    reviews_levels: bool = False  # a level of the chain: recommend, batch approve, fee switch
    oversees: bool = False  # sees every application, file and timer; reads every fee switch
    operates: bool = False  # repairs instances, fires timers, keeps the calendar, sets fees
    deploys: bool = False  # validates, deploys and promotes process definitions
    sits_on_panels: bool = False  # reads the applications a review session seats it to vote on
    issues_certificates: bool = False  # its org issues (and revokes) a committee's 职称证书


def _reviewer(kind: str) -> Role:
    return Role(kind, frozenset({REVIEWER_LANE}), sees="chain", reviews_levels=True)


ROLES: dict[str, Role] = {
    APPLICANT: Role(
        UNIT, frozenset({APPLICANT_LANE}), sees="own", acts_for_org=False, files_applications=True
    ),
    UNIT: Role(UNIT, frozenset({UNIT_LANE}), sees="unit", registers_org=True),
    DEPT: _reviewer(DEPT),
    HRSS: replace(_reviewer(HRSS), issues_certificates=True),
    OFFICE: _reviewer(OFFICE),
    PLATFORM: Role(PLATFORM, frozenset({PLATFORM_LANE}), sees="all", oversees=True),
    ADMIN: Role(
        PLATFORM,
        frozenset({PLATFORM_LANE}),
        sees="all",
        oversees=True,
        operates=True,
        deploys=True,
    ),
    # Designers get no operator powers (instances, timers) and no worklist.
    DESIGNER: Role(PLATFORM, deploys=True),
    # Experts belong to their committee office's org and act only on ballots put before them
    # (tasks carrying their own user id); they see no application outside those tasks.
    EXPERT: Role(OFFICE, frozenset({EXPERT_LANE}), acts_for_org=False, sits_on_panels=True),
}
NO_ROLE = Role(org_kind="", acts_for_org=False)


def role_of(name: str | None) -> Role:
    """The role of this name (a role nobody defined may do nothing)."""
    return ROLES.get(name or "", NO_ROLE)


def lanes() -> frozenset[str]:
    """Every lane some role acts in: the lanes a diagram may name."""
    return frozenset(lane for role in ROLES.values() for lane in role.lanes)


def lane_roles(lane: str | None) -> frozenset[str]:
    """The roles that may act on a task of this lane."""
    return frozenset(name for name, role in ROLES.items() if lane in role.lanes)


def reviewer_roles() -> frozenset[str]:
    """The roles that review level by level along a review chain."""
    return frozenset(name for name, role in ROLES.items() if role.reviews_levels)


def operator_roles() -> frozenset[str]:
    """The roles that oversee every application (the platform's staff at work)."""
    return frozenset(name for name, role in ROLES.items() if role.oversees)
