"""Uploads: recognised by content, limited in size, stored content-addressed by SHA-256.

:class:`Storage` is the small interface the platform stores bytes behind; :class:`LocalStorage`
keeps them in a directory (``settings.upload_dir``), an object store can implement the same
two methods later. Who may read a file is decided here too: the organisation that uploaded it,
the operator and the finance bureau (a package that shows files to others, such as the contracts
package with its deliverables, checks its own rule before reading the stored bytes).
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from listings.models import FileUpload, StoredFile
from listings.rules import extension_matches, sniff_content_type
from market import audit
from market.actor import Actor
from market.errors import FieldError, InvalidInput, NotFound, PayloadTooLarge, UnsupportedMedia
from market.i18n import gettext as _
from market.settings import Settings


class Storage(Protocol):
    def put(self, sha256: str, data: bytes) -> None: ...

    def get(self, sha256: str) -> bytes: ...


class LocalStorage:
    """Files under ``root/ab/cd/<sha256>``, written atomically (temporary file, then rename) and
    checked against their name when read. Uploads and rendered documents share it."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def path(self, sha256: str) -> Path:
        if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
            raise ValueError("not a SHA-256 hex digest")
        return self.root / sha256[:2] / sha256[2:4] / sha256

    def put(self, sha256: str, data: bytes) -> None:
        target = self.path(sha256)
        if target.is_file():
            return
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".upload-")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def get(self, sha256: str) -> bytes:
        """The stored bytes; a file whose content no longer matches its name is never served."""
        data = self.path(sha256).read_bytes()
        if hashlib.sha256(data).hexdigest() != sha256:
            raise OSError(f"stored file {sha256} is damaged")
        return data


def storage_for(settings: Settings) -> Storage:
    return LocalStorage(settings.upload_dir)


# the request body may exceed the file by the multipart framing and a few small fields
MULTIPART_OVERHEAD = 64 * 1024


def upload_body_limit(settings: Settings) -> int:
    return settings.max_upload_bytes + MULTIPART_OVERHEAD


@dataclass(frozen=True)
class Upload:
    sha256: str
    size: int
    content_type: str
    filename: str


def check_upload(data: bytes, filename: str, max_bytes: int, field: str = "file") -> str:
    """The content type of an acceptable upload, or the error that refuses it."""
    if len(data) > max_bytes:
        megabytes = f"{max_bytes / 1024 / 1024:g}"
        raise PayloadTooLarge(
            _("The file is too large."),
            _("Files may have at most %(mb)s MB.", mb=megabytes),
            errors=[FieldError(field, _("Too large."))],
        )
    if not data:
        raise InvalidInput.field(field, _("The file is empty."))
    content_type = sniff_content_type(data[:16])
    if content_type is None:
        raise UnsupportedMedia(
            _("Only PDF, PNG and JPEG files are accepted."),
            _("The content of this file is none of them, whatever its name says."),
            errors=[FieldError(field, _("Not a PDF, PNG or JPEG file."))],
        )
    if not extension_matches(filename, content_type):
        raise UnsupportedMedia(
            _("The file's name does not match its content."),
            _("The name ends in another type than the content has. Rename the file or upload the right one."),
            errors=[FieldError(field, _("The name does not match the content."))],
        )
    return content_type


def clean_filename(filename: str | None) -> str:
    name = (filename or "").replace("\\", "/").rsplit("/", 1)[-1].strip()
    name = "".join(c for c in name if c.isprintable())
    return name[-200:] or "upload"


async def store_upload(
    session: AsyncSession,
    actor: Actor,
    storage: Storage,
    data: bytes,
    filename: str | None,
    *,
    max_bytes: int,
    field: str = "file",
) -> Upload:
    """Check, store (once per content) and record who uploaded it."""
    if actor.org_id is None:
        raise InvalidInput.field(field, _("Sign in to upload files."))
    name = clean_filename(filename)
    content_type = check_upload(data, name, max_bytes, field)
    digest = hashlib.sha256(data).hexdigest()
    stored = await session.get(StoredFile, digest)
    if stored is None:
        storage.put(digest, data)  # written before the row: a rolled-back row leaves an orphan, never a hole
        session.add(StoredFile(sha256=digest, size=len(data), content_type=content_type))
        await session.flush()
    upload = FileUpload(sha256=digest, org_id=actor.org_id, user_id=actor.user_id, filename=name)
    session.add(upload)
    await session.flush()
    audit.record(
        session,
        actor,
        "file.uploaded",
        "file",
        digest,
        {"size": len(data), "content_type": content_type, "filename": name},
    )
    return Upload(sha256=digest, size=len(data), content_type=content_type, filename=name)


# --- who may read ------------------------------------------------------------------------------


async def uploaded_by(session: AsyncSession, sha256: str, org_id: uuid.UUID) -> bool:
    found = await session.scalar(
        select(FileUpload.id).where(col(FileUpload.sha256) == sha256, col(FileUpload.org_id) == org_id).limit(1)
    )
    return found is not None


async def may_read(session: AsyncSession, actor: Actor, sha256: str) -> bool:
    if actor.role in ("admin", "finance"):
        return True
    return actor.org_id is not None and await uploaded_by(session, sha256, actor.org_id)


async def read_file(session: AsyncSession, actor: Actor, storage: Storage, sha256: str) -> tuple[StoredFile, bytes]:
    """The file's record and bytes; NotFound both when it does not exist and when the actor may not
    read it (so that nobody learns which files exist)."""
    sha256 = sha256.lower()
    stored = await session.get(StoredFile, sha256) if len(sha256) == 64 else None
    if stored is None or not await may_read(session, actor, sha256):
        raise NotFound(_("No such file."))
    return stored, storage.get(sha256)
