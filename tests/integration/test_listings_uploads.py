"""Uploads before approval are bounded, a file sent with a refused form is held for a while (and
only for a while), and the worker sweeps what a killed process or an abandoned form left."""

from __future__ import annotations

import hashlib
import os
import time
from datetime import timedelta

from sqlalchemy import select

from listings import storage
from listings.models import RegistrationCounter
from market import clock, worker
from market.app import create_app, wire
from market.storage import TEMP_PREFIX, FileStorage, content_key, put_content
from tests.integration.helpers import account, assert_problem
from tests.integration.listings_helpers import new_client, pdf_bytes, register_provider


def upload(name: str, content: bytes) -> dict:
    return {"files": {"file": (name, content, "application/pdf")}}


async def test_an_organisation_not_approved_uploads_a_bounded_amount(settings, engine, factory):
    bounded = settings.with_(unapproved_upload_files=3, unapproved_upload_bytes=4096)
    app = create_app(bounded, engine=engine)
    async with new_client(app) as client:
        org_id, me = await register_provider(client, "pending1")  # its licence is the first file
        for i in range(2):
            r = await client.post("/api/v1/files", headers=me, **upload(f"{i}.pdf", pdf_bytes(b"%d" % i)))
            assert r.status_code == 201, r.text
        refused = assert_problem(
            await client.post("/api/v1/files", headers=me, **upload("3.pdf", pdf_bytes(b"3"))), 413, "file"
        )
        assert refused["title"] and "3" in refused["detail"]
        # bytes count too: a second firm with one small file cannot send a large one
        _other, other = await register_provider(client, "pending2")
        assert_problem(
            await client.post("/api/v1/files", headers=other, **upload("big.pdf", pdf_bytes(b"x" * 4096))),
            413,
            "file",
        )
        # a rejected firm is bounded as well; once approved, it is not
        admin = await account(client, factory, "admin", "ops")
        await client.post(f"/api/v1/admin/organizations/{org_id}/reject", headers=admin, json={"reason": "补充材料"})
        assert_problem(await client.post("/api/v1/files", headers=me, **upload("4.pdf", pdf_bytes(b"4"))), 413)
        await client.post("/api/v1/me/organization/resubmit", headers=me)
        await client.post(f"/api/v1/admin/organizations/{org_id}/approve", headers=admin)
        for i in range(4, 7):
            r = await client.post("/api/v1/files", headers=me, **upload(f"{i}.pdf", pdf_bytes(b"%d" % i)))
            assert r.status_code == 201, r.text


async def test_the_worker_sweeps_what_killed_processes_and_abandoned_forms_left(settings, factory):
    root = settings.upload_dir
    stored = FileStorage(root)
    content = pdf_bytes(b"kept")
    digest = hashlib.sha256(content).hexdigest()
    await put_content(stored, digest, content)
    folder = stored.path(content_key(digest)).parent
    left = folder / f"{TEMP_PREFIX}killed"  # a write a killed process never finished
    left.write_bytes(b"half a file")
    fresh = folder / f"{TEMP_PREFIX}writing"  # a write in progress
    fresh.write_bytes(b"being written")
    clock.set_offset(-timedelta(hours=2, minutes=1))  # held a little over two hours ago
    abandoned = await storage.hold(settings, "203.0.113.60", pdf_bytes(b"abandoned"), "a.pdf")
    clock.set_offset(timedelta(0))
    recent = await storage.hold(settings, "203.0.113.61", pdf_bytes(b"recent"), "b.pdf")
    two_hours_ago = time.time() - 2 * 3600 - 60
    os.utime(left, (two_hours_ago, two_hours_ago))
    old_stored = time.time() - 30 * 24 * 3600  # a stored file is never swept, however old
    os.utime(stored.path(content_key(digest)), (old_stored, old_stored))
    async with factory() as session:
        session.add(
            RegistrationCounter(client="203.0.113.62", window_start=clock.now() - timedelta(days=2), accepted=3)
        )
        session.add(RegistrationCounter(client="203.0.113.63", window_start=clock.now(), accepted=1))
        await session.commit()
    wire(settings)  # the composition root registers the sweep with the worker
    assert "listings.uploads" in worker.jobs
    storage._last_sweep.pop(settings.storage_location, None)
    done = await worker.run_once(factory, settings)
    assert done["listings.uploads"] == 3  # the temporary file, the abandoned one, the old counter
    assert not left.exists() and fresh.exists() and stored.path(content_key(digest)).exists()
    assert await storage.held(settings, abandoned.token) is None
    assert await storage.held(settings, recent.token) is not None
    async with factory() as session:
        clients = set(await session.scalars(select(RegistrationCounter.client)))
        assert clients == {"203.0.113.63"}
    # it runs every few minutes, not on every tick of the loop
    left.write_bytes(b"another")
    os.utime(left, (two_hours_ago, two_hours_ago))
    assert (await worker.run_once(factory, settings))["listings.uploads"] == 0 and left.exists()
