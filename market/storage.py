"""Where the platform keeps document bytes: one storage interface, two backends.

Every uploaded file (business licences, qualification scans, deliverables), every rendered PDF
(contracts, supplementary agreements, invoices, credit notes) and every file held across a refused
form is stored through :class:`Storage`, chosen by ``MARKET_STORAGE_URL``:

* ``file:///path`` (the default, ``MARKET_UPLOAD_DIR``): :class:`FileStorage`, a directory; a write
  goes to a temporary ``.upload-*`` file beside its target, then is renamed over it;
* ``s3://bucket/prefix``: :class:`S3Storage`, an S3-compatible object store (AWS S3, MinIO, …)
  through PyPI ``obstore``; a write is one ``PUT`` (never a multipart upload), which the store
  makes visible whole or not at all. Several app and worker hosts then share the documents.

The interface is keyed by relative, ``/``-separated names and async: the file backend runs its
system calls in a worker thread, obstore's requests run on its own I/O runtime, so neither
blocks the event loop. Documents are content-addressed: :func:`put_content` stores bytes under
their SHA-256 (``ab/cd/<sha256>``, the same names on both backends) once, and
:func:`get_content` never returns bytes that no longer match their name.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import os
import re
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Protocol
from urllib.parse import unquote, urlsplit

from market.settings import Settings, SettingsError

TEMP_PREFIX = ".upload-"  # a file being written; one older than TEMP_MAX_AGE was left by a killed process
TEMP_MAX_AGE = timedelta(hours=1)
_SEGMENT = re.compile(r"^[A-Za-z0-9._-]+$")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


class DamagedFile(OSError):
    """Stored bytes that no longer match the SHA-256 they are stored under."""


@dataclass(frozen=True)
class StoredObject:
    key: str
    size: int
    modified: datetime  # aware, UTC


def check_key(key: str) -> str:
    """A stored object's name: relative, ``/``-separated segments of letters, digits and ``._-``;
    no ``.`` or ``..`` segment, none named like a temporary file."""
    segments = key.split("/")
    if any(not _SEGMENT.match(s) or s in (".", "..") or s.startswith(TEMP_PREFIX) for s in segments):
        raise ValueError(f"not a storage key: {key!r}")
    return key


def check_prefix(prefix: str) -> str:
    """A folder of keys, ending with ``/``."""
    if not prefix.endswith("/"):
        raise ValueError(f"a storage prefix ends with '/': {prefix!r}")
    check_key(prefix.rstrip("/"))
    return prefix


class Storage(Protocol):
    """Bytes by key. ``put`` replaces whole or not at all; ``get`` raises :class:`FileNotFoundError`
    for a key that is not there; ``delete`` of a missing key is no error."""

    location: str  # where, for people (no credentials)

    async def put(self, key: str, data: bytes) -> None: ...

    async def get(self, key: str) -> bytes: ...

    async def exists(self, key: str) -> bool: ...

    async def delete(self, key: str) -> None: ...

    async def list_under(self, prefix: str) -> list[StoredObject]:
        """Every object under ``prefix`` (a folder, ending with ``/``), at any depth."""
        ...

    async def sweep_temporary(self, older_than: timedelta) -> int:
        """Remove what writes that never finished left behind (older than ``older_than``, real time);
        returns how many were removed."""
        ...


# --- the file backend --------------------------------------------------------------------------


def write_atomically(target: Path, data: bytes) -> None:
    """``data`` at ``target``, whole or not at all: written to a temporary file beside it, then
    renamed (a process killed meanwhile leaves a ``.upload-`` file, which the sweep removes)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=TEMP_PREFIX)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class FileStorage:
    """Objects as files under ``root`` (``root/<key>``), written atomically; every system call runs
    in a worker thread."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.location = self.root.as_uri() if self.root.is_absolute() else str(self.root)

    def path(self, key: str) -> Path:
        return self.root / check_key(key)

    async def put(self, key: str, data: bytes) -> None:
        await asyncio.to_thread(write_atomically, self.path(key), data)

    async def get(self, key: str) -> bytes:
        return await asyncio.to_thread(self.path(key).read_bytes)

    async def exists(self, key: str) -> bool:
        return await asyncio.to_thread(self.path(key).is_file)

    async def delete(self, key: str) -> None:
        await asyncio.to_thread(self.path(key).unlink, missing_ok=True)

    async def list_under(self, prefix: str) -> list[StoredObject]:
        return await asyncio.to_thread(self._list, check_prefix(prefix))

    def _list(self, prefix: str) -> list[StoredObject]:
        folder = self.root / prefix
        found: list[StoredObject] = []
        for dirpath, _dirs, files in os.walk(folder):
            for name in files:
                if name.startswith(TEMP_PREFIX):
                    continue
                path = Path(dirpath) / name
                try:
                    stat = path.stat()
                except FileNotFoundError:
                    continue
                key = path.relative_to(self.root).as_posix()
                found.append(StoredObject(key, stat.st_size, datetime.fromtimestamp(stat.st_mtime, UTC)))
        return found

    async def sweep_temporary(self, older_than: timedelta) -> int:
        return await asyncio.to_thread(self._sweep_temporary, older_than)

    def _sweep_temporary(self, older_than: timedelta) -> int:
        removed = 0
        now = time.time()
        if not self.root.is_dir():
            return 0
        for dirpath, _dirs, files in os.walk(self.root):
            for name in files:
                if not name.startswith(TEMP_PREFIX):
                    continue
                path = Path(dirpath) / name
                try:
                    age = now - path.stat().st_mtime
                except FileNotFoundError:
                    continue
                if age > older_than.total_seconds():
                    path.unlink(missing_ok=True)
                    removed += 1
        return removed


# --- the S3-compatible backend ------------------------------------------------------------------


@dataclass(frozen=True)
class S3Location:
    bucket: str
    prefix: str  # "" or "a/b" (no slashes at either end)


def parse_s3_url(url: str) -> S3Location:
    parts = urlsplit(url)
    if parts.scheme != "s3" or not parts.netloc or parts.query or parts.fragment:
        raise SettingsError(f"MARKET_STORAGE_URL must look like s3://bucket/prefix, got {url!r}")
    prefix = unquote(parts.path).strip("/")
    if prefix:
        try:
            check_key(prefix)
        except ValueError:
            raise SettingsError(f"MARKET_STORAGE_URL: {prefix!r} is not a usable prefix") from None
    return S3Location(parts.netloc, prefix)


class S3Storage:
    """Objects in an S3-compatible bucket under a prefix, through obstore (its requests run on its
    own runtime: awaiting them never blocks the event loop). A ``put`` is one ``PUT`` request: the
    object appears whole or not at all, so no temporary object is ever left to sweep."""

    def __init__(
        self,
        url: str,
        *,
        endpoint: str | None = None,
        region: str | None = None,
        access_key_id: str | None = None,
        secret_access_key: str | None = None,
    ) -> None:
        from obstore.store import S3Store

        where = parse_s3_url(url)
        self.location = f"s3://{where.bucket}/{where.prefix}".rstrip("/")
        config: dict[str, str] = {}
        if endpoint:
            config["endpoint"] = endpoint
        if region:
            config["region"] = region
        if access_key_id:
            config["access_key_id"] = access_key_id
        if secret_access_key:
            config["secret_access_key"] = secret_access_key
        # settings not given here come from the usual AWS_* variables (or the instance's role)
        self.store = S3Store(
            where.bucket,
            prefix=where.prefix or None,
            config=config,  # type: ignore[arg-type]  # obstore types it as a TypedDict of these keys
            client_options={"allow_http": bool(endpoint and endpoint.startswith("http://"))},
        )

    async def put(self, key: str, data: bytes) -> None:
        import obstore

        await obstore.put_async(self.store, check_key(key), data, use_multipart=False)

    async def get(self, key: str) -> bytes:
        import obstore

        result = await obstore.get_async(self.store, check_key(key))  # NotFoundError is a FileNotFoundError
        return bytes(await result.bytes_async())

    async def exists(self, key: str) -> bool:
        import obstore

        try:
            await obstore.head_async(self.store, check_key(key))
        except FileNotFoundError:
            return False
        return True

    async def delete(self, key: str) -> None:
        import obstore

        await obstore.delete_async(self.store, check_key(key))

    async def list_under(self, prefix: str) -> list[StoredObject]:
        import obstore

        found: list[StoredObject] = []
        async for batch in obstore.list(self.store, check_prefix(prefix).rstrip("/"), chunk_size=1000):
            for meta in batch:
                modified = meta["last_modified"]
                found.append(StoredObject(meta["path"], int(meta["size"]), modified.astimezone(UTC)))
        return found

    async def sweep_temporary(self, older_than: timedelta) -> int:
        return 0  # single PUTs: nothing half-written is ever visible or left behind


# --- choosing one --------------------------------------------------------------------------------


@functools.cache
def _open(
    url: str, endpoint: str | None, region: str | None, access_key_id: str | None, secret_access_key: str | None
) -> Storage:
    if url.startswith("s3://"):
        return S3Storage(
            url, endpoint=endpoint, region=region, access_key_id=access_key_id, secret_access_key=secret_access_key
        )
    return FileStorage(file_root(url))


def file_root(url: str) -> Path:
    parts = urlsplit(url)
    if parts.scheme != "file" or parts.netloc not in ("", "localhost") or not parts.path:
        raise SettingsError(f"MARKET_STORAGE_URL must look like file:///absolute/path, got {url!r}")
    return Path(unquote(parts.path))


def storage_for(settings: Settings) -> Storage:
    """The storage ``settings`` name (one instance per configuration, shared by every request)."""
    if settings.storage_url is None:
        return FileStorage(settings.upload_dir)
    return _open(
        settings.storage_url,
        settings.s3_endpoint,
        settings.s3_region,
        settings.s3_access_key_id,
        settings.s3_secret_access_key,
    )


# --- content-addressed documents -----------------------------------------------------------------


def content_key(sha256: str) -> str:
    """Where a document is stored: ``ab/cd/<sha256>`` (a hex SHA-256, lower case)."""
    if not _SHA256.match(sha256):
        raise ValueError("not a SHA-256 hex digest")
    return f"{sha256[:2]}/{sha256[2:4]}/{sha256}"


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


async def sha256_of(data: bytes) -> str:
    """The SHA-256 of ``data``, computed in a thread when it is large (hashlib releases the GIL)."""
    if len(data) < 256 * 1024:
        return _digest(data)
    return await asyncio.to_thread(_digest, data)


async def put_content(storage: Storage, sha256: str, data: bytes) -> None:
    """Store ``data`` under its SHA-256 (once: an object already there is the same content)."""
    key = content_key(sha256)
    if await sha256_of(data) != sha256:
        raise ValueError("the data does not have this SHA-256")
    if not await storage.exists(key):
        await storage.put(key, data)


async def get_content(storage: Storage, sha256: str) -> bytes:
    """The bytes stored under ``sha256``; :class:`DamagedFile` when they no longer match it (never
    served), :class:`FileNotFoundError` when there are none."""
    data = await storage.get(content_key(sha256))
    if await sha256_of(data) != sha256:
        raise DamagedFile(f"stored file {sha256} is damaged")
    return data
