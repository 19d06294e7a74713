"""Delivery and acceptance (uploads recognised by content, returned with reasons, audit events),
and ratings after acceptance shown with their number on the provider's public summary."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from market.audit.models import AuditEvent
from market.settings import Settings
from tests.integration.helpers import account, assert_problem, login, make_parties, signed_contract

PDF = b"%PDF-1.7\n1 0 obj << >> endobj\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64


@pytest.fixture
def settings(database_url, tmp_path) -> Settings:
    # a small upload limit, so that the limit can be tested without megabytes of data
    return Settings(
        database_url=database_url,
        var_dir=tmp_path,
        upload_dir=tmp_path / "uploads",
        run_worker_in_app=False,
        argon2_profile="fast",
        max_upload_bytes=4096,
    ).validate()


async def test_delivery_return_resubmit_accept_with_audit(client, factory, settings):
    owner, provider = await make_parties(factory)
    contract = await signed_contract(factory, settings, owner, provider)
    provider_h = await login(client, "prov1")
    owner_h = await login(client, "owner1")
    url = f"/api/v1/contracts/{contract.id}"

    # forged: a text file named .pdf is refused by content
    r = await client.post(
        f"{url}/deliveries", headers=provider_h, files={"files": ("report.pdf", b"just text", "application/pdf")}
    )
    assert_problem(r, 415, "files")
    # too large
    r = await client.post(
        f"{url}/deliveries", headers=provider_h, files={"files": ("big.pdf", PDF + b"0" * 5000, "application/pdf")}
    )
    body = assert_problem(r, 413, "files")
    assert "big.pdf" in body["detail"]
    # nothing to accept yet; only the provider delivers
    assert_problem(await client.post(f"{url}/accept", headers=owner_h), 422)
    assert_problem(
        await client.post(f"{url}/deliveries", headers=owner_h, files={"files": ("a.pdf", PDF, "application/pdf")}), 403
    )

    r = await client.post(
        f"{url}/deliveries",
        headers=provider_h,
        data={"note": "评估报告及附图"},
        files=[("files", ("评估报告.pdf", PDF, "application/pdf")), ("files", ("附图.png", PNG, "image/png"))],
    )
    assert r.status_code == 201, r.text
    first = r.json()
    assert first["seq"] == 1 and first["status"] == "submitted" and first["note"] == "评估报告及附图"
    assert sorted((f["filename"], f["content_type"]) for f in first["files"]) == [
        ("评估报告.pdf", "application/pdf"),
        ("附图.png", "image/png"),
    ]
    assert_problem(
        await client.post(f"{url}/deliveries", headers=provider_h, files={"files": ("b.pdf", PDF, "application/pdf")}),
        409,
    )
    # the deliverable is served to the parties (and finance), byte for byte, not to others
    png = next(f for f in first["files"] if f["content_type"] == "image/png")
    got = await client.get(png["download_url"], headers=owner_h)
    assert got.status_code == 200 and got.content == PNG and got.headers["content-type"].startswith("image/png")
    outsider_h = await account(client, factory, "provider", "nosy", "别家公司")
    assert_problem(await client.get(png["download_url"], headers=outsider_h), 404)

    # returned with reasons (a reason is required)
    assert_problem(await client.post(f"{url}/return", headers=owner_h, json={"reason": "no"}), 422, "reason")
    assert_problem(await client.post(f"{url}/return", headers=provider_h, json={"reason": "附图比例尺缺失"}), 403)
    r = await client.post(f"{url}/return", headers=owner_h, json={"reason": "附图缺少比例尺和图例，请补充。"})
    assert r.status_code == 200 and r.json()["status"] == "returned"
    assert (await client.get(url, headers=owner_h)).json()["status"] == "returned"
    # ratings are not open before acceptance
    assert_problem(
        await client.post(
            f"{url}/ratings", headers=owner_h, json={"quality": 5, "timeliness": 5, "attitude": 5, "price": 5}
        ),
        422,
    )

    r = await client.post(
        f"{url}/deliveries", headers=provider_h, files={"files": ("附图-修订.jpg", JPEG, "image/jpeg")}
    )
    assert r.status_code == 201 and r.json()["seq"] == 2
    r = await client.post(f"{url}/accept", headers=owner_h)
    assert r.status_code == 200 and r.json()["status"] == "accepted"
    body = (await client.get(url, headers=owner_h)).json()
    assert body["status"] == "accepted" and body["accepted_at"]
    history = (await client.get(f"{url}/deliveries", headers=provider_h)).json()
    assert [(d["seq"], d["status"]) for d in history] == [(1, "returned"), (2, "accepted")]
    assert history[0]["reason"] == "附图缺少比例尺和图例，请补充。"
    assert_problem(
        await client.post(f"{url}/deliveries", headers=provider_h, files={"files": ("c.pdf", PDF, "application/pdf")}),
        422,
    )
    async with factory() as session:
        actions = (
            await session.scalars(
                select(AuditEvent.action)
                .where(AuditEvent.entity_id == str(contract.id), AuditEvent.action.like("delivery.%"))
                .order_by(AuditEvent.seq)
            )
        ).all()
    assert actions == ["delivery.submitted", "delivery.returned", "delivery.submitted", "delivery.accepted"]


async def _accepted(client, factory, settings, owner, provider, **changes):
    contract = await signed_contract(factory, settings, owner, provider, **changes)
    provider_h = await login(client, provider.username)
    owner_h = await login(client, owner.username)
    url = f"/api/v1/contracts/{contract.id}"
    r = await client.post(f"{url}/deliveries", headers=provider_h, files={"files": ("r.pdf", PDF, "application/pdf")})
    assert r.status_code == 201, r.text
    assert (await client.post(f"{url}/accept", headers=owner_h)).status_code == 200
    return url, owner_h, provider_h


async def test_ratings_both_ways_once_and_the_public_summary(app, client, factory, settings):
    owner, provider = await make_parties(factory)
    url, owner_h, provider_h = await _accepted(client, factory, settings, owner, provider)
    summary_url = f"/api/v1/providers/{provider.org_id}/ratings"
    assert (await client.get(summary_url)).json()["count"] == 0

    assert_problem(await client.post(f"{url}/ratings", headers=owner_h, json={"quality": 5}), 422, "timeliness")
    assert_problem(
        await client.post(
            f"{url}/ratings", headers=owner_h, json={"quality": 6, "timeliness": 5, "attitude": 5, "price": 5}
        ),
        422,
        "quality",
    )
    assert_problem(
        await client.post(
            f"{url}/ratings",
            headers=owner_h,
            json={"quality": 4, "timeliness": 5, "attitude": 5, "price": 3, "clarity": 5},
        ),
        422,
        "clarity",
    )
    r = await client.post(
        f"{url}/ratings",
        headers=owner_h,
        json={"quality": 4, "timeliness": 5, "attitude": 5, "price": 3, "comment": "报告规范，现场配合好。"},
    )
    assert r.status_code == 201, r.text
    assert r.json()["ratee_role"] == "provider" and r.json()["ratee_org_id"] == str(provider.org_id)
    assert_problem(
        await client.post(
            f"{url}/ratings", headers=owner_h, json={"quality": 1, "timeliness": 1, "attitude": 1, "price": 1}
        ),
        409,
    )
    r = await client.post(f"{url}/ratings", headers=provider_h, json={"clarity": 4, "payment": 2})
    assert r.status_code == 201 and r.json()["ratee_role"] == "owner"
    assert len((await client.get(f"{url}/ratings", headers=provider_h)).json()) == 2

    # a second contract, rated lower: the summary averages both and counts them
    url2, owner_h, _ = await _accepted(client, factory, settings, owner, provider)
    await client.post(
        f"{url2}/ratings", headers=owner_h, json={"quality": 3, "timeliness": 2, "attitude": 4, "price": 4}
    )
    summary = (await client.get(summary_url)).json()  # public, no sign-in
    assert summary["count"] == 2
    assert summary["averages"] == {"quality": "3.5", "timeliness": "3.5", "attitude": "4.5", "price": "3.5"}
    assert summary["overall"] == "3.8"
    assert summary["recent"][-1]["comment"] == "报告规范，现场配合好。"

    # the public directory and the provider's page show them, with their number
    card = (await client.get(f"/api/v1/providers/{provider.org_id}")).json()
    assert card["rating"]["count"] == 2 and card["rating"]["average"] == "3.8"
    assert card["rating"]["aspects"]["quality"] == "3.5"
    listed = (await client.get("/api/v1/providers", params={"q": "云南地勘"})).json()["items"]
    assert listed[0]["rating"]["count"] == 2
    page = (await client.get(f"/providers/{provider.org_id}")).text
    assert "3.8" in page and "2 条评价" in page and "服务质量 3.5" in page
