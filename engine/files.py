"""Content-addressed file store: sha256-named blobs on disk plus a metadata row."""

from __future__ import annotations

import os
import secrets
import tempfile
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import policy
from engine.ballots import holds_seat
from engine.errors import ForbiddenError, InvalidDataError, NotFoundError
from engine.file_names import safe_filename
from engine.forms import file_fields
from engine.handoff_state import is_copied
from engine.pdf_limits import PdfLimits
from engine.views import Actor
from storage import Application, StoredFile


class FileStore:
    """Checks, stores and reads uploaded PDFs."""

    def __init__(
        self,
        root: Path,
        *,
        max_bytes: int,
        max_pages: int,
        max_decoded_bytes: int = PdfLimits.max_decoded_bytes,
        max_objects: int = PdfLimits.max_objects,
    ) -> None:
        self.root = root
        self.max_bytes = max_bytes
        self.max_pages = max_pages
        self.max_decoded_bytes = max_decoded_bytes
        self.max_objects = max_objects

    def path_for(self, sha256: str) -> Path:
        """Where a blob lives; the name is the hash, never the user's file name."""
        return self.root / sha256[:2] / sha256

    def save(
        self, session: Session, data: bytes, filename: str, owner: Actor, now: datetime
    ) -> StoredFile:
        """Check a PDF and store it; nothing is written when the check fails."""
        from engine.pdf_checks import inspect_pdf  # pypdf: loaded with the first upload

        info = inspect_pdf(
            data,
            max_bytes=self.max_bytes,
            max_pages=self.max_pages,
            max_decoded_bytes=self.max_decoded_bytes,
            max_objects=self.max_objects,
        )
        target = self.path_for(info.sha256)
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".upload-")
            with os.fdopen(fd, "wb") as out:
                out.write(data)
            os.replace(tmp, target)
        row = StoredFile(
            id=secrets.token_hex(12),
            sha256=info.sha256,
            size=info.size,
            pages=info.pages,
            filename=safe_filename(filename or "upload.pdf"),
            content_type="application/pdf",
            owner_id=owner.id,
            owner_org_id=owner.org_id,
            created_at=now,
        )
        session.add(row)
        return row

    def read(self, row: StoredFile) -> bytes:
        """The stored bytes of a file row."""
        path = self.path_for(row.sha256)
        if not path.exists():
            raise NotFoundError("文件内容缺失")
        return path.read_bytes()

    @staticmethod
    def get(session: Session, file_id: str) -> StoredFile:
        """A file row by id, or NotFoundError."""
        row = session.get(StoredFile, file_id) if file_id.isalnum() else None
        if row is None:
            raise NotFoundError("文件不存在")
        return row


def check_owner(row: StoredFile, actor: Actor) -> None:
    """Only the uploader (or the uploader's org) may use a file in a form."""
    if not policy.may_use_file(actor, row.owner_id, row.owner_org_id):
        raise ForbiddenError("该文件不属于您")


def check_file_refs(session: Session, schema: Mapping, data: Mapping, actor: Actor) -> None:
    """422 naming the field when a form refers to a file that is unknown or not the caller's."""
    fields = {}
    for path, file_id in file_fields(schema, data):
        row = session.get(StoredFile, file_id) if file_id.isalnum() else None
        if row is None:
            fields[path] = "文件不存在"
            continue
        try:
            check_owner(row, actor)
        except ForbiddenError:
            fields[path] = "该文件不属于您"
    if fields:
        raise InvalidDataError("附件无效", fields=fields)


class Documents:
    """Upload and download verbs over the file store, with visibility rules."""

    def __init__(self, uow_factory: Any, store: FileStore, clock: Any) -> None:
        self._uow = uow_factory
        self.store = store
        self.clock = clock

    def upload(self, data: bytes, filename: str, actor: Actor) -> dict[str, Any]:
        """Check and store a PDF for the caller."""
        with self._uow() as uow:
            row = self.store.save(uow.session, data, filename, actor, self.clock())
            uow.commit()
            return {
                "file_id": row.id,
                "sha256": row.sha256,
                "pages": row.pages,
                "size": row.size,
                "filename": row.filename,
            }

    def download(self, file_id: str, actor: Actor) -> tuple[bytes, str]:
        """The bytes of a file the caller may see."""
        with self._uow() as uow:
            row = self.store.get(uow.session, file_id)
            if not self._may_see(uow.session, row, actor):
                raise ForbiddenError("无权查看该文件")
            return self.store.read(row), row.filename

    @staticmethod
    def _may_see(session: Session, row: StoredFile, actor: Actor) -> bool:
        owner_apps = (
            session.scalars(select(Application).where(Application.applicant_id == row.owner_id))
            if row.owner_id is not None and row.owner_id != actor.id
            else ()
        )
        return policy.may_see_file(
            actor,
            row.owner_id,
            row.owner_org_id,
            owner_apps,
            copied=lambda app: is_copied(session, app.id, actor.id),
            seated=lambda app: holds_seat(session, app.id, actor.id),
        )
