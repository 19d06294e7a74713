"""The Ed25519 key that signs the audit chain's anchors, and what exactly an anchor's signature covers.

An anchor says "at ``at`` the chain's event ``seq`` had the hash ``hash``". Its signature is the
Ed25519 signature of the UTF-8 bytes of

    market-audit-anchor/v1 {"at":"<at>","hash":"<hash>","kind":"<kind>","seq":<seq>}

(the prefix, one space, then the canonical JSON of the four fields: keys sorted, no spaces,
``at`` exactly as published, e.g. ``2026-11-30T04:00:00.000000Z``), published base64-encoded.
The public key is published as PEM (SubjectPublicKeyInfo) and as the raw 32 bytes in base64;
:func:`public_key_from_text` reads either. Anyone can check a saved anchor with any Ed25519
library and these rules alone.

The private key is a PEM (PKCS#8, unencrypted) file named by ``MARKET_SIGNING_KEY_FILE``; in
development, when no such file exists, one is generated (readable by its owner only) the first
time it is needed. Production refuses to start without an existing one (``market.settings``).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
from datetime import UTC, datetime
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from market.clock import ensure_aware
from market.settings import Settings, SettingsError

MESSAGE_PREFIX = "market-audit-anchor/v1 "
ALGORITHM = "Ed25519"

_loaded: dict[Path, tuple[float, Ed25519PrivateKey]] = {}


def format_at(moment: datetime) -> str:
    """The one textual form of an anchor's time: UTC, microseconds, ``Z``."""
    return ensure_aware(moment).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def anchor_message(seq: int, hash: str, at: str, kind: str) -> bytes:
    """The bytes an anchor's signature covers (see the module's documentation)."""
    body = json.dumps({"at": at, "hash": hash, "kind": kind, "seq": seq}, sort_keys=True, separators=(",", ":"))
    return (MESSAGE_PREFIX + body).encode("utf-8")


def signing_key(settings: Settings) -> Ed25519PrivateKey:
    """The private key of ``settings``; generated in development when its file does not exist."""
    path = settings.signing_key_path
    if not path.exists():
        if settings.is_production:
            raise SettingsError(f"the audit anchors' signing key {path} does not exist (MARKET_SIGNING_KEY_FILE)")
        generate(path)
    mtime = path.stat().st_mtime
    cached = _loaded.get(path)
    if cached is not None and cached[0] == mtime:
        return cached[1]
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise SettingsError(f"{path} is not an Ed25519 private key (MARKET_SIGNING_KEY_FILE)")
    _loaded[path] = (mtime, key)
    return key


def generate(path: Path) -> None:
    """Write a new key, created exclusively (an app and a worker starting together keep one key)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    pem = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    with os.fdopen(fd, "wb") as out:
        out.write(pem)


def sign(key: Ed25519PrivateKey, message: bytes) -> str:
    return base64.b64encode(key.sign(message)).decode("ascii")


def public_pem(key: Ed25519PublicKey) -> str:
    return key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode("ascii")


def public_raw_base64(key: Ed25519PublicKey) -> str:
    return base64.b64encode(key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)).decode(
        "ascii"
    )


def key_id(key: Ed25519PublicKey) -> str:
    """A short name of a public key: the first 16 hex digits of the SHA-256 of its raw bytes."""
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def public_key_from_text(text: str) -> Ed25519PublicKey:
    """A public key given as PEM or as its raw 32 bytes in base64; ValueError otherwise."""
    text = text.strip()
    if text.startswith("-----BEGIN"):
        key = serialization.load_pem_public_key(text.encode("ascii"))
        if not isinstance(key, Ed25519PublicKey):
            raise ValueError("not an Ed25519 public key")
        return key
    try:
        raw = base64.b64decode(text, validate=True)
    except binascii.Error as exc:
        raise ValueError("neither PEM nor base64") from exc
    if len(raw) != 32:
        raise ValueError("an Ed25519 public key has 32 bytes")
    return Ed25519PublicKey.from_public_bytes(raw)


def signature_ok(key: Ed25519PublicKey, message: bytes, signature: str) -> bool:
    try:
        key.verify(base64.b64decode(signature, validate=True), message)
    except (InvalidSignature, binascii.Error, ValueError):
        return False
    return True
