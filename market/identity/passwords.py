"""Argon2id password hashes. The standard profile is argon2-cffi's default (RFC 9106's
low-memory recommendation); the "fast" profile exists for test suites and is refused in
production. The profile is the caller's ``settings.argon2_profile``."""

from __future__ import annotations

import functools

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError


@functools.cache
def _hasher(profile: str) -> tuple[PasswordHasher, str]:
    if profile not in ("standard", "fast"):
        raise ValueError(f"unknown argon2 profile {profile!r}")
    hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1) if profile == "fast" else PasswordHasher()
    # verified against when the user does not exist, so that timing does not reveal usernames
    return hasher, hasher.hash("not-a-real-password")


def hash_password(password: str, profile: str) -> str:
    return _hasher(profile)[0].hash(password)


def verify_password(password_hash: str | None, password: str, profile: str) -> bool:
    hasher, dummy = _hasher(profile)
    try:
        return hasher.verify(password_hash or dummy, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str, profile: str) -> bool:
    return _hasher(profile)[0].check_needs_rehash(password_hash)
