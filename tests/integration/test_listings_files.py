"""Uploads: recognised by content, limited in size (413), stored by SHA-256, served only to those allowed."""

from __future__ import annotations

import hashlib

from sqlalchemy import func, select

from listings.models import FileUpload, StoredFile
from market.app import create_app
from market.settings import Settings
from tests.integration.helpers import account, assert_problem
from tests.integration.listings_helpers import make_item, new_client, pdf_bytes, qualification, register_provider

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 64


def upload(name: str, content: bytes, content_type: str = "application/octet-stream") -> dict:
    return {"files": {"file": (name, content, content_type)}}


async def test_upload_is_stored_by_sha256_and_served_only_to_those_allowed(client, factory, settings):
    org_id, me = await register_provider(client, "uploader")
    async with factory() as session:  # the business licence it registered with
        assert await session.scalar(select(func.count()).select_from(StoredFile)) == 1
    content = pdf_bytes(b"scan of certificate")
    r = await client.post("/api/v1/files", headers=me, **upload("证书扫描件.pdf", content))
    assert r.status_code == 201, r.text
    body = r.json()
    digest = hashlib.sha256(content).hexdigest()
    assert body == {
        "sha256": digest,
        "size": len(content),
        "content_type": "application/pdf",
        "filename": "证书扫描件.pdf",
    }
    stored = settings.upload_dir / digest[:2] / digest[2:4] / digest
    assert stored.read_bytes() == content
    # the same content again is stored once, and recorded as uploaded again
    assert (await client.post("/api/v1/files", headers=me, **upload("again.pdf", content))).status_code == 201
    async with factory() as session:
        assert await session.scalar(select(func.count()).select_from(StoredFile)) == 2
        assert await session.scalar(select(func.count()).select_from(FileUpload)) == 3
    got = await client.get(f"/api/v1/files/{digest}", headers=me)
    assert got.status_code == 200 and got.content == content
    assert (
        got.headers["content-type"].startswith("application/pdf") and got.headers["x-content-type-options"] == "nosniff"
    )
    admin = await account(client, factory, "admin", "ops")
    assert (await client.get(f"/api/v1/files/{digest}", headers=admin)).status_code == 200
    other = await account(client, factory, "provider", "nosy")
    assert_problem(await client.get(f"/api/v1/files/{digest}", headers=other), 404)
    assert_problem(await client.get(f"/api/v1/files/{digest}"), 401)
    assert_problem(await client.get(f"/api/v1/files/{'0' * 64}", headers=me), 404)
    assert_problem(await client.get("/api/v1/files/..%2F..%2Fetc%2Fpasswd", headers=me), 404)
    # a qualification may refer to its own upload, not to another firm's
    await make_item(factory)
    ok = await client.post(
        f"/api/v1/providers/{org_id}/qualifications", headers=me, json=qualification(document_sha256=digest)
    )
    assert ok.status_code == 201 and ok.json()["document_sha256"] == digest
    other_id, other_me = await register_provider(client, "copycat")
    assert_problem(
        await client.post(
            f"/api/v1/providers/{other_id}/qualifications", headers=other_me, json=qualification(document_sha256=digest)
        ),
        422,
        "document_sha256",
    )


async def test_forged_extensions_and_unknown_content_are_refused(client, factory):
    _org, me = await register_provider(client, "forger")
    before = await _stored(factory)
    html = b"<html><body><script>alert(document.cookie)</script></body></html>"
    assert_problem(
        await client.post("/api/v1/files", headers=me, **upload("certificate.pdf", html, "application/pdf")),
        415,
        "file",
    )
    exe = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00"
    assert_problem(await client.post("/api/v1/files", headers=me, **upload("scan.jpg", exe, "image/jpeg")), 415, "file")
    # real content under another type's name is refused too
    assert_problem(
        await client.post("/api/v1/files", headers=me, **upload("scan.pdf", PNG, "application/pdf")), 415, "file"
    )
    assert_problem(await client.post("/api/v1/files", headers=me, **upload("scan.pdf", b"")), 422, "file")
    assert await _stored(factory) == before
    assert (await client.post("/api/v1/files", headers=me, **upload("scan.png", PNG))).status_code == 201


async def _stored(factory) -> int:
    async with factory() as session:
        return await session.scalar(select(func.count()).select_from(StoredFile))


async def test_an_upload_over_the_limit_gets_413(settings, engine, factory):
    assert Settings().max_upload_bytes == 20 * 1024 * 1024  # the default
    small = settings.with_(max_upload_bytes=64 * 1024)
    app = create_app(small, engine=engine)
    async with new_client(app) as client:
        _org, me = await register_provider(client, "bigfile")
        before = await _stored(factory)  # its business licence
        limit = small.max_upload_bytes
        # just over the file limit (the body is within the route's limit): the service refuses
        body = assert_problem(
            await client.post("/api/v1/files", headers=me, **upload("big.pdf", pdf_bytes(b"x" * limit))), 413, "file"
        )
        assert "0.0625 MB" in body["detail"]  # the limit of these settings, in megabytes
        # far over it: refused while reading the body
        assert_problem(
            await client.post("/api/v1/files", headers=me, **upload("huge.pdf", pdf_bytes(b"x" * (limit * 4)))), 413
        )
        # exactly at the limit is fine
        exact = pdf_bytes()
        exact += b"x" * (limit - len(exact))
        assert (await client.post("/api/v1/files", headers=me, **upload("exact.pdf", exact))).status_code == 201
    assert await _stored(factory) == before + 1


async def test_uploads_are_not_limited_by_the_small_json_limit(client, settings):
    assert settings.max_json_bytes < 2_000_000 < settings.max_upload_bytes
    _org, me = await register_provider(client, "scanner")
    r = await client.post("/api/v1/files", headers=me, **upload("scan.pdf", pdf_bytes(b"y" * 2_000_000)))
    assert r.status_code == 201, r.text
