"""The public contract summary (SPEC §1, §6): ``/contracts/{id}`` and
``GET /api/v1/contracts/{id}/summary`` answer anyone once both parties have signed, and 404 —
exactly like an unknown id — before; they show the organisations, the amount, the dates, the status
and the PDF's SHA-256 with its verification link, and no personal data."""

from __future__ import annotations

import re
import uuid
from datetime import datetime

from sqlalchemy import update

from invoices import contracts, documents
from market import clock
from market.clock import LOCAL_TZ
from market.identity.models import User
from tests.integration.helpers import actor_of, assert_problem, browser, draft_contract, login, make_parties

SIGNER_NAMES = {"owner1": "张立新", "prov1": "王晓燕"}
# what make_parties gives the organisations, and where the helpers sign from: none of it is public
PERSONAL = ("刘洋", "陈静", "云岭县人民路 66 号", "昆明市五华区学府路 8 号", "198.51.100.20", *SIGNER_NAMES.values())


def main_of(html: str) -> str:
    return html.split('<main id="main"', 1)[1].split("</main>", 1)[0]


async def _name_the_signers(factory) -> None:
    async with factory() as session:
        for username, name in SIGNER_NAMES.items():
            result = await session.execute(update(User).where(User.username == username).values(display_name=name))
            assert result.rowcount == 1
        await session.commit()


async def _sign(factory, settings, contract_id, *users) -> None:
    async with factory() as session:
        for user, role in users:
            await contracts.sign_contract(session, actor_of(user, role), settings, contract_id)
        await session.commit()


async def test_the_summary_is_not_found_until_both_parties_have_signed(client, factory, settings):
    owner, provider = await make_parties(factory)
    contract = await draft_contract(factory, settings, owner, provider)
    unknown = uuid.uuid4()
    owner_h = await login(client, "owner1")

    def same_as_unknown(found, missing) -> None:
        assert found.status_code == missing.status_code == 404
        a, b = found.json(), missing.json()
        assert (a["title"], a["detail"], a["type"]) == (b["title"], b["detail"], b["type"])

    for signatures in ((), ((owner, "owner"),)):
        await _sign(factory, settings, contract.id, *signatures)
        api = await client.get(f"/api/v1/contracts/{contract.id}/summary")
        assert_problem(api, 404)
        same_as_unknown(api, await client.get(f"/api/v1/contracts/{unknown}/summary"))
        # a party signed in is told the same: the summary is public or it is not there
        same_as_unknown(
            await client.get(f"/api/v1/contracts/{contract.id}/summary", headers=owner_h),
            await client.get(f"/api/v1/contracts/{unknown}/summary", headers=owner_h),
        )
        page = await client.get(f"/contracts/{contract.id}")
        unknown_page = await client.get(f"/contracts/{unknown}")
        assert page.status_code == unknown_page.status_code == 404
        assert main_of(page.text) == main_of(unknown_page.text)


async def test_the_summary_of_a_signed_contract_is_public_and_holds_no_personal_data(client, factory, settings):
    clock.freeze(datetime(2026, 9, 18, 15, 30, tzinfo=LOCAL_TZ))
    owner, provider = await make_parties(factory)
    await _name_the_signers(factory)
    contract = await draft_contract(factory, settings, owner, provider, service_days=11)
    await _sign(factory, settings, contract.id, (owner, "owner"), (provider, "provider"))

    api = await client.get(f"/api/v1/contracts/{contract.id}/summary")  # no sign-in
    assert api.status_code == 200, api.text
    body = api.json()
    assert body["number"] == contract.number and body["status"] == "signed"
    assert (body["purchase_id"], body["purchase_ref"]) == (str(contract.purchase_id), contract.purchase_ref)
    assert (body["owner_name"], body["provider_name"]) == ("云岭县自然资源局", "云南地勘工程咨询有限公司")
    assert (body["amount"], body["amount_in_words"]) == ("12800.00", "壹万贰仟捌佰元整")
    assert (body["amount_current"], body["amount_current_in_words"]) == ("12800.00", "壹万贰仟捌佰元整")
    assert clock.to_local(datetime.fromisoformat(body["signed_at"])).date().isoformat() == "2026-09-18"
    assert clock.to_local(datetime.fromisoformat(body["due_at_current"])).date().isoformat() == "2026-10-10"
    assert body["documents"] == []  # the worker has not rendered the PDF yet

    # once the PDF is stored, its hash and verification link are part of the summary
    document = await documents.ensure_document(factory, settings, "contract", contract.id, "zh")
    body = (await client.get(f"/api/v1/contracts/{contract.id}/summary")).json()
    assert body["documents"] == [
        {
            "sha256": document.sha256,
            "lang": "zh",
            "number": contract.number,
            "verify_url": f"{settings.base_url}/verify/document/{document.sha256}",
        }
    ]
    page = await client.get(f"/contracts/{contract.id}")
    assert page.status_code == 200
    main = main_of(page.text)
    for expected in (
        contract.number,
        contract.purchase_ref,
        "云岭县自然资源局",
        "云南地勘工程咨询有限公司",
        "¥12,800.00",
        "壹万贰仟捌佰元整",
        "2026-09-18",
        "2026-10-10",
        "已签订，履约中",
        f'href="/verify/document/{document.sha256}"',
        f'href="/purchases/{contract.purchase_id}"',
    ):
        assert expected in main, expected
    verified = await client.get(f"/verify/document/{document.sha256}")
    assert verified.status_code == 200 and contract.number in verified.text

    # no personal data anywhere: no legal representatives, signers, IP addresses or addresses
    for text in (api.text, main, (await client.get(f"/contracts/{contract.id}?lang=en")).text):
        for personal in PERSONAL:
            assert personal not in text, personal
    assert not {"owner_legal_rep", "owner_address", "owner_signed_ip", "owner_signed_by"} & set(body)

    english = main_of((await client.get(f"/contracts/{contract.id}?lang=en")).text)
    assert "Contract price" in english and "Due date" in english and "合同价款" not in english


async def test_the_purchase_page_links_to_the_summary_and_back(client, factory, settings):
    owner, provider = await make_parties(factory)
    contract = await draft_contract(factory, settings, owner, provider)
    await _sign(factory, settings, contract.id, (owner, "owner"), (provider, "provider"))
    purchase = await client.get(f"/purchases/{contract.purchase_id}")
    assert purchase.status_code == 200
    links = re.findall(r'href="(/contracts/[0-9a-f-]{36})"', purchase.text)
    assert links == [f"/contracts/{contract.id}"]
    summary = await client.get(links[0])
    assert summary.status_code == 200 and contract.number in summary.text
    assert f'href="/purchases/{contract.purchase_id}"' in summary.text


async def test_the_summary_shows_the_terms_after_supplementary_agreements(client, factory, settings):
    clock.freeze(datetime(2026, 9, 18, 15, 30, tzinfo=LOCAL_TZ))
    owner, provider = await make_parties(factory)
    contract = await draft_contract(factory, settings, owner, provider, service_days=11)
    await _sign(factory, settings, contract.id, (owner, "owner"), (provider, "provider"))
    o, p = actor_of(owner, "owner"), actor_of(provider, "provider")
    async with factory() as session:
        agreement = await contracts.propose_agreement(
            session, o, contract.id, text="增加评估范围，价款与期限相应调整。", new_amount=15000, extra_days=2
        )
        for actor in (o, p):
            await contracts.sign_agreement(session, actor, settings, agreement.id)
        await session.commit()
    body = (await client.get(f"/api/v1/contracts/{contract.id}/summary")).json()
    assert (body["amount"], body["amount_current"], body["amount_current_in_words"]) == (
        "12800.00",
        "15000.00",
        "壹万伍仟元整",
    )
    due, current = (
        clock.to_local(datetime.fromisoformat(body[k])).date().isoformat() for k in ("due_at", "due_at_current")
    )
    assert (due, current) == ("2026-10-10", "2026-10-13")
    main = main_of((await client.get(f"/contracts/{contract.id}")).text)
    assert "¥15,000.00" in main and "壹万伍仟元整" in main and "2026-10-13" in main and "2026-10-10" in main


async def test_a_party_finds_its_workspace_from_the_summary(app, client, factory, settings):
    owner, provider = await make_parties(factory)
    contract = await draft_contract(factory, settings, owner, provider)
    await _sign(factory, settings, contract.id, (owner, "owner"), (provider, "provider"))
    link = f'href="/workspace/contracts/{contract.id}"'
    assert link not in (await client.get(f"/contracts/{contract.id}")).text
    party = await browser(app, "owner1")
    try:
        assert link in (await party.get(f"/contracts/{contract.id}")).text
        workspace = await party.get(f"/workspace/contracts/{contract.id}")
        assert f'href="/contracts/{contract.id}"' in workspace.text  # and back to the public summary
    finally:
        await party.aclose()


async def test_the_openapi_document_describes_the_public_summary(client):
    spec = (await client.get("/schema/openapi.json")).json()
    op = spec["paths"]["/api/v1/contracts/{contract_id}/summary"]["get"]
    assert "ContractSummaryOut" in str(op["responses"]["200"]["content"]["application/json"]["schema"])
    assert "404" in op["responses"] and op["security"] == [{}]  # no sign-in needed
    schema = spec["components"]["schemas"]["ContractSummaryOut"]["properties"]
    assert {"number", "purchase_ref", "owner_name", "provider_name", "amount", "amount_in_words"} <= set(schema)
    assert not [name for name in schema if "legal_rep" in name or "address" in name or "signed_by" in name]
