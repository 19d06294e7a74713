"""Facts reach a firm's credit where they happen (issue 13.1): a delivery returned, a delivery
accepted after the due date, the owner's rating, an objection upheld against its win. The firm's
public page and API show each with its date, effect and link; the formula page shows the weights;
the finance bureau sees the grade that moved. Pages in both languages."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from market import clock
from tests.integration.helpers import account, assert_problem, login, make_parties, signed_contract

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
SIGNED = datetime(2026, 10, 12, 2, 0, tzinfo=UTC)


async def test_deliveries_and_ratings_move_the_record_shown_on_the_pages(client, factory, settings):
    owner, provider = await make_parties(factory)
    with clock.frozen(SIGNED):
        contract = await signed_contract(factory, settings, owner, provider, service_days=3)
    provider_h = await login(client, "prov1")
    owner_h = await login(client, "owner1")
    url = f"/api/v1/contracts/{contract.id}"
    clock.freeze(SIGNED + timedelta(days=20))  # long after the due date
    try:
        files = {"files": ("r.pdf", PDF, "application/pdf")}
        assert (await client.post(f"{url}/deliveries", headers=provider_h, files=files)).status_code == 201
        clock.advance(timedelta(minutes=5))
        r = await client.post(f"{url}/return", headers=owner_h, json={"reason": "附图缺少比例尺和图例，请补充。"})
        assert r.status_code == 200
        clock.advance(timedelta(minutes=5))
        assert (await client.post(f"{url}/deliveries", headers=provider_h, files=files)).status_code == 201
        clock.advance(timedelta(minutes=5))
        assert (await client.post(f"{url}/accept", headers=owner_h)).status_code == 200
        clock.advance(timedelta(minutes=5))
        scores = {"quality": 4, "timeliness": 3, "attitude": 5, "price": 5}
        assert (await client.post(f"{url}/ratings", headers=owner_h, json=scores)).status_code == 201
        # the provider's rating of the owner is not a fact of the firm's credit
        assert (
            await client.post(f"{url}/ratings", headers=provider_h, json={"clarity": 1, "payment": 1})
        ).status_code == 201

        got = (await client.get(f"/api/v1/providers/{provider.org_id}/credit")).json()  # public
        assert [(f["kind"], f["value"], f["effect"]) for f in got["facts"]] == [
            ("rating", "4.25", "0.00"),  # the only rating: the platform mean itself
            ("delivery_late", "1.00", "-5.00"),
            ("delivery_returned", "1.00", "-3.00"),
        ]
        assert all(f["link"] == f"/contracts/{contract.id}" and f["note"] == contract.number for f in got["facts"])
        # 60 + 10 × (4.25 − 1) − 5 − 3
        assert (got["score"], got["grade"], got["platform_mean"], got["ratings"]) == ("84.50", "B", "4.25", 1)
        assert got["formula"] == "/credit/formula"

        zh = (await client.get(f"/providers/{provider.org_id}")).text
        en = (await client.get(f"/providers/{provider.org_id}?lang=en")).text
        for page, words in (
            (zh, ("信用", "B 级", "业主评价", "成果被退回整改")),
            (en, ("Credit", "Grade B", "Delivered after")),
        ):
            assert all(w in page for w in words), words
            assert "84.50" in page and "-5.00" in page and f"/contracts/{contract.id}" in page

        # the finance bureau sees the grade move (A → B with the late delivery), page and API
        finance = await account(client, factory, "finance", "fin1", "云岭县财政局")
        changes = (await client.get("/api/v1/finance/credit/grade-changes", headers=finance)).json()
        assert changes["total"] == 1
        (change,) = changes["items"]
        assert (change["old_grade"], change["new_grade"], change["fact_kind"], change["provider_id"]) == (
            "A",
            "B",
            "delivery_late",
            str(provider.org_id),
        )
        assert (await client.get("/api/v1/finance/credit/grade-changes?grade=D", headers=finance)).json()["total"] == 0
        assert_problem(
            await client.get("/api/v1/finance/credit/grade-changes?from=2026-13-01", headers=finance), 422, "from"
        )
        page = await client.get("/finance/credit?lang=zh", headers=finance)
        assert page.status_code == 200 and "信用等级" in page.text and "A → <strong>B</strong>" in page.text
        page = await client.get("/finance/credit?lang=en", headers=finance)
        assert "Credit grades" in page.text and "Delivered after the due date" in page.text
        assert (await client.get("/api/v1/finance/credit/grade-changes")).status_code in (401, 403)
        assert (await client.get("/api/v1/finance/credit/grade-changes", headers=provider_h)).status_code == 403
    finally:
        clock.reset()


async def test_the_formula_is_published_in_both_languages(client, factory, settings):
    formula = (await client.get("/api/v1/credit/formula")).json()
    assert formula["prior_ratings"] == 5 and formula["platform_mean"] is None
    assert [(g["grade"], g["from_score"]) for g in formula["grades"]] == [
        ("A", "85.00"),
        ("B", "70.00"),
        ("C", "55.00"),
        ("D", "0.00"),
    ]
    assert {p["kind"]: p["points"] for p in formula["penalties"]}["refused_to_sign"] == "15.00"
    zh = (await client.get("/credit/formula")).text
    en = (await client.get("/credit/formula?lang=en")).text
    assert "机构信用如何计算" in zh and "贝叶斯平均" in zh and "15.00" in zh
    assert "How a firm's credit is computed" in en and "Bayesian average" in en and "85.00" in en
    assert (await client.get(f"/api/v1/providers/{'0' * 8}-0000-0000-0000-{'0' * 12}/credit")).status_code == 404
