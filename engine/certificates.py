"""职称证书: issue, the electronic certificate PDF, the public lookup by number and full name,
revocation by the issuing HRSS.

Issuing works in the caller's session (a diagram's ``issue_certificate()`` or a service verb),
so the certificate, its counter step, audit row and notice commit or roll back with it
(engine/certificate_issue.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from engine import policy
from engine.applications import visible_application
from engine.audit import audit_event
from engine.certificate_issue import certificate_of, day_of, issue_in, of_application
from engine.clock import Clock
from engine.designer_files import DesignerFiles
from engine.errors import ConflictError, ForbiddenError, InvalidDataError, NotFoundError
from engine.exports import mask_name
from engine.ids import parse_id
from engine.notices import phone_of, queue_notice
from engine.process_runtime import ProcessRuntime
from engine.views import Actor
from storage import Application, Certificate, Org, UnitOfWorkFactory, User, rows_changed

MAX_REASON = 2000


class Certificates:
    """Issue, show, look up, revoke and print 职称证书."""

    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        runtime: ProcessRuntime,
        files: DesignerFiles,
        base_url: str,
        *,
        clock: Clock,
    ) -> None:
        self._uow = uow_factory
        self.runtime = runtime
        self.files = files
        self.base_url = base_url.rstrip("/")
        self.clock = clock

    def lookup_url(self, number: str) -> str:
        """The public page the certificate's QR code opens (it asks for the holder's name)."""
        return f"{self.base_url}/certificates/{number}"

    def issue(self, session: Session, application_id: int | str, now: datetime) -> Certificate:
        """Issue in the caller's session with the rules of the application's process version;
        a second call returns the certificate already issued."""
        key = parse_id(application_id)
        app = session.get(Application, key) if key is not None else None
        version = self.runtime.files_version(session, app.instance_id if app else None)
        return issue_in(
            session,
            application_id,
            now,
            self.files.committees(version),
            self.files.eligibility_rules(version),
        )

    def issue_now(self, application_id: int | str) -> dict[str, Any]:
        """Issue in a unit of work of its own, for a caller outside any transaction; the
        certificate's number and verification code."""
        with self._uow() as uow:
            cert = self.issue(uow.session, application_id, self.clock())
            uow.commit()
            return {"number": cert.number, "verification_code": cert.verification_code}

    def for_application(self, actor: Actor, application_id: int | str) -> dict[str, Any] | None:
        """The certificate of an application the actor may see (None until certified)."""
        with self._uow() as uow:
            app = visible_application(uow.session, application_id, actor)
            return certificate_of(uow.session, app.id, actor)

    def lookup(self, number: str, name: str) -> dict[str, Any]:
        """Public: a certificate by number and the holder's full name (404 when they do not
        match, the same answer for an unknown number and a wrong name)."""
        with self._uow() as uow:
            cert = self._by_number(uow.session, number)
            if cert is None or cert.holder_name != (name or "").strip():
                raise NotFoundError("未找到该证书：请核对证书编号和持证人姓名")
            out: dict[str, Any] = {
                "valid": cert.revoked_at is None,
                "number": cert.number,
                "name": mask_name(cert.holder_name),
                "title": cert.title,
                "committee": self._committee_name(uow.session, cert),
                "issued_on": cert.issued_on.isoformat(),
                "verification_code": cert.verification_code,
                "revoked": cert.revoked_at is not None,
            }
            if cert.revoked_at is not None:
                out.update(revoked_on=day_of(cert.revoked_at), revoke_reason=cert.revoke_reason)
            return out

    def revoke(self, actor: Actor, number: str, body: Mapping[str, Any]) -> dict[str, Any]:
        """Revoke a certificate with a reason (the issuing HRSS, or an administrator); the
        holder is told by message and SMS. 409 ``already_revoked`` the second time."""
        if not policy.may_revoke_certificate(actor, None, any_org=True):
            raise ForbiddenError("只有发证的人力社保部门可以撤销职称证书")
        reason = body.get("reason")
        if not isinstance(reason, str) or not reason.strip():
            raise InvalidDataError("请填写撤销原因", fields={"reason": "必填"})
        if len(reason) > MAX_REASON:
            raise InvalidDataError("撤销原因过长", fields={"reason": f"不超过 {MAX_REASON} 个字"})
        now = self.clock()
        with self._uow() as uow:
            session = uow.session
            cert = self._by_number(session, number)
            if cert is None:
                raise NotFoundError("证书不存在")
            if not policy.may_revoke_certificate(actor, cert.issuer_org_id):
                raise ForbiddenError("只有发证的人力社保部门可以撤销该证书")
            changed = rows_changed(
                session,
                update(Certificate)
                .where(Certificate.id == cert.id, Certificate.revoked_at.is_(None))
                .values(revoked_at=now, revoked_by=actor.id, revoke_reason=reason.strip()),
            )
            if not changed:
                raise ConflictError("该证书已撤销", code="already_revoked")
            self._record_revocation(session, cert, actor, reason.strip(), now)
            uow.commit()
        return {"number": cert.number, "revoked": True, "revoked_on": day_of(now)}

    def pdf(self, actor: Actor, application_id: int | str) -> bytes:
        """The electronic certificate of an application the actor may see; 409
        ``not_certified`` before it is issued."""
        with self._uow() as uow:
            session = uow.session
            app = visible_application(session, application_id, actor)
            cert = of_application(session, app.id)
            if cert is None:
                raise ConflictError("该申报尚未取得职称证书", code="not_certified")
            facts = self._facts(session, app, cert)
        from engine.certificate_pdf import certificate_pdf  # reportlab: loaded when first drawn

        return certificate_pdf(facts, verify_url=self.lookup_url(facts["number"]))

    def download_name(self, actor: Actor, application_id: int | str) -> str:
        """What a saved certificate is called: 职称证书-<number>.pdf."""
        cert = self.for_application(actor, application_id)
        return f"职称证书-{cert['number'] if cert else application_id}.pdf"

    @staticmethod
    def _by_number(session: Session, number: str) -> Certificate | None:
        wanted = (number or "").strip().upper()
        if not wanted:
            return None
        return session.scalars(select(Certificate).where(Certificate.number == wanted)).first()

    def _committee_name(self, session: Session, cert: Certificate) -> str:
        app = session.get(Application, cert.application_id)
        version = self.runtime.files_version(session, app.instance_id if app else None)
        committee = self.files.committees(version).get(cert.committee_id)
        return committee.name if committee else cert.committee_id

    def _facts(self, session: Session, app: Application, cert: Certificate) -> dict[str, Any]:
        holder = session.get(User, app.applicant_id)
        unit = session.get(Org, app.unit_org_id)
        issuer = session.get(Org, cert.issuer_org_id) if cert.issuer_org_id else None
        id_number = holder.id_number if holder else None
        return {
            "number": cert.number,
            "verification_code": cert.verification_code,
            "holder_name": cert.holder_name,
            "id_number": id_number[:6] + "********" + id_number[-4:] if id_number else None,
            "unit_name": unit.name if unit else None,
            "title": cert.title,
            "committee": self._committee_name(session, cert),
            "issuer": issuer.name if issuer else None,
            "issued_on": cert.issued_on.isoformat(),
            "revoked": cert.revoked_at is not None,
            "revoked_on": day_of(cert.revoked_at),
            "revoke_reason": cert.revoke_reason,
        }

    @staticmethod
    def _record_revocation(
        session: Session, cert: Certificate, actor: Actor, reason: str, now: datetime
    ) -> None:
        app = session.get_one(Application, cert.application_id)
        session.add(
            audit_event(
                now,
                actor,
                "revoke_certificate",
                application_id=app.id,
                instance_id=app.instance_id,
                reason=reason,
                detail={"number": cert.number},
            )
        )
        phone = phone_of(session, app.applicant_id, None)
        queue_notice(
            session,
            now=now,
            user_id=app.applicant_id,
            org_id=None,
            phone=phone,
            kind="certificate_revoked",
            text=f"您的职称证书（编号 {cert.number}）已被撤销。原因：{reason}",
            instance_id=app.instance_id,
        )
