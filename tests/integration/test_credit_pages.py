"""The credit pages as their readers see them (issue 13, looked at in both languages): the formula,
the lists and a firm's record link each other and explain their numbers, the directory shows each
firm's grade, and bad input to the violation, appeal and decision forms is refused at the field
(422), never a 500. On both databases."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from listings import credit
from listings.credit_rules import CreditFactKind, Grade
from listings.violation_rules import CATEGORY_CODES
from market import clock
from tests.integration.helpers import account, browser, csrf, owner, provider

# a Monday in China, far from holidays
START = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)


async def _fact(session, firm, kind, value, days_ago=1):
    await credit.record_fact(
        session,
        provider_id=firm,
        kind=kind,
        occurred_at=clock.now() - timedelta(days=days_ago),
        value=value,
        source_id=uuid.uuid4(),
        link="/credit/formula",
    )


async def test_the_pages_link_each_other_and_explain_their_numbers(client, factory, settings):
    clock.freeze(START)
    _h, rated = await provider(client, factory, "firm-rated", org_name="云南甲级咨询有限公司")
    _h, fined = await provider(client, factory, "firm-fined", org_name="云南乙级咨询有限公司")
    _h, fresh = await provider(client, factory, "firm-fresh", org_name="云南新设咨询有限公司")
    async with factory() as session:
        await _fact(session, rated, CreditFactKind.rating, 5)
        await _fact(session, fined, CreditFactKind.violation, 12)
        await _fact(session, fined, CreditFactKind.refused_to_sign, 1, days_ago=2)
        await _fact(session, fined, CreditFactKind.delivery_late, 1, days_ago=3)
        await session.commit()
        grades = await credit.grades_of(session, [rated, fined, fresh], clock.now())
        live = {pid: (await credit.standing(session, pid, clock.now())).grade for pid in (rated, fined, fresh)}
    # the list's grades (kept records, the starting point for a firm without a fact) are the live ones
    assert grades == live and grades[fresh] == Grade.A and grades[fined] != Grade.A

    for lang, words in (("zh", "每分扣"), ("en", "per point")):
        formula = await client.get(f"/credit/formula?lang={lang}")
        assert formula.status_code == 200 and words in formula.text
        assert 'href="/credit"' in formula.text and 'href="/credit#rules"' in formula.text
    # the formula says when violation points count as the rules do: once final, not merely decided
    assert "once any appeal is decided" not in formula.text and "appeal window closed" in formula.text

    for lang in ("zh", "en"):
        lists = await client.get(f"/credit?lang={lang}")
        assert lists.status_code == 200 and 'href="/credit/formula"' in lists.text
        # categories are read by their labels, never by their codes
        assert not [code for code in CATEGORY_CODES if f">{code}<" in lists.text]

    for lang, badge in (("zh", "{g} 级"), ("en", "Grade {g}")):
        directory = await client.get(f"/providers?lang={lang}")
        assert directory.status_code == 200 and 'href="/credit/formula"' in directory.text
        for firm, grade in grades.items():
            assert f'href="/providers/{firm}#credit" title=' in directory.text
            assert badge.format(g=grade.value) in directory.text

    page = await client.get(f"/providers/{rated}?lang=en")
    assert page.status_code == 200
    # the grade links to the formula; a rating reads as a rating out of 5, with no bare "value" column
    assert '<a class="badge grade grade-A" href="/credit/formula"' in page.text
    assert "5.00 of 5" in page.text and ">Value<" not in page.text
    page = await client.get(f"/providers/{fined}?lang=zh")
    assert page.status_code == 200 and "违规记分 <span" in page.text and "12 分" in page.text


async def test_bad_input_to_the_violation_forms_is_refused_at_the_field(app, client, factory, settings):
    clock.freeze(START)
    await account(client, factory, "admin", "op-admin", "云岭县政务服务管理局")
    _h, firm_id = await provider(client, factory, "firm-a")
    operator = await browser(app, "op-admin")
    firm = await browser(app, "firm-a")
    try:
        url = f"/admin/providers/{firm_id}/violations"
        good = {"category": "overdue_service", "points": "", "reason": "超过服务时限 5 个工作日。"}
        for bad, field in (
            ({"category": "nope"}, "category"),
            ({"category": ""}, "category"),
            ({"points": "abc"}, "points"),
            ({"points": "0"}, "points"),
            ({"points": "99"}, "points"),
            ({"points": "9" * 30}, "points"),
            ({"reason": "差"}, "reason"),
            ({"reason": "x" * 2001}, "reason"),
            ({"reason": "理由\u202e含方向字符"}, "reason"),
        ):
            r = await operator.post(url, data=good | bad | {"csrf_token": csrf(operator)})
            assert r.status_code == 422 and f'id="err-{field}"' in r.text, (bad, r.status_code)
        # a list of allowed values reads in the page's language, its last "or" too
        r = await operator.post(url, data=good | {"category": "nope", "csrf_token": csrf(operator)})
        assert "或&#39;other&#39;" in r.text and " or &#39;" not in r.text
        r = await operator.post(url, data=good | {"csrf_token": csrf(operator)})
        assert r.status_code == 303, r.text
        violation_id = r.headers["location"].split("?")[0].rsplit("/", 1)[1]

        appeal = f"/workspace/violations/{violation_id}/appeal"
        # the appeal form says when the points count if the firm lets the window pass
        form = await firm.get(f"/workspace/violations/{violation_id}?lang=en")
        assert "Without an appeal the points count from 2026-03-16" in form.text
        for text in ("", "短", "y" * 2001, "含\x00控制字符的申诉"):
            r = await firm.post(appeal, data={"text": text, "csrf_token": csrf(firm)})
            assert r.status_code == 422 and 'id="err-text"' in r.text, (text[:10], r.status_code)
        r = await firm.post(appeal, data={"text": "延期系业主变更需求所致。", "csrf_token": csrf(firm)})
        assert r.status_code == 303, r.text

        decide = f"/admin/violations/{violation_id}/decide"
        for bad, field in (
            ({"decision": "业主确认需求变更。"}, "upheld"),
            ({"upheld": "maybe", "decision": "业主确认需求变更。"}, "upheld"),
            ({"upheld": "true", "decision": ""}, "decision"),
            ({"upheld": "false", "decision": "z" * 2001}, "decision"),
        ):
            r = await operator.post(decide, data=bad | {"csrf_token": csrf(operator)})
            assert r.status_code == 422 and f'id="err-{field}"' in r.text, (bad, r.status_code)
        r = await operator.post(
            decide, data={"upheld": "true", "decision": "业主确认需求变更。", "csrf_token": csrf(operator)}
        )
        assert r.status_code == 303, r.text
        # decided: a second decision and a second appeal are refused, not failed
        again = await operator.post(
            decide, data={"upheld": "false", "decision": "再次决定申诉。", "csrf_token": csrf(operator)}
        )
        assert again.status_code == 409
        again = await firm.post(appeal, data={"text": "再次申诉该违规。", "csrf_token": csrf(firm)})
        assert again.status_code == 409
        # the firm's own page links to its public credit record
        mine = await firm.get("/workspace/violations?lang=en")
        assert f'href="/providers/{firm_id}#credit"' in mine.text
    finally:
        await operator.aclose()
        await firm.aclose()


async def test_the_purchase_form_links_the_formula_by_its_minimum_grade(app, client, factory, settings):
    await owner(client, factory, "owner-g")
    page = await browser(app, "owner-g")
    try:
        for lang, words in (("zh", "信用等级低于该等级的机构不能投标"), ("en", "Firms whose credit grade is below it")):
            form = await page.get(f"/workspace/purchases/new?lang={lang}")
            assert form.status_code == 200 and words in form.text
            hint = form.text.split('name="min_grade"', 1)[1].split("</label>", 1)[0]
            assert '<a href="/credit/formula"' in hint  # a link, not escaped text
    finally:
        await page.aclose()
