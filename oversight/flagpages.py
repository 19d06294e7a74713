"""A page of the red flags, built for that page only (issue 12: the flag list at province size).

The whole list is ``rules.all_flags`` over the period's facts, sorted by
:meth:`oversight.rules.Flag.sort_key` — severity, code, subject id as text — and, within one
subject's flags of one code, in the rules' order. Rather than building it and slicing a page,
:func:`oversight.counts.flagged_subjects` finds per code the subjects of its flags (a subject once
per flag) without building a flag, which gives the counts and where each flag stands in the list.
A page then names a few subjects per code; their facts alone are loaded
(:func:`oversight.facts.load` with ``only``) and the unchanged rules build their flags, with what
a rule reads beyond its subject:

* ``split_purchase``: every purchase a split group may hold (light facts of the period's live
  purchases under the threshold with such a neighbour: :func:`oversight.counts.split_run`), so
  the groups and the references listed are those of the whole period;
* ``concentration``: every award of the flagged firm's owner in the period (the owner's total);
* ``linked_firms``: the opened bids of the linked firms (the purchases bid on together).

The tests hold every page equal to the corresponding slice of the whole list.
"""

from __future__ import annotations

import logging
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from bidding.models import Bid, BidStatus, Purchase
from market.identity.models import Organization
from market.settings import Settings
from oversight import counts, rules, sums
from oversight.counts import Flagged, _light
from oversight.facts import CHUNK, Period, Snapshot, load, scoped

log = logging.getLogger("market.oversight")

# the codes in the list's order (severity first, then the rules' order of codes)
ORDER = tuple(
    sorted(rules.FLAG_CODES, key=lambda c: (rules.SEVERITIES.index(rules.SEVERITY[c]), rules.FLAG_CODES.index(c)))
)


def kind_of(code: str) -> str:
    return "firm" if code in rules.FIRM_FLAGS else "purchase"


def codes_of(kind: str | None, code: str | None, severity: str | None) -> list[str]:
    """The codes a filter keeps, in the list's order."""
    return [
        c
        for c in ORDER
        if (not kind or kind_of(c) == kind)
        and (not code or c == code)
        and (not severity or rules.SEVERITY[c] == severity)
    ]


@dataclass
class Page:
    flags: list[rules.Flag]  # the page's flags, in the list's order
    snapshot: Snapshot  # the facts of their subjects (purchases) and every firm
    total: int  # flags the filter keeps
    counts: dict[str, int]  # every flag of the period per code
    flagged: Flagged


async def build(
    session: AsyncSession,
    settings: Settings,
    period: Period,
    flagged: Flagged,
    wanted: dict[str, set[uuid.UUID]],
    now: datetime,
    also: Iterable[uuid.UUID] = (),
) -> tuple[list[rules.Flag], Snapshot]:
    """Every flag of the codes in ``wanted`` whose subject is among that code's subjects there,
    built by the rules from the facts of those subjects (and what the rule reads beyond them),
    in the list's order; the snapshot holds those subjects' facts (and those of ``also``)."""
    t = rules.Thresholds.of(settings)
    by_id = {f.id: f for f in flagged.firms}
    wanted = {code: ids for code, ids in wanted.items() if ids}
    purchase_codes = [c for c in wanted if kind_of(c) == "purchase"]
    subjects = sorted({i for c in purchase_codes for i in wanted[c]} | set(also), key=str)
    snapshot = await load(session, settings, period, only=subjects, firms=flagged.firms, now=now)
    built: list[rules.Flag] = []
    if purchase_codes:
        facts = list(snapshot.purchases)
        if rules.SPLIT_PURCHASE in wanted:
            known = {p.id for p in facts}
            facts += [p for p in flagged.split_run if p.id not in known]
        links = flagged.links if rules.LINKED_BIDDERS in wanted else []
        built += _keep(rules.purchase_flags(facts, by_id, t, links), wanted)
    # both asked even for no firm: the statements a page makes do not depend on its flags
    mine = wanted.get(rules.CONCENTRATION, set())
    owners = sorted({c.owner_id for c in flagged.concentrations if c.provider_id in mine}, key=str)
    awards = await _awards_of(session, period, owners)
    built += _keep(rules.firm_flags(awards, by_id, t, []), wanted)
    mine = wanted.get(rules.LINKED_FIRMS, set())
    links = [link for link in flagged.links if link.a in mine or link.b in mine]
    firms = {i for link in links for i in (link.a, link.b)}
    bids = await _bids_of(session, period, sorted(firms, key=str))
    built += _keep(rules.firm_flags(bids, by_id, t, links), wanted)
    return sorted(built, key=rules.Flag.sort_key), snapshot


def _keep(flags: Iterable[rules.Flag], wanted: dict[str, set[uuid.UUID]]) -> list[rules.Flag]:
    return [f for f in flags if f.subject_id in wanted.get(f.code, ())]


def _order(rows: Iterable[tuple[rules.PurchaseFact, datetime]]) -> list[rules.PurchaseFact]:
    """Light facts in the facts' order (publication, then reference)."""
    return [p for p, _ in sorted(rows, key=lambda r: (r[1], r[0].ref))]


async def _awards_of(session: AsyncSession, period: Period, owners: list[uuid.UUID]) -> list[rules.PurchaseFact]:
    """Every purchase of the period of these owners with a current selection, as light facts (owner
    and its name, reference, status, price, winner), in the facts' order: what
    :func:`oversight.rules.firm_flags` reads for a concentration."""
    cur = sums.current_selections()
    rows = await session.execute(
        scoped(
            select(
                col(Purchase.id),
                col(Purchase.ref),
                col(Purchase.owner_id),
                col(Organization.name),
                col(Purchase.status),
                col(Purchase.published_at),
                cur.c.price,
                cur.c.winner_id,
            )
            .join(cur, cur.c.purchase_id == col(Purchase.id))
            .join(Organization, col(Organization.id) == col(Purchase.owner_id))
            .where(col(Purchase.owner_id).in_(owners), col(Purchase.status).in_(rules.AWARDED)),
            period,
        )
    )
    return _order(
        (
            _light(
                id=pid,
                ref=ref or "",
                owner_id=owner,
                owner_name=name,
                status=status,
                cap=rules.ZERO,
                published_at=published,
                price=price,
                winner_id=winner,
            ),
            published,
        )
        for pid, ref, owner, name, status, published, price, winner in rows.all()
    )


async def _bids_of(session: AsyncSession, period: Period, firms: list[uuid.UUID]) -> list[rules.PurchaseFact]:
    """The opened purchases of the period where two of these firms bid (active bids), as light facts
    with only those firms' bids: what :func:`oversight.rules.firm_flags` reads for their links
    (the purchases two linked firms bid on together, by reference)."""
    bids: dict[uuid.UUID, list[rules.BidFact]] = defaultdict(list)
    refs: dict[uuid.UUID, str] = {}
    for start in range(0, max(len(firms), 1), CHUNK):
        rows = await session.execute(
            scoped(
                select(col(Bid.purchase_id), col(Bid.provider_id), col(Purchase.ref))
                .join(Purchase, col(Purchase.id) == col(Bid.purchase_id))
                .where(
                    col(Bid.provider_id).in_(firms[start : start + CHUNK]),
                    col(Bid.status) == BidStatus.active,
                    col(Purchase.opened_at).is_not(None),
                ),
                period,
            )
        )
        for pid, provider, ref in rows.all():
            bids[pid].append(rules.BidFact(provider_id=provider, price=rules.ZERO, valid=True))
            refs[pid] = ref or ""
    return [
        _light(id=pid, ref=refs[pid], status="", cap=rules.ZERO, bids=tuple(found))
        for pid, found in bids.items()
        if len(found) > 1  # bid on together with another of them
    ]


def _span(ids: Sequence[uuid.UUID], start: int, end: int) -> tuple[int, int]:
    """The positions of every flag of the subjects of ``ids[start:end]`` (a subject's flags of one
    code lie together)."""
    first, last = start, end
    while first > 0 and ids[first - 1] == ids[start]:
        first -= 1
    while last < len(ids) and ids[last] == ids[end - 1]:
        last += 1
    return first, last


async def flag_page(
    session: AsyncSession,
    settings: Settings,
    period: Period,
    *,
    kind: str | None = None,
    code: str | None = None,
    severity: str | None = None,
    offset: int = 0,
    limit: int = 50,
    now: datetime | None = None,
) -> Page:
    """The flags ``[offset, offset + limit)`` of the list the filter keeps, exactly as sliced from
    the whole list, built from their subjects' facts only."""
    flagged = await counts.flagged_subjects(session, settings, period, now)
    codes = codes_of(kind, code, severity)
    total = sum(len(flagged.subjects[c]) for c in codes)
    spans: dict[str, tuple[int, int, int, int]] = {}  # code -> page start, page end, span start, span end
    position = 0
    for c in codes:
        ids = flagged.subjects[c]
        start, end = max(offset - position, 0), min(offset + limit - position, len(ids))
        if start < end:
            spans[c] = (start, end, *_span(ids, start, end))
        position += len(ids)
    wanted = {c: set(flagged.subjects[c][first:last]) for c, (_, _, first, last) in spans.items()}
    built, snapshot = await build(session, settings, period, flagged, wanted, flagged.now)
    by_code: dict[str, list[rules.Flag]] = defaultdict(list)
    for f in built:
        by_code[f.code].append(f)
    page: list[rules.Flag] = []
    for c, (start, end, first, last) in spans.items():
        found = by_code[c]
        if len(found) != last - first:
            # the data changed between the counts and the facts (a commit in between): the page
            # shows the flags as built now; the next request counts again
            log.warning("red flags %s: %d built for %d counted", c, len(found), last - first)
        page += found[start - first : end - first]
    return Page(flags=page, snapshot=snapshot, total=total, counts=flagged.counts, flagged=flagged)


@dataclass
class SubjectPage:
    """A page of flagged subjects (the ``/finance/flags`` page): each with the flags the filter
    keeps, the most serious subject first, then the most flags, then by reference or name."""

    subjects: list[tuple[uuid.UUID, list[rules.Flag]]]
    snapshot: Snapshot
    subject_count: int  # subjects the filter keeps
    total: int  # their flags
    counts: dict[str, int]  # every flag of the period per code
    kind_counts: dict[str, int]


async def subject_page(
    session: AsyncSession,
    settings: Settings,
    period: Period,
    *,
    kind: str,
    code: str | None,
    severity: str | None,
    page: int,
    size: int,
    now: datetime | None = None,
) -> SubjectPage:
    """The flagged subjects of one page (``page`` from 1; past the end: the last page), ordered as
    the page orders them: the severity of their most serious flag, more flags first, then the
    purchase's reference (its title without one) or the firm's name, then the list's order."""
    flagged = await counts.flagged_subjects(session, settings, period, now)
    codes = codes_of(kind, code, severity)
    tally: dict[uuid.UUID, Counter[str]] = defaultdict(Counter)
    for c in codes:
        for i in flagged.subjects[c]:
            tally[i][c] += 1
    # (severity, -flags) first; the name only where a page cuts through equal ones
    rank = {c: n for n, c in enumerate(ORDER)}
    head: dict[uuid.UUID, tuple[int, int, int]] = {}
    for i, found in tally.items():
        first = min(found, key=rank.__getitem__)
        head[i] = (rules.SEVERITIES.index(rules.SEVERITY[first]), -sum(found.values()), rank[first])
    buckets: dict[tuple[int, int], list[uuid.UUID]] = defaultdict(list)
    for i, (sev, n, _) in head.items():
        buckets[(sev, n)].append(i)
    pages = max(1, -(-len(tally) // size))
    page = min(max(page, 1), pages)
    offset, end = (page - 1) * size, page * size
    spanned: list[tuple[int, list[uuid.UUID]]] = []  # the buckets the page cuts through, where they start
    position = 0
    for key in sorted(buckets):
        if position < end and position + len(buckets[key]) > offset:
            spanned.append((position, buckets[key]))
        position += len(buckets[key])
    names = await _names(session, flagged, [i for _, members in spanned for i in members], kind)
    chosen: list[uuid.UUID] = []
    for position, members in spanned:
        members = sorted(members, key=lambda i: (names[i], head[i][2], str(i)))
        chosen += members[max(offset - position, 0) : end - position]
    wanted = {c: {i for i in chosen if tally[i][c]} for c in codes}
    built, snapshot = await build(session, settings, period, flagged, wanted, flagged.now)
    grouped: dict[uuid.UUID, list[rules.Flag]] = defaultdict(list)
    for f in built:
        grouped[f.subject_id].append(f)
    every = flagged.counts
    kinds: dict[str, int] = defaultdict(int)
    for c, n in every.items():
        kinds[kind_of(c)] += n
    return SubjectPage(
        subjects=[(i, grouped[i]) for i in chosen],
        snapshot=snapshot,
        subject_count=len(tally),
        total=sum(len(flagged.subjects[c]) for c in codes),
        counts=every,
        kind_counts=dict(kinds),
    )


async def _names(session: AsyncSession, flagged: Flagged, ids: list[uuid.UUID], kind: str) -> dict[uuid.UUID, str]:
    """What the page sorts subjects by after severity and count: a purchase's reference (its
    title without one), a firm's name."""
    if kind == "firm":
        firms = {f.id: f.name for f in flagged.firms}
        return {i: firms.get(i, str(i)) for i in ids}
    found: dict[uuid.UUID, str] = {}
    ordered = sorted(ids, key=str)
    for start in range(0, max(len(ordered), 1), CHUNK):
        for pid, ref, title in await session.execute(
            select(col(Purchase.id), col(Purchase.ref), col(Purchase.title)).where(
                col(Purchase.id).in_(ordered[start : start + CHUNK])
            )
        ):
            found[pid] = ref or title
    return found
