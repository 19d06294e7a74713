"""PDF documents: rendered once after the document became final, stored content-addressed, the same
bytes on every download, and verifiable by SHA-256 at the public page and API. Rendering costs
time, so each test renders a few documents and checks everything about them."""

from __future__ import annotations

import asyncio
import hashlib
import re
import shutil
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import func, select

from invoices import documents
from invoices.models import Document
from market import clock
from market.audit.models import AuditEvent
from market.clock import LOCAL_TZ
from tests.integration.helpers import (
    account,
    assert_problem,
    draft_contract,
    login,
    make_parties,
    signed_contract,
)


async def poppler(tool: str, data: bytes, tmp_path, name: str, *args: str) -> str:
    """Run a poppler tool (pdftotext, pdffonts, pdfinfo) on the PDF bytes and return its output."""
    executable = shutil.which(tool)
    assert executable, f"{tool} (poppler-utils) is needed by these tests"
    path = tmp_path / f"{name}.pdf"
    path.write_bytes(data)
    process = await asyncio.create_subprocess_exec(
        executable, *args, str(path), *(["-"] if tool == "pdftotext" else []), stdout=asyncio.subprocess.PIPE
    )
    out, _ = await process.communicate()
    assert process.returncode == 0, f"{tool} failed"
    return out.decode("utf-8")


async def pdftotext(data: bytes, tmp_path, name: str) -> str:
    return await poppler("pdftotext", data, tmp_path, name, "-layout")


async def _count(factory, model, *where) -> int:
    async with factory() as session:
        return int(await session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


async def test_contract_pdf_is_rendered_once_identical_and_verifiable(client, factory, settings, tmp_path):
    clock.freeze(datetime(2026, 9, 18, 15, 30, tzinfo=LOCAL_TZ))
    owner, provider = await make_parties(factory)
    contract = await signed_contract(factory, settings, owner, provider, service_days=11)
    owner_h = await login(client, "owner1")
    provider_h = await login(client, "prov1")
    finance_h = await account(client, factory, "finance", "fin")
    url = f"/api/v1/contracts/{contract.id}/pdf"

    first = await client.get(url, headers=owner_h)
    assert first.status_code == 200, first.text
    assert first.headers["content-type"] == "application/pdf" and first.content.startswith(b"%PDF-")
    sha = hashlib.sha256(first.content).hexdigest()
    assert first.headers["x-document-sha256"] == sha and first.headers["etag"] == f'"{sha}"'
    clock.advance(timedelta(hours=3))
    for headers in (provider_h, finance_h, owner_h):
        again = await client.get(url, headers=headers)
        assert again.content == first.content  # identical bytes on every download
    assert await _count(factory, Document) == 1
    assert await _count(factory, AuditEvent, AuditEvent.action == "document.rendered") == 1
    assert_problem(await client.get(url), 401)
    outsider_h = await account(client, factory, "provider", "nosy", "别家公司")
    assert_problem(await client.get(url, headers=outsider_h), 404)

    text = await pdftotext(first.content, tmp_path, "contract")
    flat = re.sub(r"\s+", "", text)
    for expected in (
        contract.number,
        "中介服务合同",
        "云岭县自然资源局",
        "云南地勘工程咨询有限公司",
        contract.owner_uscc,
        contract.provider_uscc,
        "刘洋",
        "昆明市五华区学府路8号",
        "¥12,800.00",
        "人民币大写",
        "壹万贰仟捌佰元整",
        "2026-10-10",  # the due date
        contract.purchase_ref,
        contract.draw_seed,  # the draw proof's seed
        "http://127.0.0.1:8000/verify/document",
        "地质灾害危险性评估",
    ):
        assert expected.replace(" ", "") in flat, expected
    fonts = await poppler("pdffonts", first.content, tmp_path, "fonts")
    assert "NotoSansCJK" in fonts.replace("-", "") and re.search(r"CID Type 0C.*yes\s+yes\s+yes", fonts), fonts
    info = await poppler("pdfinfo", first.content, tmp_path, "info")
    assert "595.276 x 841.89" in info  # A4
    meta = await poppler("pdfinfo", first.content, tmp_path, "meta", "-meta")
    assert 'pdfaid:part="3"' in meta and 'pdfaid:conformance="B"' in meta  # PDF/A-3b

    # the public verification page and API say which document has this hash
    page = await client.get(f"/verify/document/{sha}")
    assert page.status_code == 200 and contract.number in page.text and "云岭县自然资源局" in page.text
    api = await client.get(f"/api/v1/documents/{sha}")
    assert api.status_code == 200, api.text
    body = api.json()
    assert (body["kind"], body["number"], body["lang"]) == ("contract", contract.number, "zh")
    assert body["summary"]["amount"] == "12800.00" and body["summary"]["provider_name"] == "云南地勘工程咨询有限公司"
    assert body["verify_url"] == f"http://127.0.0.1:8000/verify/document/{sha}"
    changed = hashlib.sha256(first.content + b"\n").hexdigest()
    assert_problem(await client.get(f"/api/v1/documents/{changed}"), 404)
    assert (await client.get(f"/verify/document/{changed}")).status_code == 404
    # checking by upload: the server hashes the file and shows the result
    await client.get("/verify/document")
    r = await client.post(
        "/verify/document",
        files={"file": ("contract.pdf", first.content, "application/pdf")},
        data={"csrf_token": client.cookies.get("market_csrf")},
    )
    assert r.status_code == 303 and r.headers["location"] == f"/verify/document/{sha}"

    # the English rendering is stored (and verifiable) too
    en = await client.get(f"{url}?lang=en", headers=provider_h)
    en_text = re.sub(r"\s+", " ", await pdftotext(en.content, tmp_path, "contract-en"))
    assert "Intermediary service contract" in en_text and "壹万贰仟捌佰元整" in en_text and "2026-10-10" in en_text
    en_sha = hashlib.sha256(en.content).hexdigest()
    assert en_sha != sha and (await client.get(f"/api/v1/documents/{en_sha}")).json()["lang"] == "en"
    listed = (await client.get(f"/api/v1/contracts/{contract.id}", headers=owner_h)).json()["documents"]
    assert {d["lang"]: d["sha256"] for d in listed} == {"zh": sha, "en": en_sha}


async def test_draft_preview_is_marked_and_not_stored(client, factory, settings, tmp_path):
    owner, provider = await make_parties(factory)
    contract = await draft_contract(factory, settings, owner, provider)
    r = await client.get(f"/api/v1/contracts/{contract.id}/pdf", headers=await login(client, "owner1"))
    assert r.status_code == 200 and r.headers["x-document-status"] == "draft"
    assert r.headers["cache-control"] == "no-store"
    text = re.sub(r"\s+", "", await pdftotext(r.content, tmp_path, "draft"))
    assert "草稿" in text and "服务期限届满日在双方签订后确定" in text
    assert await _count(factory, Document) == 0


async def test_worker_renders_invoices_agreements_and_credit_notes(client, factory, settings, tmp_path):
    owner, provider = await make_parties(factory)
    contract = await signed_contract(factory, settings, owner, provider, amount=Decimal("20000"))
    provider_h = await login(client, "prov1")
    owner_h = await login(client, "owner1")
    r = await client.post(
        f"/api/v1/contracts/{contract.id}/agreements",
        headers=owner_h,
        json={"text": "增加附图两幅", "new_amount": "21000"},
    )
    agreement = r.json()
    for headers in (owner_h, provider_h):
        await client.post(f"/api/v1/agreements/{agreement['id']}/sign", headers=headers)
    inv = (
        await client.post(
            f"/api/v1/contracts/{contract.id}/invoices",
            headers=provider_h,
            json={"amount": "21000", "tax_invoice_no": "12345678901234567890"},
        )
    ).json()
    note = (
        await client.post(
            f"/api/v1/invoices/{inv['id']}/credit-notes", headers=provider_h, json={"reason": "税率调整，重开"}
        )
    ).json()

    # the worker renders what became final (a few per tick): the contract, the agreement, the
    # invoice, the credit note
    final = 4
    per_tick = documents.RENDERS_PER_TICK
    done = [await documents.render_pending(factory, settings, clock.now()) for _ in range(-(-final // per_tick) + 1)]
    assert done == [per_tick] * (final // per_tick) + ([final % per_tick] if final % per_tick else []) + [0]
    stored = await _count(factory, Document)
    assert stored == final

    got = await client.get(f"/api/v1/invoices/{inv['id']}/pdf", headers=owner_h)
    assert got.status_code == 200 and await _count(factory, Document) == stored  # served, not re-rendered
    text = re.sub(r"\s+", "", await pdftotext(got.content, tmp_path, "invoice"))
    for expected in (inv["number"], "发票", "¥21,000.00", "贰万壹仟元整", "12345678901234567890", contract.number):
        assert expected in text, expected
    credit = await client.get(f"/api/v1/invoices/{note['id']}/pdf", headers=owner_h)
    text = re.sub(r"\s+", "", await pdftotext(credit.content, tmp_path, "credit"))
    assert "红字发票" in text and inv["number"] in text and "税率调整，重开" in text
    pdf = await client.get(f"/api/v1/agreements/{agreement['id']}/pdf", headers=provider_h)
    text = re.sub(r"\s+", "", await pdftotext(pdf.content, tmp_path, "agreement"))
    assert "补充协议" in text and "贰万壹仟元整" in text and f"{contract.number}-BC1" in text
    sha = hashlib.sha256(got.content).hexdigest()
    body = (await client.get(f"/api/v1/documents/{sha}")).json()
    assert body["kind"] == "invoice" and body["summary"]["issuer_name"] == "云南地勘工程咨询有限公司"
