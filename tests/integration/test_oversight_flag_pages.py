"""The red-flag list built a page at a time (oversight.flagpages: the subjects per code from the
counts, the facts of a page's subjects only, the unchanged rules) is the whole list sliced: every
page of 7 of ``/api/v1/finance/flags`` and of the service behind ``/finance/flags`` (flagged
subjects, grouped and ordered as the page orders them), for every filter the pages use, equals
the corresponding slice of ``rules.all_flags`` over the whole period — codes, subjects, data,
explanations, order — with the same totals and counts; on the demo county and on generated data
now and 400 days later."""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import date, timedelta
from typing import Any

import pytest

from market import clock
from oversight import api, bulk, counts, flagpages, rules, services
from oversight.facts import Period, Snapshot, load
from tests.integration.helpers import login

pytestmark = pytest.mark.demo
LIMIT = 7
DEMO_PASSWORD = "demo2026"


def _filters() -> list[dict[str, str]]:
    """The filters the API and the page use: none, a kind, a code, a severity, a kind and a severity."""
    found: list[dict[str, str]] = [{}]
    found += [{"kind": k} for k in services.FLAG_KINDS]
    found += [{"code": c} for c in rules.FLAG_CODES]
    found += [{"severity": s} for s in rules.SEVERITIES]
    found += [{"kind": k, "severity": s} for k in services.FLAG_KINDS for s in rules.SEVERITIES]
    return found


def _kept(flags: list[rules.Flag], flt: dict[str, str]) -> list[rules.Flag]:
    f = services.FlagFilter(kind=flt.get("kind"), code=flt.get("code"), severity=flt.get("severity"))
    return [x for x in flags if f.keep(x)]


def _grouped(flags: list[rules.Flag], snapshot: Snapshot, kind: str) -> list[tuple[uuid.UUID, list[rules.Flag]]]:
    """The page's subjects as the page used to order them over the whole list: the most serious
    first, then more flags, then the purchase's reference (or title) or the firm's name."""
    grouped: dict[uuid.UUID, list[rules.Flag]] = defaultdict(list)
    for f in flags:
        grouped[f.subject_id].append(f)
    purchases, firms = snapshot.purchases_by_id, snapshot.firms_by_id

    def name(i: uuid.UUID) -> str:
        if kind == "purchase":
            return purchases[i].ref or purchases[i].title
        return firms[i].name if i in firms else str(i)

    order = {s: i for i, s in enumerate(rules.SEVERITIES)}
    return sorted(grouped.items(), key=lambda e: (order[e[1][0].severity], -len(e[1]), name(e[0])))


async def _check(factory, settings, period: Period = Period()) -> int:
    """Every page of every filter against the whole list; the number of flags."""
    t = rules.Thresholds.of(settings)
    async with factory() as session:
        whole = await load(session, settings, period)
        expected = rules.all_flags(whole.purchases, whole.firms, t)
        flagged = await counts.flagged_subjects(session, settings, period)
        assert flagged.counts == rules.count_by(expected, lambda f: f.code), period
        for flt in _filters():
            kept = _kept(expected, flt)
            offset = 0
            while True:
                page = await flagpages.flag_page(session, settings, period, offset=offset, limit=LIMIT, **flt)
                assert page.flags == kept[offset : offset + LIMIT], (flt, offset)
                assert page.total == len(kept), flt
                assert page.counts == flagged.counts
                for f in page.flags:  # the subject as the API names it
                    shown = api.FlagReport(page.snapshot, [], []).subject(f)
                    assert shown == api.FlagReport(whole, [], []).subject(f), f
                offset += LIMIT
                if offset >= len(kept):
                    break
        for kind in services.FLAG_KINDS:
            for flt in [{}, *({"code": c} for c in rules.FLAG_CODES if flagpages.kind_of(c) == kind)] + [
                {"severity": s} for s in rules.SEVERITIES
            ]:
                subjects = _grouped(_kept(expected, {"kind": kind, **flt}), whole, kind)
                pages = max(1, -(-len(subjects) // LIMIT))
                for number in range(1, pages + 2):  # and one past the end: the last page
                    got = await flagpages.subject_page(
                        session,
                        settings,
                        period,
                        kind=kind,
                        code=flt.get("code"),
                        severity=flt.get("severity"),
                        page=number,
                        size=LIMIT,
                    )
                    at = (min(number, pages) - 1) * LIMIT
                    assert got.subjects == subjects[at : at + LIMIT], (kind, flt, number)
                    assert got.subject_count == len(subjects)
                    assert got.total == sum(len(fs) for _, fs in subjects)
                    assert got.kind_counts == rules.count_by(expected, lambda f: f.subject)
                    for subject_id, _ in got.subjects:
                        if kind == "purchase":
                            assert got.snapshot.purchases_by_id[subject_id] == whole.purchases_by_id[subject_id]
        for firm_id in _firms(expected, whole):
            won = {p.id for p in whole.purchases if p.selected and p.winner_id == firm_id}
            for flt in ({}, {"kind": "purchase"}, {"severity": "high"}, {"code": "linked_firms"}):
                f = services.FlagFilter(firm_id=firm_id, **flt)
                report, every = await services.firm_report(session, settings, period, f)
                assert report.chosen == [x for x in expected if f.keep(x, won)], (firm_id, flt)
                assert every == flagged.counts
                assert {p.id for p in services.involving(report.snapshot.purchases, firm_id)} == {
                    p.id for p in services.involving(whole.purchases, firm_id)
                }
    return len(expected)


def _firms(flags: list[rules.Flag], whole: Snapshot) -> list[uuid.UUID]:
    """Firms the flags concern in every way (a firm flag's subject, a winner, one of the firms at
    one price, a linked bidder), a few of each, and a firm no flag concerns."""
    found: dict[str, list[uuid.UUID]] = defaultdict(list)
    for f in flags:
        d = f.data
        if f.subject == "firm":
            found[f.code].append(f.subject_id)
        for key in ("winner",):
            if isinstance(d.get(key), dict):
                found[f.code].append(d[key]["id"])
        found[f.code] += [x["id"] for x in d.get("firms", [])]
        for link in d.get("links", []):
            found[f.code] += [x["id"] for x in (link.get("a"), link.get("b")) if x]
    chosen = {i for ids in found.values() for i in ids[:3]}
    quiet = [x.id for x in whole.firms if not any(rules.mentions(f, x.id) or f.subject_id == x.id for f in flags)]
    return sorted(chosen, key=str) + quiet[:1]


async def test_every_page_is_the_slice_of_the_whole_list_on_the_demo(factory, settings):
    for period in (Period(), Period(date(2026, 1, 1), None), Period(None, date(2026, 1, 1))):
        n = await _check(factory, settings, period)
        if period == Period():
            assert n > 2 * LIMIT


async def test_every_page_is_the_slice_of_the_whole_list_on_generated_data(factory, settings):
    await _check(factory, settings)  # kept per audit-chain head: the generated data (audited) is seen
    await bulk.generate(factory, 300, seed=12)
    start = clock.now()
    for later in (timedelta(0), timedelta(days=400)):
        clock.freeze(start + later)
        assert await _check(factory, settings) > 10 * LIMIT
        await _check(factory, settings, Period(date(2026, 6, 1), None))


def _json(items: list[Any]) -> list[Any]:
    return [i.model_dump(mode="json") for i in items]


async def test_the_api_pages_are_the_slices_with_their_explanations(client, factory, settings):
    """Through the app: each page's items (titles, subjects, explanations, data, links), its total
    and the counts, against the whole list turned into the API's items."""
    finance = await login(client, "finance", DEMO_PASSWORD)
    async with factory() as session:
        whole = await load(session, settings)
    expected = rules.all_flags(whole.purchases, whole.firms, rules.Thresholds.of(settings))
    report = services.FlagReport(whole, expected, expected)
    firm = next(f.data["winner"]["id"] for f in expected if f.code == "low_price")
    won = {p.id for p in whole.purchases if p.selected and p.winner_id == firm}
    for flt in [
        {},
        {"kind": "firm"},
        {"code": "split_purchase"},
        {"severity": "high"},
        {"code": "linked_firms"},
        {"firm_id": str(firm)},
    ]:
        kept = _kept(expected, flt)
        if "firm_id" in flt:
            kept = [f for f in expected if services.FlagFilter(firm_id=firm).keep(f, won)]
        for offset in range(0, len(kept), LIMIT):
            r = await client.get(
                "/api/v1/finance/flags", headers=finance, params={**flt, "limit": LIMIT, "offset": offset}
            )
            assert r.status_code == 200, r.text
            got = r.json()
            assert got["items"] == _json([api.flag_out(report, f) for f in kept[offset : offset + LIMIT]]), flt
            assert got["total"] == len(kept)
            assert got["counts"] == rules.count_by(expected, lambda f: f.code)
        assert kept, flt


async def test_the_daily_digest_reports_exactly_the_new_high_flags_of_the_whole_list(factory, settings):
    """The digest reads the high flags' subjects from the counts and builds only the few it names:
    it marks exactly the (code, subject) of every high flag of the whole list, in its order, and
    names the first five as the whole list does; the next day, with more data, only the new ones."""
    import json

    from sqlalchemy import select
    from sqlmodel import col

    from market.notify.models import Notification, NotificationMark
    from oversight.notifications import SHOWN, digest

    async def expected() -> list[tuple[str, str, str]]:
        async with factory() as session:
            report = await services.red_flags(
                session, settings, Period(), services.FlagFilter(severity=rules.HIGH), whole_period=True
            )
            seen: list[tuple[str, str, str]] = []
            for f in report.chosen:
                name, ref = report.subject(f)
                if (f.code, str(f.subject_id)) not in {(c, s) for c, s, _ in seen}:
                    seen.append((f.code, str(f.subject_id), f"{ref} {name}" if ref else name))
            return seen

    async def marks() -> set[str]:
        async with factory() as session:
            query = select(col(NotificationMark.key)).where(col(NotificationMark.key).like("oversight.flag:%"))
            return set(await session.scalars(query))

    def key(w: tuple[str, str, str]) -> str:
        return f"oversight.flag:{w[0]}:{w[1]}"

    await bulk.generate(factory, 160, seed=21)
    before = await marks()  # (the demo's flags were reported already)
    want = await expected()
    new = [w for w in want if key(w) not in before]
    assert len(new) > SHOWN
    async with factory() as session:
        assert await digest(session, settings, "2026-03-02") == len(new)
        await session.commit()
    assert await marks() == before | {key(w) for w in want}
    async with factory() as session:
        query = select(col(Notification.params)).where(col(Notification.kind) == "oversight.high_flags")
        bodies = [json.loads(b) for b in await session.scalars(query)]
    assert {
        "n": str(len(new)),
        "subjects": "; ".join(n for _, _, n in new[:SHOWN]) + f" (+{len(new) - SHOWN})",
    } in bodies
    async with factory() as session:  # the next day: nothing new
        assert await digest(session, settings, "2026-03-03") == 0
        await session.commit()
    assert await marks() == before | {key(w) for w in want}
