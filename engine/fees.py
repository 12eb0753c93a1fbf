"""Which applications in flight a change of a department's fee switch (收费设定) would affect.

The fee is decided when the review completes, from the switches of the application's chain at
that moment (bpmn: decide_fees). An application still before that point is affected by a switch
when the department is on its chain and no other level of the chain charges: then this switch
alone decides whether the applicant pays.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.committees import Catalogue
from storage import Application, Org, User

# Statuses before the fee is decided (the last level has not approved yet).
BEFORE_FEE = ("draft", "returned", "unit_review", "publicity", "in_review")


def expected_chain(orgs: dict[str, Org], catalogue: Catalogue, app: Application) -> list[str]:
    """The application's chain: recorded once the unit approved, else worked out as the
    engine will (the unit's departments up to the committee's office and its HRSS)."""
    if app.chain:
        return list(app.chain)
    chain: list[str] = []
    org = orgs.get(app.unit_org_id)
    while org is not None and org.parent_id is not None and org.parent_id not in chain:
        chain.append(org.parent_id)
        org = orgs.get(org.parent_id)
    committee = catalogue.find(app.series, app.level, app.specialty)
    if committee is not None and committee.office_org_id in chain:
        chain = chain[: chain.index(committee.office_org_id) + 1]
        office = orgs.get(committee.office_org_id)
        if office is not None and office.parent_id:
            chain.append(office.parent_id)
    return chain


def affected_by_switch(
    session: Session, catalogue: Catalogue, org_id: str, charge_after: bool
) -> list[dict[str, Any]]:
    """Applications before the fee decision whose payment would change if ``org_id``'s switch
    were ``charge_after`` (empty when it already is)."""
    orgs = {o.id: o for o in session.scalars(select(Org))}
    org = orgs.get(org_id)
    if org is None or bool(org.charge) == charge_after:
        return []
    apps = session.scalars(
        select(Application).where(Application.status.in_(BEFORE_FEE)).order_by(Application.id)
    ).all()
    out = []
    for app in apps:
        chain = expected_chain(orgs, catalogue, app)
        if org_id not in chain:
            continue
        if any(orgs[o].charge for o in chain if o != org_id and o in orgs):
            continue
        committee = catalogue.find(app.series, app.level, app.specialty)
        amount = committee.fee(app.level)["amount"] if committee else 0
        if not amount:
            continue
        applicant = session.get(User, app.applicant_id)
        out.append(
            {
                "id": str(app.id),
                "applicant": applicant.name if applicant else None,
                "status": app.status,
                "series": app.series,
                "level": app.level,
                "specialty": app.specialty,
                "amount_after": amount if charge_after else 0,
            }
        )
    return out
