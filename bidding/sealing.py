"""The draw secret at rest (issue 10 §13): encrypted with AES-GCM until the draw publishes it.

Whoever reads the ``purchases`` table before the deadline finds only a ciphertext: not the secret,
so not the winner of a draw (a bid could otherwise be replaced until its digest wins). The key is
derived from ``MARKET_SECRET_KEY`` with HKDF-SHA256; the purchase's id is the associated data, so
a ciphertext copied onto another purchase does not open. The nonce is the first 12 bytes of the
published commitment (SHA-256 of the secret: unique per secret, public anyway), so the stored
value is only the ciphertext and its tag, 48 bytes: 64 characters of base64url, which the column
of earlier versions holds. A secret stored in clear by them (64 lowercase hex characters) is
encrypted by migration 0009, which keeps its own frozen copy of this code.
"""

from __future__ import annotations

import base64
import hashlib
import re
import uuid

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

INFO = b"market draw secret v1"
NONCE_BYTES = 12
CLEAR = re.compile(r"^[0-9a-f]{64}$")  # a secret in clear, as earlier versions stored it


def key(secret_key: str) -> bytes:
    """The 256-bit AES key of draw secrets, derived from the application's secret key."""
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=INFO).derive(secret_key.encode("utf-8"))


def seal(secret_key: str, purchase_id: uuid.UUID, secret_hex: str) -> str:
    """The stored form of a draw secret (64 hex characters) of the purchase ``purchase_id``."""
    secret = bytes.fromhex(secret_hex)
    nonce = hashlib.sha256(secret).digest()[:NONCE_BYTES]
    sealed = AESGCM(key(secret_key)).encrypt(nonce, secret, purchase_id.bytes)
    return base64.urlsafe_b64encode(sealed).decode("ascii")


def unseal(secret_key: str, purchase_id: uuid.UUID, stored: str, commitment: str) -> str:
    """The draw secret (64 hex characters) back from its stored form and its published
    ``commitment``; ``ValueError`` if it does not open with this key for this purchase."""
    if CLEAR.match(stored):
        raise ValueError("the draw secret is stored in clear (run the migrations)")
    try:
        raw = base64.urlsafe_b64decode(stored.encode("ascii"))
        nonce = bytes.fromhex(commitment)[:NONCE_BYTES]
        plain = AESGCM(key(secret_key)).decrypt(nonce, raw, purchase_id.bytes)
    except (InvalidTag, ValueError) as exc:
        raise ValueError("the draw secret does not open with this key") from exc
    return plain.hex()
