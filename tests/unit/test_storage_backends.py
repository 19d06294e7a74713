"""The storage interface's contract (market.storage), held by both backends: the directory and an
S3-compatible object store (moto's S3 server, in-process: tests/s3.py). Each test runs once per
backend; the S3 runs are marked ``s3``."""

from __future__ import annotations

import asyncio
import hashlib
import os
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from listings import storage as uploads
from market import clock
from market.settings import Settings
from market.storage import (
    TEMP_PREFIX,
    DamagedFile,
    FileStorage,
    S3Storage,
    Storage,
    check_key,
    content_key,
    get_content,
    put_content,
    storage_for,
)


def pdf_bytes(extra: bytes = b"") -> bytes:
    return b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n" + extra + b"\n%%EOF\n"


@pytest.fixture(params=["file", pytest.param("s3", marks=pytest.mark.s3)])
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    """Settings naming one backend: the default directory, or a fresh bucket (with a prefix)."""
    base = Settings(var_dir=tmp_path, upload_dir=tmp_path / "uploads").validate()
    if request.param == "file":
        return base
    server = request.getfixturevalue("s3_server")
    return base.with_(**server.settings_for(server.new_bucket()))


@pytest.fixture
def store(settings: Settings) -> Storage:
    chosen = storage_for(settings)
    assert isinstance(chosen, S3Storage if settings.storage_url else FileStorage)
    return chosen


async def test_an_object_is_put_read_replaced_whole_and_deleted(store: Storage):
    assert not await store.exists("a/b/c")
    await store.put("a/b/c", b"first")
    assert await store.exists("a/b/c") and await store.get("a/b/c") == b"first"
    await store.put("a/b/c", b"second, longer")
    assert await store.get("a/b/c") == b"second, longer"
    await store.delete("a/b/c")
    assert not await store.exists("a/b/c")
    with pytest.raises(FileNotFoundError):
        await store.get("a/b/c")
    await store.delete("a/b/c")  # deleting what is not there is no error


@pytest.mark.parametrize("bad", ["", "../x", "a/../b", "/abs", "a//b", "a/./b", "a/b/", "a b", f"x/{TEMP_PREFIX}1"])
async def test_a_key_outside_the_storage_or_like_a_temporary_file_is_refused(store: Storage, bad: str):
    with pytest.raises(ValueError):
        check_key(bad)
    with pytest.raises(ValueError):
        await store.put(bad, b"x")
    with pytest.raises(ValueError):
        await store.get(bad)


async def test_a_folder_lists_every_object_under_it_and_none_beside_it(store: Storage):
    before = datetime.now(UTC) - timedelta(minutes=1)
    for key, data in {"f/1": b"one", "f/g/2": b"two!", "fx/3": b"3", "other/4": b"4"}.items():
        await store.put(key, data)
    found = {o.key: o for o in await store.list_under("f/")}
    assert set(found) == {"f/1", "f/g/2"}
    assert found["f/g/2"].size == 4 and found["f/1"].size == 3
    assert all(before <= o.modified <= datetime.now(UTC) + timedelta(minutes=1) for o in found.values())
    assert await store.list_under("nothing/") == []
    with pytest.raises(ValueError):
        await store.list_under("f")  # a folder ends with '/'


async def test_documents_are_stored_once_by_sha256_and_never_served_damaged(store: Storage):
    data = pdf_bytes(b"contract")
    sha = hashlib.sha256(data).hexdigest()
    await put_content(store, sha, data)
    assert await store.get(f"{sha[:2]}/{sha[2:4]}/{sha}") == data and content_key(sha).endswith(sha)
    assert await get_content(store, sha) == data
    with pytest.raises(ValueError):
        await put_content(store, "0" * 64, data)  # bytes are stored only under their own digest
    with pytest.raises(ValueError):
        content_key("../" + sha[3:])
    await store.put(content_key(sha), b"tampered")
    await put_content(store, sha, data)  # already there: not written again
    with pytest.raises(DamagedFile):
        await get_content(store, sha)
    with pytest.raises(FileNotFoundError):
        await get_content(store, "f" * 64)


async def test_writing_does_not_block_the_event_loop(store: Storage):
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0)

    task = asyncio.create_task(ticker())
    try:
        await store.put("big/one", os.urandom(4 * 1024 * 1024))
        assert ticks > 1  # the loop ran other work while the bytes were written
        seen = ticks
        assert len(await store.get("big/one")) == 4 * 1024 * 1024
        assert ticks > seen
    finally:
        task.cancel()


async def test_parallel_writes_of_one_key_leave_one_whole_version(store: Storage):
    versions = [bytes([i]) * (256 * 1024 + i) for i in range(6)]
    await asyncio.gather(*(store.put("race/key", v) for v in versions))
    assert await store.get("race/key") in versions


async def test_the_sweep_removes_unfinished_writes_and_stale_held_files_never_documents(
    store: Storage, settings: Settings
):
    clock.freeze(datetime(2026, 11, 30, 9, 0, tzinfo=UTC))
    data = pdf_bytes(b"kept for ever")
    sha = hashlib.sha256(data).hexdigest()
    await put_content(store, sha, data)
    abandoned = await uploads.hold(settings, "203.0.113.60", pdf_bytes(b"abandoned"), "a.pdf")
    clock.advance(timedelta(hours=1))
    recent = await uploads.hold(settings, "203.0.113.61", pdf_bytes(b"recent"), "b.pdf")
    if isinstance(store, FileStorage):  # the directory's half-written files (an object store has none)
        folder = store.path(content_key(sha)).parent
        (folder / f"{TEMP_PREFIX}killed").write_bytes(b"half a file")
        (folder / f"{TEMP_PREFIX}writing").write_bytes(b"being written")
        long_ago = time.time() - 2 * 3600
        os.utime(folder / f"{TEMP_PREFIX}killed", (long_ago, long_ago))
    removed = await uploads.sweep_files(store, clock.now())
    assert removed == 0 + (1 if isinstance(store, FileStorage) else 0)
    clock.advance(timedelta(hours=1, minutes=1))  # the first file was held 2 h 1 min ago
    assert await uploads.sweep_files(store, clock.now()) == 1
    assert await uploads.held(settings, abandoned.token) is None
    assert await uploads.held(settings, recent.token) is not None
    assert await get_content(store, sha) == data
    if isinstance(store, FileStorage):
        assert (store.path(content_key(sha)).parent / f"{TEMP_PREFIX}writing").exists()
    clock.advance(timedelta(hours=1))
    assert await uploads.sweep_files(store, clock.now()) == 1
    assert await store.list_under(f"{uploads.HELD_DIR}/") == []


async def test_a_held_file_is_named_by_a_signed_token_and_each_address_holds_a_few(settings: Settings):
    kept = []
    for i in range(5):
        kept.append(await uploads.hold(settings, "203.0.113.50", pdf_bytes(b"%d" % i), f"{i}.pdf"))
        clock.advance(timedelta(microseconds=5))
    found = await uploads.held(settings, kept[-1].token)
    assert found is not None and found[1] == pdf_bytes(b"4") and found[0].filename == "4.pdf"
    # the address keeps its newest few: the oldest are gone
    assert await uploads.held(settings, kept[0].token) is None
    assert sum([await uploads.held(settings, k.token) is not None for k in kept]) == uploads.HELD_PER_CLIENT
    # holding the same file again keeps one copy, under the new token
    again = await uploads.hold(settings, "203.0.113.50", pdf_bytes(b"4"), "4.pdf")
    assert (
        await uploads.held(settings, again.token) is not None and await uploads.held(settings, kept[-1].token) is None
    )
    # another address has its own few
    other = await uploads.hold(settings, "203.0.113.51", pdf_bytes(b"x"), "x.pdf")
    assert await uploads.held(settings, other.token) is not None
    assert await uploads.held(settings, kept[-2].token) is not None
    # a token is signed: another file's name in it, or another key, finds nothing
    payload, _dot, signature = kept[-2].token.partition(".")
    assert await uploads.held(settings, payload + "." + "0" * len(signature)) is None
    assert await uploads.held(settings.with_(secret_key="another-secret-key-of-enough-length!"), kept[-2].token) is None
    assert await uploads.held(settings, "not a token") is None
    # and it expires with the time it was held for
    clock.advance(uploads.HELD_MAX_AGE + timedelta(seconds=1))
    assert await uploads.held(settings, kept[-2].token) is None
