"""Argon2id password hashes. The standard profile is argon2-cffi's default (RFC 9106's
low-memory recommendation); the "fast" profile exists for test suites and is refused in
production. The profile is the caller's ``settings.argon2_profile``.

A hash takes tens of milliseconds of CPU and a verification as long, so the coroutines below
compute them in worker threads (argon2 releases the GIL), never on the event loop, and no more
than ``settings.hash_concurrency`` at once: a burst of sign-ins queues for the hashers while
every other request is still answered.
"""

from __future__ import annotations

import asyncio
import functools
import weakref
from collections.abc import Callable
from typing import TypeVar

import anyio
import anyio.to_thread
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError


@functools.cache
def _hasher(profile: str) -> tuple[PasswordHasher, str]:
    if profile not in ("standard", "fast"):
        raise ValueError(f"unknown argon2 profile {profile!r}")
    hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1) if profile == "fast" else PasswordHasher()
    # verified against when the user does not exist, so that timing does not reveal usernames
    return hasher, hasher.hash("not-a-real-password")


def hash_password_sync(password: str, profile: str) -> str:
    return _hasher(profile)[0].hash(password)


def verify_password_sync(password_hash: str | None, password: str, profile: str) -> bool:
    hasher, dummy = _hasher(profile)
    try:
        return hasher.verify(password_hash or dummy, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str, profile: str) -> bool:
    return _hasher(profile)[0].check_needs_rehash(password_hash)


# one limiter per event loop (a limiter belongs to the loop it first waits on) and bound
_limiters: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[int, anyio.CapacityLimiter]] = (
    weakref.WeakKeyDictionary()
)


def _limiter(concurrency: int) -> anyio.CapacityLimiter:
    per_loop = _limiters.setdefault(asyncio.get_running_loop(), {})
    if concurrency not in per_loop:
        per_loop[concurrency] = anyio.CapacityLimiter(concurrency)
    return per_loop[concurrency]


T = TypeVar("T")


async def _off_loop(concurrency: int, work: Callable[[], T]) -> T:
    return await anyio.to_thread.run_sync(work, limiter=_limiter(max(1, concurrency)))


async def hash_password(password: str, profile: str, concurrency: int) -> str:
    """The Argon2id hash of ``password``, computed in a worker thread."""
    return await _off_loop(concurrency, functools.partial(hash_password_sync, password, profile))


async def verify_password(password_hash: str | None, password: str, profile: str, concurrency: int) -> bool:
    """Whether ``password`` matches (against a dummy hash when there is no user), in a worker thread."""
    return await _off_loop(concurrency, functools.partial(verify_password_sync, password_hash, password, profile))
