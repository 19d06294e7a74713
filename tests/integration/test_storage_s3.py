"""Documents on an S3-compatible object store (MARKET_STORAGE_URL=s3://bucket/prefix), through the
real app against moto's S3 server (tests/s3.py): an upload and a rendered contract PDF are objects in
the bucket (nothing on the host's disk), a second app host with a disk of its own serves the same
bytes, the public verification finds the document, and the worker's sweep removes stale held files
from the bucket."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from invoices.models import Document
from listings import storage
from market import clock, worker
from market.app import create_app, wire
from market.settings import Settings
from tests.integration.helpers import login, make_parties, signed_contract
from tests.integration.listings_helpers import new_client, pdf_bytes, register_provider
from tests.s3 import S3Server

pytestmark = pytest.mark.s3


def bucket_keys(server: S3Server, bucket: str) -> set[str]:
    """What the bucket holds, asked over the S3 protocol (not through the platform's code)."""
    import boto3

    from tests import s3

    client = boto3.client(
        "s3",
        endpoint_url=server.endpoint,
        region_name=s3.REGION,
        aws_access_key_id=s3.ACCESS_KEY_ID,
        aws_secret_access_key=s3.SECRET_ACCESS_KEY,
    )
    listed = client.list_objects_v2(Bucket=bucket)
    return {item["Key"] for item in listed.get("Contents", [])}


def files_under(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file()] if folder.exists() else []


async def test_uploads_and_rendered_documents_live_in_the_bucket_and_every_host_serves_them(
    settings: Settings, engine, factory, s3_server: S3Server, s3_bucket: str, tmp_path: Path
):
    on_s3 = settings.with_(**s3_server.settings_for(s3_bucket, prefix="county"))
    host_a = create_app(on_s3, engine=engine)
    # a second host: the same database and bucket, a disk of its own
    other_disk = tmp_path / "host-b"
    host_b = create_app(on_s3.with_(var_dir=other_disk, upload_dir=other_disk / "uploads"), engine=engine)

    content = pdf_bytes(b"qualification scan kept in the object store")
    digest = hashlib.sha256(content).hexdigest()
    async with new_client(host_a) as client:
        _org, me = await register_provider(client, "s3firm")  # its business licence is uploaded too
        r = await client.post("/api/v1/files", headers=me, files={"file": ("scan.pdf", content, "application/pdf")})
        assert r.status_code == 201, r.text
    assert f"county/{digest[:2]}/{digest[2:4]}/{digest}" in bucket_keys(s3_server, s3_bucket)
    async with new_client(host_b) as client:
        me_b = await login(client, "s3firm")
        got = await client.get(f"/api/v1/files/{digest}", headers=me_b)
        assert got.status_code == 200 and got.content == content

    # a signed contract's PDF: rendered by the first download on host A, stored in the bucket once
    owner, provider = await make_parties(factory)
    contract = await signed_contract(factory, on_s3, owner, provider)
    url = f"/api/v1/contracts/{contract.id}/pdf"
    async with new_client(host_a) as client:
        first = await client.get(url, headers=await login(client, "owner1"))
        assert first.status_code == 200 and first.content.startswith(b"%PDF-"), first.text
    sha = hashlib.sha256(first.content).hexdigest()
    assert f"county/{sha[:2]}/{sha[2:4]}/{sha}" in bucket_keys(s3_server, s3_bucket)
    async with new_client(host_b) as client:
        again = await client.get(url, headers=await login(client, "prov1"))
        assert again.status_code == 200 and again.content == first.content  # read from the bucket, not rendered
        # the public verification finds it, on any host
        found = await client.get(f"/api/v1/documents/{sha}")
        assert found.status_code == 200, found.text
        assert (found.json()["kind"], found.json()["number"]) == ("contract", contract.number)
        page = await client.get(f"/verify/document/{sha}")
        assert page.status_code == 200 and contract.number in page.text
    async with factory() as session:
        assert await session.scalar(select(func.count()).select_from(Document)) == 1
    assert files_under(on_s3.upload_dir) == [] and files_under(other_disk) == []  # nothing on either disk

    # a file held across a refused form is in the bucket too, and the worker sweeps it when stale
    kept = await storage.hold(on_s3, "203.0.113.70", pdf_bytes(b"held"), "held.pdf")
    assert any(k.startswith(f"county/{storage.HELD_DIR}/") for k in bucket_keys(s3_server, s3_bucket))
    assert (await storage.held(on_s3, kept.token)) is not None
    clock.set_offset(storage.HELD_MAX_AGE + timedelta(minutes=1))
    wire(on_s3)
    storage._last_sweep.pop(on_s3.storage_location, None)
    assert (await worker.run_once(factory, on_s3))["listings.uploads"] == 1
    left = bucket_keys(s3_server, s3_bucket)
    assert (
        not any(k.startswith(f"county/{storage.HELD_DIR}/") for k in left)
        and f"county/{sha[:2]}/{sha[2:4]}/{sha}" in left
    )
