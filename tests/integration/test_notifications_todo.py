"""To-do lists on each role's dashboard: what waits, counted, oldest first, with deadlines; one
query per list whatever the number of items."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import event

from market import clock
from tests.integration.helpers import browser, draft_contract, make_parties, make_user
from tests.integration.listings_helpers import post_provider, registration


def _count_selects(engine):
    seen: list[str] = []

    def before(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("SELECT"):
            seen.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", before)
    return seen, lambda: event.remove(engine.sync_engine, "before_cursor_execute", before)


async def test_the_operator_sees_registrations_oldest_first_in_one_query(app, client, factory, engine):
    await make_user(factory, "admin", "平台管理机构", "ops")
    for name in ("first", "second"):
        assert (await post_provider(client, registration(name))).status_code == 201
        clock.advance(timedelta(minutes=5))
    page = await browser(app, "ops")
    try:
        seen, stop = _count_selects(engine)
        html = (await page.get("/admin")).text
        stop()
        two = len(seen)
        assert 'id="todo-registrations_to_review"' in html
        section = html.split('id="todo-registrations_to_review"')[1].split("</section>")[0]
        assert '<span class="badge">2</span>' in section
        assert section.index("云南first") < section.index("云南second")  # oldest first
        assert section.count("<tr") == 3  # a header and two rows, each with its deadline

        assert (await post_provider(client, registration("third"))).status_code == 201
        seen, stop = _count_selects(engine)
        html = (await page.get("/admin")).text
        stop()
        assert len(seen) == two  # one query per list, whatever the number of items
        section = html.split('id="todo-registrations_to_review"')[1].split("</section>")[0]
        assert '<span class="badge">3</span>' in section
    finally:
        await page.aclose()


async def test_contracts_to_sign_wait_for_each_party_until_it_signs(app, factory, settings):
    owner_user, provider_user = await make_parties(factory)
    contract = await draft_contract(factory, settings, owner_user, provider_user)
    for username in (owner_user.username, provider_user.username):
        page = await browser(app, username)
        try:
            html = (await page.get("/workspace")).text
            section = html.split('id="todo-contracts_to_sign"')[1].split("</section>")[0]
            assert contract.number in section and '<span class="badge">1</span>' in section
            signed = await page.post(
                f"/workspace/contracts/{contract.id}/sign", data={"csrf_token": page.cookies.get("market_csrf")}
            )
            assert signed.status_code == 303, signed.text
            html = (await page.get("/workspace")).text
            section = html.split('id="todo-contracts_to_sign"')[1].split("</section>")[0]
            assert contract.number not in section and '<span class="badge">0</span>' in section
        finally:
            await page.aclose()
