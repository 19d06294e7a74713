"""Argon2id password hashes. The standard profile is argon2-cffi's default (RFC 9106's
low-memory recommendation); the "fast" profile exists for test suites and is refused in
production."""

from __future__ import annotations

import functools

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from market.settings import get_settings


@functools.cache
def _hasher(profile: str) -> tuple[PasswordHasher, str]:
    hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1) if profile == "fast" else PasswordHasher()
    # verified against when the user does not exist, so that timing does not reveal usernames
    return hasher, hasher.hash("not-a-real-password")


def hash_password(password: str) -> str:
    return _hasher(get_settings().argon2_profile)[0].hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    hasher, dummy = _hasher(get_settings().argon2_profile)
    try:
        return hasher.verify(password_hash or dummy, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher(get_settings().argon2_profile)[0].check_needs_rehash(password_hash)
