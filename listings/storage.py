"""Uploads: recognised by content, limited in size, stored content-addressed by SHA-256.

The bytes live behind the platform's storage interface (:mod:`market.storage`: a directory or an
S3-compatible object store, chosen by ``MARKET_STORAGE_URL``), under ``ab/cd/<sha256>``. Who may
read a file is decided here: the organisation that uploaded it, the operator and the finance
bureau (a package that shows files to others, such as the contracts package with its
deliverables, checks its own rule before reading the stored bytes).

An organisation that is not approved yet (pending or rejected) may upload a bounded amount
(``MARKET_UNAPPROVED_UPLOAD_FILES`` files, ``MARKET_UNAPPROVED_UPLOAD_BYTES`` in all). A file
sent with a form that is refused is *held* (:func:`hold`, under ``.held/`` in the same storage)
for a short while, so that the form shown again keeps it; :func:`sweep` (a worker job) removes
held files that were never used and what writes a killed process never finished left behind.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, func
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col, select

from listings.models import FileUpload, RegistrationCounter, StoredFile
from listings.rules import extension_matches, sniff_content_type
from market import audit, clock
from market.actor import Actor
from market.errors import FieldError, InvalidInput, NotFound, PayloadTooLarge, UnsupportedMedia
from market.i18n import gettext as _
from market.identity.models import Organization, OrgStatus
from market.schemas import invisible_character, invisible_message
from market.settings import Settings
from market.storage import TEMP_MAX_AGE, Storage, StoredObject, get_content, put_content, sha256_of, storage_for

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


def clean_filename(filename: str | None, field: str = "file") -> str:
    """The name kept for an uploaded file: its last path segment, printable characters only.
    A name with invisible or text-direction characters (``invoice\u202efdp.exe``) is refused
    (422 naming ``field``), not silently changed."""
    name = (filename or "").replace("\\", "/").rsplit("/", 1)[-1].strip()
    found = invisible_character(name)
    if found is not None:
        raise InvalidInput.field(field, invisible_message(found))
    name = "".join(c for c in name if c.isprintable())
    return name[-200:] or "upload"


async def check_quota(session: AsyncSession, settings: Settings, org_id: uuid.UUID, size: int, field: str) -> None:
    """An organisation that is not approved yet (pending or rejected) uploads at most
    ``settings.unapproved_upload_files`` files and ``settings.unapproved_upload_bytes`` in all.
    The organisation's row is locked while it is counted, so that parallel uploads cannot pass
    the bound together."""
    org = await session.scalar(
        select(Organization)
        .where(col(Organization.id) == org_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if org is None or org.status not in (OrgStatus.pending, OrgStatus.rejected):
        return
    files, total = (
        await session.execute(
            select(func.count(), func.coalesce(func.sum(col(StoredFile.size)), 0))
            .select_from(FileUpload)
            .join(StoredFile, col(StoredFile.sha256) == col(FileUpload.sha256))
            .where(col(FileUpload.org_id) == org_id)
        )
    ).one()
    megabytes = f"{settings.unapproved_upload_bytes / 1024 / 1024:g}"
    if int(files) + 1 > settings.unapproved_upload_files or int(total) + size > settings.unapproved_upload_bytes:
        raise PayloadTooLarge(
            _("The upload limit before approval is reached."),
            _(
                "Until the operator approves your organisation it may upload %(files)d files, %(mb)s MB in all.",
                files=settings.unapproved_upload_files,
                mb=megabytes,
            ),
            errors=[FieldError(field, _("No more uploads before approval."))],
        )


async def store_upload(
    session: AsyncSession,
    actor: Actor,
    settings: Settings,
    data: bytes,
    filename: str | None,
    *,
    field: str = "file",
    org_id: uuid.UUID | None = None,
    storage: Storage | None = None,
) -> Upload:
    """Check, store (once per content) and record who uploaded it: the actor's organisation, or
    ``org_id`` (the organisation a registration is creating)."""
    owner = org_id or actor.org_id
    if owner is None:
        raise InvalidInput.field(field, _("Sign in to upload files."))
    name = clean_filename(filename, field)
    content_type = check_upload(data, name, settings.max_upload_bytes, field)
    await check_quota(session, settings, owner, len(data), field)
    digest = await sha256_of(data)
    stored = await session.get(StoredFile, digest)
    if stored is None:
        # written before the row: a rolled-back row leaves an orphan, never a hole
        await put_content(storage or storage_for(settings), digest, data)
        session.add(StoredFile(sha256=digest, size=len(data), content_type=content_type))
        await session.flush()
    upload = FileUpload(sha256=digest, org_id=owner, user_id=actor.user_id, filename=name)
    session.add(upload)
    await session.flush()
    audit.record(
        session,
        actor,
        "file.uploaded",
        "file",
        digest,
        {"size": len(data), "content_type": content_type, "filename": name, "org_id": owner},
    )
    return Upload(sha256=digest, size=len(data), content_type=content_type, filename=name)


# --- files held across a refused form ----------------------------------------------------------

HELD_DIR = ".held"
HELD_MAX_AGE = timedelta(hours=2)
HELD_PER_CLIENT = 3  # a client's older held files make room for its newer ones
# a held file's name: when it was held (microseconds since the epoch, so names sort by age), its SHA-256
_HELD_NAME = re.compile(r"^(\d{16})-([0-9a-f]{64})$")


@dataclass(frozen=True)
class Held:
    """A file that came with a refused form, kept so that the form shown again need not ask for
    it: ``token`` (a hidden field of that form) names it, signed so that nobody can name a
    file they did not send."""

    token: str
    sha256: str
    filename: str
    content_type: str
    size: int


def _held_folder(settings: Settings, client: str | None) -> str:
    key = hmac.new(settings.secret_key.encode(), b"held-client:" + (client or "-").encode(), "sha256").hexdigest()
    return key[:24]


def _sign(settings: Settings, payload: bytes) -> str:
    return hmac.new(settings.secret_key.encode(), b"held-file:" + payload, hashlib.sha256).hexdigest()


def held_since(item: StoredObject) -> datetime:
    """When a held file was held: the time in its name (the storage's own time for a name without
    one)."""
    found = _HELD_NAME.match(item.key.rsplit("/", 1)[-1])
    if found is None:
        return item.modified
    return datetime.fromtimestamp(int(found.group(1)) / 1_000_000, UTC)


async def hold(
    settings: Settings,
    client: str | None,
    data: bytes,
    filename: str | None,
    field: str = "file",
    storage: Storage | None = None,
) -> Held:
    """Keep an acceptable file (checked as an upload is) for :data:`HELD_MAX_AGE`; at most
    :data:`HELD_PER_CLIENT` per client address, so that refused forms cannot fill the storage."""
    storage = storage or storage_for(settings)
    name = clean_filename(filename, field)
    content_type = check_upload(data, name, settings.max_upload_bytes, field)
    digest = await sha256_of(data)
    folder = _held_folder(settings, client)
    now = clock.now()
    entry = f"{int(now.timestamp() * 1_000_000):016d}-{digest}"
    await storage.put(f"{HELD_DIR}/{folder}/{entry}", data)
    kept = sorted(await storage.list_under(f"{HELD_DIR}/{folder}/"), key=held_since, reverse=True)
    newest: list[StoredObject] = []
    for item in kept:
        if item.key.endswith(entry):
            newest.insert(0, item)
        elif item.key.endswith(digest):  # the same file held before: this one replaces it
            await storage.delete(item.key)
        else:
            newest.append(item)
    for old in newest[HELD_PER_CLIENT:]:
        await storage.delete(old.key)
    expires = int(now.timestamp() + HELD_MAX_AGE.total_seconds())
    payload = json.dumps([folder, entry, name, content_type, len(data), expires], ensure_ascii=False).encode()
    token = base64.urlsafe_b64encode(payload).decode().rstrip("=") + "." + _sign(settings, payload)
    return Held(token=token, sha256=digest, filename=name, content_type=content_type, size=len(data))


async def held(settings: Settings, token: str, storage: Storage | None = None) -> tuple[Held, bytes] | None:
    """The file a :func:`hold` token names, with its bytes; ``None`` when the token is not one
    of ours, has expired, or its file is gone."""
    encoded, _dot, signature = token.strip().partition(".")
    try:
        payload = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))
        folder, entry, name, content_type, size, expires = json.loads(payload)
        found = _HELD_NAME.match(str(entry))
    except (ValueError, binascii.Error, TypeError):
        return None
    if not hmac.compare_digest(signature, _sign(settings, payload)) or found is None:
        return None
    if expires < clock.now().timestamp():
        return None
    digest = found.group(2)
    try:
        data = await (storage or storage_for(settings)).get(f"{HELD_DIR}/{folder}/{entry}")
    except (OSError, ValueError):
        return None
    if await sha256_of(data) != digest:
        return None
    return Held(token=token, sha256=digest, filename=name, content_type=content_type, size=size), data


# --- sweeping --------------------------------------------------------------------------------

SWEEP_EVERY = timedelta(minutes=10)
COUNTERS_KEPT = timedelta(days=1)
_last_sweep: dict[str, float] = {}


async def sweep_files(storage: Storage, now: datetime) -> int:
    """Remove what writes that never finished left (older than :data:`TEMP_MAX_AGE`; the file
    backend's ``.upload-*`` files) and the held files held more than :data:`HELD_MAX_AGE` before
    ``now``; returns how many were removed. Stored documents are never swept."""
    removed = await storage.sweep_temporary(TEMP_MAX_AGE)
    for item in await storage.list_under(f"{HELD_DIR}/"):
        if now - held_since(item) > HELD_MAX_AGE:
            await storage.delete(item.key)
            removed += 1
    return removed


async def sweep(factory: async_sessionmaker[AsyncSession], settings: Settings, now: datetime) -> int:
    """The worker job: every :data:`SWEEP_EVERY` (and when a worker starts), the files
    :func:`sweep_files` removes and the registration counters older than a day."""
    started = time.monotonic()
    last = _last_sweep.get(settings.storage_location)
    if last is not None and started - last < SWEEP_EVERY.total_seconds():
        return 0
    _last_sweep[settings.storage_location] = started
    removed = await sweep_files(storage_for(settings), now)
    async with factory() as session:
        result = await session.execute(
            delete(RegistrationCounter).where(col(RegistrationCounter.window_start) < now - COUNTERS_KEPT)
        )
        await session.commit()
    return removed + int(getattr(result, "rowcount", 0) or 0)


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
    try:
        return stored, await get_content(storage, sha256)
    except FileNotFoundError:
        raise NotFound(_("The stored file is missing.")) from None
