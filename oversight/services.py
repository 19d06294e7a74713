"""The finance bureau's reports: a summary (spending grouped one way, competition, savings,
timeliness, flag counts) and the red flags, filtered. Read-only; services take a session and the
settings and never commit."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col

from bidding.models import Bid, Purchase, Selection
from market import clock
from market.clock import LOCAL_TZ
from market.db import concurrently
from market.errors import FieldError, InvalidInput
from market.i18n import gettext as _
from market.schemas import check_date
from market.settings import Settings
from oversight import candidates, counts, explain, flagpages, ocds, rules, sums
from oversight.facts import Period, Snapshot, load, load_firms, scoped

FLAG_KINDS = ("purchase", "firm")
WHOLE_PERIOD_SHARE = 0.5  # more candidates than this share of the period's purchases: load the period
_D = TypeVar("_D", date, datetime)


def check_group_by(group_by: str | None) -> str:
    value = (group_by or "owner").strip().lower()
    if value not in rules.GROUPINGS:
        raise InvalidInput.field(
            "group_by",
            _("Group by one of: %(choices)s.", choices=", ".join(rules.GROUPINGS)),
        )
    return value


def parse_day(field: str, text: str | None) -> date | None:
    """A China date from a query parameter (``2026-12-31``); empty means none."""
    text = (text or "").strip()
    if not text:
        return None
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise InvalidInput.field(field, _("Enter a date such as 2026-12-31.")) from None
    return _within_calendar(field, day)


def _within_calendar(field: str, moment: _D) -> _D:
    """``moment`` if its year lies where every date may (``0001-01-01`` has no UTC instant)."""
    try:
        check_date(moment)
    except ValueError as exc:
        raise InvalidInput.field(field, str(exc)) from None
    return moment


def parse_moment(field: str, text: str | None) -> datetime | None:
    """A moment from a query parameter, ISO 8601; without an offset it is China time, a date alone
    is its midnight."""
    text = (text or "").strip()
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidInput.field(field, _("Enter a moment such as 2026-03-01T09:00:00+08:00.")) from None
    return _within_calendar(field, moment if moment.tzinfo is not None else moment.replace(tzinfo=LOCAL_TZ))


def parse_cursor(field: str, text: str | None) -> tuple[int, uuid.UUID] | None:
    """A position in the open data feed from its opaque cursor (``links.next``)."""
    if text is None:
        return None
    position = ocds.decode_cursor(text)
    if position is None:
        raise InvalidInput.field(field, _("Not a position in this feed: follow links.next."))
    return position


def check_period(start: date | None, end: date | None) -> Period:
    if start and end and end < start:
        raise InvalidInput(
            _("The input is not valid."),
            _("The end of the period comes before its start."),
            errors=[FieldError("to", _("The end of the period comes before its start."))],
        )
    return Period(start, end)


@dataclass
class Summary:
    group_by: str
    totals: rules.Spending
    rows: list[rules.Spending]
    labels: dict[str, str]
    competition: rules.Competition
    timeliness: rules.Timeliness
    flag_counts: dict[str, int] = field(default_factory=dict)
    severity_counts: dict[str, int] = field(default_factory=dict)

    def label(self, row: rules.Spending) -> str:
        return explain.group_label(row.key, self.group_by, self.labels)


def names_for(snapshot: Snapshot, group_by: str) -> dict[str, str]:
    if group_by == "owner":
        return {str(p.owner_id): p.owner_name for p in snapshot.purchases}
    if group_by == "catalog":
        return {p.catalog_code: f"{p.catalog_code} {p.catalog_name}".strip() for p in snapshot.purchases}
    return {}


def summarize(snapshot: Snapshot, settings: Settings, group_by: str) -> Summary:
    flags = rules.all_flags(snapshot.purchases, snapshot.firms, rules.Thresholds.of(settings))
    return Summary(
        group_by=group_by,
        totals=rules.total(snapshot.purchases),
        rows=rules.spending(snapshot.purchases, group_by),
        labels=names_for(snapshot, group_by),
        competition=rules.competition(snapshot.purchases),
        timeliness=rules.timeliness(snapshot.purchases),
        flag_counts=rules.count_by(flags, lambda f: f.code),
        severity_counts=rules.count_by(flags, lambda f: f.severity),
    )


async def summary(
    session: AsyncSession,
    settings: Settings,
    group_by: str | None,
    period: Period,
    readers: async_sessionmaker[AsyncSession] | None = None,
) -> Summary:
    """The summary: spending per group, totals, competition and timeliness aggregated by the
    database (:mod:`oversight.sums`); the red flags counted without building them
    (:mod:`oversight.counts`). With ``readers`` its four independent parts run at once, each on
    a read session of its own (the database works on them in parallel: at province size the
    request takes the longest part's time, not their sum)."""
    grouping = check_group_by(group_by)
    t = rules.Thresholds.of(settings)
    now = clock.now()

    async def money(s: AsyncSession) -> tuple[sums.Figures, dict[str, int], dict[str, str]]:
        figures = await sums.figures(s, period, grouping, t)
        return figures, await counts.bid_flags(s, period, t, figures), await sums.labels(s, figures.rows, grouping)

    async def contracts(s: AsyncSession) -> tuple[dict[str, int], rules.Timeliness]:
        return await contract_counts(s), await sums.timeliness(s, period, {})

    purchase_counts, firm_counts, contract_counts = counts.jobs(settings, period, now)
    (figures, bid_counts, labels), by_purchase, by_firm, (by_contract, timeliness) = await concurrently(
        session, readers, money, purchase_counts, firm_counts, contracts
    )
    by_code = counts.combined(bid_counts, by_purchase, by_firm, by_contract)
    return Summary(
        group_by=grouping,
        totals=figures.total,
        rows=figures.rows,
        labels=labels,
        competition=figures.competition,
        timeliness=sums.with_late(timeliness, by_code),
        flag_counts=by_code,
        severity_counts=counts.severity_counts(by_code),
    )


@dataclass(frozen=True)
class FlagFilter:
    kind: str | None = None  # purchase | firm
    code: str | None = None
    severity: str | None = None
    firm_id: uuid.UUID | None = None  # a firm's own flags, those of the purchases it won, those naming it

    def check(self) -> FlagFilter:
        errors = []
        if self.kind and self.kind not in FLAG_KINDS:
            errors.append(FieldError("kind", _("Choose purchase or firm.")))
        if self.code and self.code not in rules.FLAG_CODES:
            errors.append(FieldError("code", _("Unknown flag: %(code)s.", code=self.code)))
        if self.severity and self.severity not in rules.SEVERITIES:
            errors.append(FieldError("severity", _("Choose high, medium or low.")))
        if errors:
            raise InvalidInput(_("The input is not valid."), _("Correct the fields named below."), errors=errors)
        return self

    def keep(self, flag: rules.Flag, won: set[uuid.UUID] | None = None) -> bool:
        if self.firm_id is not None and not concerns(flag, self.firm_id, won or set()):
            return False
        return (
            (not self.kind or flag.subject == self.kind)
            and (not self.code or flag.code == self.code)
            and (not self.severity or flag.severity == self.severity)
        )


def concerns(flag: rules.Flag, firm_id: uuid.UUID, won: set[uuid.UUID]) -> bool:
    """A firm's own flags, every flag of a purchase it won, and the flags that name it."""
    if flag.subject == "firm":
        return flag.subject_id == firm_id
    return flag.subject_id in won or rules.mentions(flag, firm_id)


def involving_query(period: Period, firm_id: uuid.UUID) -> Select[uuid.UUID]:
    """The purchases of the period a firm bid on (opened bids) or won, as SQL (a superset of
    :func:`involving`)."""
    bid_on = scoped(
        select(col(Bid.purchase_id))
        .join(Purchase, col(Purchase.id) == col(Bid.purchase_id))
        .where(col(Bid.provider_id) == firm_id, col(Purchase.opened_at).is_not(None)),
        period,
    )
    won = scoped(
        select(col(Selection.purchase_id))
        .join(Purchase, col(Purchase.id) == col(Selection.purchase_id))
        .join(Bid, col(Bid.id) == col(Selection.winner_bid_id))
        .where(col(Bid.provider_id) == firm_id),
        period,
    )
    return select(col(Purchase.id)).where(col(Purchase.id).in_(bid_on.union(won)))


def involving(purchases: list[rules.PurchaseFact], firm_id: uuid.UUID) -> list[rules.PurchaseFact]:
    """The purchases a firm won or bid on (bids count only once they are opened)."""
    return [p for p in purchases if p.winner_id == firm_id or any(b.provider_id == firm_id for b in p.bids or ())]


@dataclass
class FlagReport:
    snapshot: Snapshot
    flags: list[rules.Flag]  # every flag of the period
    chosen: list[rules.Flag]  # those the filter keeps

    def __post_init__(self) -> None:
        self._firms = self.snapshot.firms_by_id
        self._purchases = self.snapshot.purchases_by_id

    def subject(self, flag: rules.Flag) -> tuple[str, str | None]:
        """(name, purchase reference) of the flag's subject."""
        if flag.subject == "firm":
            firm = self._firms.get(flag.subject_id)
            return (firm.name if firm else str(flag.subject_id)), None
        p = self._purchases.get(flag.subject_id)
        return (p.title, p.ref) if p else (str(flag.subject_id), None)


async def flagged(
    session: AsyncSession, settings: Settings, period: Period, *, also: set[uuid.UUID] | None = None
) -> tuple[Snapshot, list[rules.Flag]]:
    """Every red flag of the period, computed by the rules over the facts of the candidates the
    database picks (:mod:`oversight.candidates`) — the same flags as over the whole period — and
    the snapshot of those candidates (and of ``also``) with every firm."""
    t = rules.Thresholds.of(settings)
    firms = await load_firms(session)
    links = rules.firm_links(firms)
    # a minute ahead: a deadline passing while the facts load is among the candidates too
    ids = await candidates.purchases(session, period, t, links, clock.now() + timedelta(minutes=1))
    ids |= also or set()
    published = await session.scalar(scoped(select(func.count()).select_from(Purchase), period)) or 0
    # most of the period flagged (data where nearly every purchase has linked bidders, say): one
    # read of the period costs less than the candidates' ids in chunks, and the flags are the same
    whole = len(ids) > published * WHOLE_PERIOD_SHARE
    snapshot = await load(session, settings, period, only=None if whole else ids, firms=firms)
    by_id = {f.id: f for f in firms}
    flags = sorted(
        [
            *rules.purchase_flags(snapshot.purchases, by_id, t, links),
            *rules.firm_flags(snapshot.purchases, by_id, t, links),
        ],
        key=rules.Flag.sort_key,
    )
    return snapshot, flags


async def red_flags(
    session: AsyncSession, settings: Settings, period: Period, flt: FlagFilter, *, whole_period: bool = False
) -> FlagReport:
    """The red flags of the period and those the filter keeps. The snapshot holds the flags'
    candidates (and, with a firm in the filter, every purchase it bid on or won); with
    ``whole_period`` (the exports) every published purchase of the period."""
    flt.check()
    if whole_period:
        snapshot = await load(session, settings, period)
        flags = rules.all_flags(snapshot.purchases, snapshot.firms, rules.Thresholds.of(settings))
    else:
        also = set(await session.scalars(involving_query(period, flt.firm_id))) if flt.firm_id else None
        snapshot, flags = await flagged(session, settings, period, also=also)
    won = {p.id for p in snapshot.purchases if p.selected and p.winner_id == flt.firm_id} if flt.firm_id else None
    return FlagReport(snapshot, flags, [f for f in flags if flt.keep(f, won)])


async def firm_report(
    session: AsyncSession, settings: Settings, period: Period, flt: FlagFilter
) -> tuple[FlagReport, dict[str, int]]:
    """A firm's red flags (``flt.firm_id``: its own, every flag of a purchase it won, those naming
    it), as the filter keeps them from the whole list, and every flag of the period per code. Only
    the purchases it bid on (opened bids) or won can carry such a flag: the subjects of every flag
    (:func:`oversight.counts.flagged_subjects`) among them and the firm itself are built
    (:func:`oversight.flagpages.build`); the snapshot holds every purchase it bid on or won."""
    flt.check()
    assert flt.firm_id is not None
    flagged = await counts.flagged_subjects(session, settings, period)
    involved = set(await session.scalars(involving_query(period, flt.firm_id)))
    wanted: dict[str, set[uuid.UUID]] = {}
    for code in flagpages.codes_of(flt.kind, flt.code, flt.severity):
        mine = {flt.firm_id} if flagpages.kind_of(code) == "firm" else involved
        wanted[code] = mine & set(flagged.subjects[code])
    flags, snapshot = await flagpages.build(session, settings, period, flagged, wanted, flagged.now, also=involved)
    won = {p.id for p in snapshot.purchases if p.selected and p.winner_id == flt.firm_id}
    chosen = [f for f in flags if flt.keep(f, won)]
    return FlagReport(snapshot, chosen, chosen), flagged.counts
