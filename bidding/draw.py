"""The verifiable draw (SPEC §5), with nothing but ``hashlib``.

At publish the platform makes a random 32-byte secret and publishes its commitment
``sha256(secret)`` (hex of the digest of the 32 bytes). At the draw it publishes the secret and::

    candidates = the tied or eligible bids' digests, sorted ascending (hex strings)
    seed       = sha256_hex(secret_hex + ":" + purchase_ref + ":" + ",".join(candidates))
    index      = int(seed, 16) % len(candidates)      # winner = candidates[index]

Anyone can recompute it from the public result; :func:`verify` does so.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass, field
from typing import Any

HEX64 = re.compile(r"^[0-9a-f]{64}$")


def new_secret() -> str:
    """32 random bytes, as 64 lowercase hex characters."""
    return secrets.token_hex(32)


def commitment(secret_hex: str) -> str:
    """The published commitment: SHA-256 of the 32 secret bytes, in hex."""
    return hashlib.sha256(bytes.fromhex(secret_hex)).hexdigest()


def seed(secret_hex: str, purchase_ref: str, candidates: list[str]) -> str:
    message = secret_hex + ":" + purchase_ref + ":" + ",".join(candidates)
    return hashlib.sha256(message.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Draw:
    commitment: str
    secret: str
    seed: str
    candidates: list[str]
    index: int

    @property
    def winner(self) -> str:
        return self.candidates[self.index]

    def public(self) -> dict[str, Any]:
        return {
            "commitment": self.commitment,
            "secret": self.secret,
            "seed": self.seed,
            "candidates": list(self.candidates),
            "index": self.index,
        }


def draw(secret_hex: str, purchase_ref: str, digests: list[str]) -> Draw:
    """Draw one of ``digests`` (each a bid's hex SHA-256) with the committed secret."""
    if not digests:
        raise ValueError("a draw needs at least one candidate")
    candidates = sorted(set(digests))
    if len(candidates) != len(digests):
        raise ValueError("candidates must be distinct")
    the_seed = seed(secret_hex, purchase_ref, candidates)
    return Draw(
        commitment=commitment(secret_hex),
        secret=secret_hex,
        seed=the_seed,
        candidates=candidates,
        index=int(the_seed, 16) % len(candidates),
    )


@dataclass
class Verification:
    ok: bool
    checks: list[tuple[str, bool]] = field(default_factory=list)
    seed: str | None = None
    index: int | None = None
    winner: str | None = None


def verify(purchase_ref: str, proof: dict[str, Any], winner_digest: str | None = None) -> Verification:
    """Recompute a published draw: commitment, sorted candidates, seed, index and winner."""
    result = Verification(ok=True)

    def check(name: str, passed: bool) -> None:
        result.checks.append((name, passed))
        if not passed:
            result.ok = False

    secret = str(proof.get("secret") or "")
    candidates = [str(c) for c in proof.get("candidates") or []]
    check("secret_format", bool(HEX64.match(secret)))
    check("candidates_format", bool(candidates) and all(HEX64.match(c) for c in candidates))
    if not result.ok:
        return result
    check("commitment", commitment(secret) == proof.get("commitment"))
    check("candidates_sorted", candidates == sorted(set(candidates)))
    result.seed = seed(secret, purchase_ref, candidates)
    check("seed", result.seed == proof.get("seed"))
    result.index = int(result.seed, 16) % len(candidates)
    check("index", result.index == proof.get("index"))
    result.winner = candidates[result.index]
    if winner_digest is not None:
        check("winner", result.winner == winner_digest)
    return result
