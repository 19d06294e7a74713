"""Argon2id password hashes. The standard profile is argon2-cffi's default (RFC 9106's
low-memory recommendation); the "fast" profile exists for test suites and is refused in
production. The profile is the caller's ``settings.argon2_profile``.

A hash takes tens of milliseconds of CPU and a verification as long, so the coroutines below
compute them in worker threads (argon2 releases the GIL), never on the event loop, and no more
than ``settings.hash_concurrency`` at once (``MARKET_PASSWORD_HASH_CONCURRENCY``): a burst of
sign-ins queues for the hashers while every other request is still answered.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import functools
import os
import threading
from collections.abc import Callable
from typing import TypeVar

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


# The hashers: one pool of threads per bound, shared by every event loop of the process. Its
# threads run at a lower CPU priority (Linux keeps a nice value per thread, and argon2's own
# lane threads inherit it), so that a burst of sign-ins cannot starve the event loop's thread:
# other requests are answered first and the sign-ins take the CPU that is left.
HASHER_NICENESS = 10
_pools: dict[int, concurrent.futures.ThreadPoolExecutor] = {}
_pools_lock = threading.Lock()


def _lower_priority() -> None:
    with contextlib.suppress(AttributeError, OSError):  # not on every platform; then as it is
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), HASHER_NICENESS)


def _pool(concurrency: int) -> concurrent.futures.ThreadPoolExecutor:
    with _pools_lock:
        if concurrency not in _pools:
            _pools[concurrency] = concurrent.futures.ThreadPoolExecutor(
                max_workers=concurrency, thread_name_prefix="argon2", initializer=_lower_priority
            )
        return _pools[concurrency]


T = TypeVar("T")


async def _off_loop(concurrency: int, work: Callable[[], T]) -> T:
    return await asyncio.get_running_loop().run_in_executor(_pool(max(1, concurrency)), work)


async def hash_password(password: str, profile: str, concurrency: int) -> str:
    """The Argon2id hash of ``password``, computed in a worker thread."""
    return await _off_loop(concurrency, functools.partial(hash_password_sync, password, profile))


async def verify_password(password_hash: str | None, password: str, profile: str, concurrency: int) -> bool:
    """Whether ``password`` matches (against a dummy hash when there is no user), in a worker thread."""
    return await _off_loop(concurrency, functools.partial(verify_password_sync, password_hash, password, profile))
