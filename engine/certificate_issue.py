"""Issuing a 职称证书 in the caller's session: the number (committee prefix + year + gapless
5-digit sequence), holder, title, audit row and notice. Used by the ``Certificates`` service
(engine/certificates.py) and the diagrams' ``issue_certificate()`` (engine/functions.py).
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, select, update
from sqlalchemy.orm import Session

from engine import policy, roles
from engine.audit import audit_event
from engine.clock import CHINA_TZ
from engine.committees import Catalogue, Committee
from engine.errors import ConflictError, NotFoundError
from engine.ids import parse_id
from engine.notices import queue_notice
from engine.views import Actor
from storage import Application, Certificate, CertificateCounter, Org, User

# The review form's alphabet (engine/exports.py): no 0/O, 1/I to misread.
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
SEQUENCE_DIGITS = 5


def certificate_number(prefix: str, year: int, sequence: int) -> str:
    """NBSLZJ + 2026 + 00001."""
    return f"{prefix}{year}{sequence:0{SEQUENCE_DIGITS}d}"


def title_of(app: Application, rules: Mapping[str, Any]) -> str:
    """The title a certificate confers, e.g. 水利工程 中级 工程师 (the title name from the
    eligibility rules' ``titles``; the series when the rules name none)."""
    titles = (rules.get("titles") or {}).get(app.series) or {}
    name = titles.get(app.level) if isinstance(titles, Mapping) else None
    return f"{app.specialty} {app.level} {name or app.series}"


def not_passed_text(series: str, level: str, specialty: str, reason: str) -> str:
    """The applicant's notice when the committee did not pass an application."""
    return f"您申报的{series}系列{level}（{specialty}）职称未通过评审委员会评审。原因：{reason}"


def of_application(session: Session, application_id: int) -> Certificate | None:
    """The application's certificate, issued before or earlier in this very session (a
    script's session does not flush until its verb saves)."""
    for obj in session.new:
        if isinstance(obj, Certificate) and obj.application_id == application_id:
            return obj
    return session.scalars(
        select(Certificate).where(Certificate.application_id == application_id)
    ).first()


def _lock_counter(session: Session, committee_id: str, year: int) -> None:
    """Make sure the counter row exists and lock it until the caller's transaction ends."""
    # Imported here: sqlalchemy.dialects.postgresql loads every PostgreSQL driver module.
    from sqlalchemy.dialects import postgresql, sqlite

    table = cast(Table, CertificateCounter.__table__)
    values = {"committee_id": committee_id, "year": year, "last": 0}
    # The two databases we run on; both spell "create it unless it is there" the same way.
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    session.execute(dialect.insert(table).values(**values).on_conflict_do_nothing())
    key = (table.c.committee_id == committee_id) & (table.c.year == year)
    # A row lock on PostgreSQL, the database write lock on SQLite: issues queue up here.
    session.execute(update(table).where(key).values(last=table.c.last))


def _next_sequence(session: Session, committee_id: str, year: int) -> int:
    table = cast(Table, CertificateCounter.__table__)
    key = (table.c.committee_id == committee_id) & (table.c.year == year)
    bump = update(table).where(key).values(last=table.c.last + 1).returning(table.c.last)
    return int(session.execute(bump).scalar_one())


def _new_code(session: Session) -> str:
    while True:
        code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(12))
        taken = select(Certificate.id).where(Certificate.verification_code == code)
        if session.scalars(taken).first() is None:
            return code


def _issuer(session: Session, committee: Committee) -> str | None:
    """The HRSS department that issues the committee's certificates: its office's parent."""
    office = session.get(Org, committee.office_org_id)
    parent = session.get(Org, office.parent_id) if office and office.parent_id else None
    return parent.id if parent is not None and parent.kind == roles.HRSS else None


def issue_in(
    session: Session,
    application_id: int | str,
    now: datetime,
    catalogue: Catalogue,
    rules: Mapping[str, Any],
) -> Certificate:
    """Issue the application's certificate in ``session`` (the same one when issued before).

    The counter row is locked before the check for an earlier certificate, so two issues of
    one application never both pass it, and the sequence moves only when a certificate is
    written: numbers stay gapless when the caller's transaction rolls back.
    """
    key = parse_id(application_id)
    app = session.get(Application, key) if key is not None else None
    if app is None:
        raise NotFoundError("申报不存在")
    existing = of_application(session, app.id)
    if existing is not None:
        return existing
    committee = catalogue.find(app.series, app.level, app.specialty)
    if committee is None:
        raise ConflictError("评委会目录中没有评审该申报的评委会，无法发证", code="no_committee")
    issued_on = now.astimezone(CHINA_TZ).date()
    _lock_counter(session, committee.id, issued_on.year)
    existing = of_application(session, app.id)
    if existing is not None:
        return existing
    sequence = _next_sequence(session, committee.id, issued_on.year)
    holder = session.get_one(User, app.applicant_id)
    cert = Certificate(
        number=certificate_number(committee.number_prefix(), issued_on.year, sequence),
        application_id=app.id,
        committee_id=committee.id,
        issuer_org_id=_issuer(session, committee),
        year=issued_on.year,
        sequence=sequence,
        holder_name=holder.name,
        title=title_of(app, rules),
        verification_code=_new_code(session),
        issued_on=issued_on,
        issued_at=now,
    )
    session.add(cert)
    detail = {"number": cert.number, "title": cert.title}
    session.add(
        audit_event(
            now,
            None,
            "issue_certificate",
            opinion=f"证书编号 {cert.number}（{cert.title}）",  # what the timeline shows
            application_id=app.id,
            instance_id=app.instance_id,
            detail=detail,
        )
    )
    queue_notice(
        session,
        now=now,
        user_id=holder.id,
        org_id=None,
        phone=holder.phone,
        kind="certificate_issued",
        text=f"您的{cert.title}职称证书已发放，证书编号 {cert.number}，可在申报详情页下载电子证书。",
        instance_id=app.instance_id,
    )
    return cert


def certificate_of(session: Session, application_id: int, actor: Actor) -> dict[str, Any] | None:
    """What an application's answer shows of its certificate (None until certified)."""
    cert = of_application(session, application_id)
    if cert is None:
        return None
    return {
        "number": cert.number,
        "verification_code": cert.verification_code,
        "issued_on": cert.issued_on.isoformat(),
        "title": cert.title,
        "revoked": cert.revoked_at is not None,
        "revoked_on": day_of(cert.revoked_at),
        "revoke_reason": cert.revoke_reason,
        "can_revoke": cert.revoked_at is None
        and policy.may_revoke_certificate(actor, cert.issuer_org_id),
    }


def day_of(at: datetime | None) -> str | None:
    return at.astimezone(CHINA_TZ).date().isoformat() if at is not None else None
