"""Pages of the finance bureau's oversight (finance and the operator): the overview with spending,
competition, savings and timeliness; the red flags per purchase and per firm, each explained;
the exports and the open-data feed."""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import date
from typing import Annotated, Any
from urllib.parse import urlencode

from litestar import Request, get
from litestar.params import FromPath, FromQuery, QueryParameter
from litestar.response import Template

from market.errors import InvalidInput, NotFound
from market.i18n import get_locale
from market.i18n import gettext as _
from market.identity.guards import oversight
from market.settings import Settings
from market.terms import N_, choices
from market.web.deps import AppSettings, DbSession
from oversight import explain, rules
from oversight.facts import Period
from oversight.services import (
    FLAG_KINDS,
    FlagFilter,
    check_group_by,
    check_period,
    involving,
    parse_day,
    red_flags,
    summary,
)

DateFrom = Annotated[str | None, QueryParameter(name="from")]
DateTo = Annotated[str | None, QueryParameter(name="to")]

WORKSPACE_TILES: list[tuple[str, str, str]] = [
    ("finance", "/finance/overview", N_("Spending, competition and savings")),
    ("finance", "/finance/flags", N_("Red flags")),
    ("finance", "/finance/exports", N_("Exports and open data")),
    ("admin", "/finance/overview", N_("Spending, competition and savings")),
    ("admin", "/finance/flags", N_("Red flags")),
    ("admin", "/finance/exports", N_("Exports and open data")),
]


def _period(start: str | None, end: str | None) -> tuple[Period, str | None, dict[str, str]]:
    """The period of a filter form (empty fields are open ends) and what was wrong with it: a page
    shows its form again with the problem instead of failing."""
    values = {"from": (start or "").strip(), "to": (end or "").strip()}
    parsed: dict[str, date | None] = {}
    problem = None
    for key, text in values.items():
        try:
            parsed[key] = parse_day(key, text)
        except InvalidInput as exc:
            parsed[key], values[key], problem = None, "", exc.detail
    try:
        return check_period(parsed["from"], parsed["to"]), problem, values
    except InvalidInput as exc:  # the end before the start: the whole time instead
        return Period(), exc.detail, {"from": "", "to": ""}


@get("/finance/overview", include_in_schema=False, guards=[oversight])
async def overview(
    request: Request,
    db: DbSession,
    settings: AppSettings,
    group_by: FromQuery[str | None] = None,
    date_from: DateFrom = None,
    date_to: DateTo = None,
) -> Template:
    chosen = group_by if group_by in rules.GROUPINGS else "owner"
    period, problem, values = _period(date_from, date_to)
    s = await summary(db, settings, check_group_by(chosen), period)
    return Template(
        "oversight/overview.html",
        context={
            "s": s,
            "rows": [(s.label(r), r) for r in s.rows],
            "groupings": choices("group_by"),
            "group_by": chosen,
            "period": values,
            "problem": problem,
            "flag_total": sum(s.flag_counts.values()),
        },
    )


@get("/finance/flags", include_in_schema=False, guards=[oversight])
async def flags_page(
    request: Request,
    db: DbSession,
    settings: AppSettings,
    kind: FromQuery[str | None] = None,
    code: FromQuery[str | None] = None,
    severity: FromQuery[str | None] = None,
    date_from: DateFrom = None,
    date_to: DateTo = None,
) -> Template:
    chosen_kind = kind if kind in FLAG_KINDS else "purchase"
    chosen_code = code if code in rules.FLAG_CODES else None
    if chosen_code and chosen_code in rules.FIRM_FLAGS:
        chosen_kind = "firm"
    elif chosen_code:
        chosen_kind = "purchase"
    chosen_severity = severity if severity in rules.SEVERITIES else None
    period, problem, values = _period(date_from, date_to)
    report = await red_flags(
        db, settings, period, FlagFilter(kind=chosen_kind, code=chosen_code, severity=chosen_severity)
    )
    # one panel per purchase or firm, most serious first
    grouped: dict[uuid.UUID, list[rules.Flag]] = defaultdict(list)
    for f in report.chosen:
        grouped[f.subject_id].append(f)
    purchases = report.snapshot.purchases_by_id
    firms = report.snapshot.firms_by_id
    subjects = []
    for subject_id, found in grouped.items():
        entry: dict[str, Any] = {
            "id": subject_id,
            "url": explain.subject_url(found[0]),
            "severity": found[0].severity,
            "flags": [
                {
                    "code": f.code,
                    "severity": f.severity,
                    "explanation": explain.explain(f),
                    "links": explain.links(f),
                }
                for f in found
            ],
        }
        if chosen_kind == "purchase":
            p = purchases[subject_id]
            entry.update(
                name=p.title,
                ref=p.ref,
                owner=p.owner_name,
                status=p.status,
                cap=p.cap,
                price=p.price if p.selected else None,
                winner=p.winner_name if p.selected else None,
                method=p.method,
                contract=p.contract,
            )
        else:
            firm = firms.get(subject_id)
            won = [p for p in report.snapshot.purchases if p.awarded and p.winner_id == subject_id]
            entry.update(
                name=firm.name if firm else str(subject_id),
                uscc=firm.uscc if firm else "",
                wins=len(won),
                won_amount=sum((p.price or rules.ZERO for p in won), rules.ZERO),
            )
        subjects.append(entry)
    order = {s: i for i, s in enumerate(rules.SEVERITIES)}
    subjects.sort(key=lambda e: (order[e["severity"]], -len(e["flags"]), e.get("ref") or e["name"]))
    codes = rules.PURCHASE_FLAGS if chosen_kind == "purchase" else rules.FIRM_FLAGS
    counts = rules.count_by(report.flags, lambda f: f.code)
    kind_counts = rules.count_by(report.flags, lambda f: f.subject)
    thresholds = rules.Thresholds.of(settings)
    return Template(
        "oversight/flags.html",
        context={
            "kind": chosen_kind,
            "code": chosen_code,
            "severity": chosen_severity,
            "subjects": subjects,
            "codes": [(c, counts.get(c, 0)) for c in codes],
            "kind_counts": kind_counts,
            "total": len(report.chosen),
            "period": values,
            "problem": problem,
            "t": thresholds,
            "rates": {
                "concentration": explain.pct(rules.percent(thresholds.concentration_share, 1)),
                "low_price": explain.pct(rules.percent(thresholds.low_price_ratio, 1)),
                "abnormal_low": explain.pct(rules.percent(thresholds.abnormal_low_ratio, 1)),
            },
            "severities": rules.SEVERITIES,
        },
    )


@get("/finance/firms/{firm_id:uuid}", include_in_schema=False, guards=[oversight])
async def firm_page(
    request: Request,
    db: DbSession,
    settings: AppSettings,
    firm_id: FromPath[uuid.UUID],
    date_from: DateFrom = None,
    date_to: DateTo = None,
) -> Template:
    """One firm as the finance bureau sees it: its record, its own red flags, those of the purchases
    it won and those that name it, its opened bids and its awards."""
    period, problem, values = _period(date_from, date_to)
    report = await red_flags(db, settings, period, FlagFilter(firm_id=firm_id))
    org = report.snapshot.orgs.get(firm_id)
    if org is None or org.kind != "provider":
        raise NotFound(_("No such firm."))
    firm = report.snapshot.firms_by_id[firm_id]
    rows = []
    for p in involving(report.snapshot.purchases, firm_id):
        bid = next((b for b in p.bids or () if b.provider_id == firm_id), None)
        rows.append({"p": p, "bid": bid, "won": p.selected and p.winner_id == firm_id})
    won = [r["p"] for r in rows if r["won"] and r["p"].awarded]
    return Template(
        "oversight/firm.html",
        context={
            "org": org,
            "firm": firm,
            "rows": rows,
            "wins": len(won),
            "won_amount": sum((p.price or rules.ZERO for p in won), rules.ZERO),
            "flags": [
                {
                    "code": f.code,
                    "severity": f.severity,
                    "subject": f.subject,
                    "name": report.subject(f),
                    "url": explain.subject_url(f),
                    "explanation": explain.explain(f),
                    "links": explain.links(f),
                }
                for f in report.chosen
            ],
            "period": values,
            "problem": problem,
        },
    )


@get("/finance/exports", include_in_schema=False, guards=[oversight])
async def exports_page(
    request: Request,
    settings: AppSettings,
    date_from: DateFrom = None,
    date_to: DateTo = None,
) -> Template:
    _chosen, problem, values = _period(date_from, date_to)
    # the files speak the page's language (headers, labels, explanations)
    suffix = "?" + urlencode({**{k: v for k, v in values.items() if v}, "lang": get_locale()})
    return Template(
        "oversight/exports.html",
        context={
            "period": values,
            "problem": problem,
            "csv_url": f"/api/v1/finance/export.csv{suffix}",
            "xlsx_url": f"/api/v1/finance/export.xlsx{suffix}",
            "ocds_url": "/api/v1/ocds/releases",
            "ocds_prefix": settings.ocds_prefix,
            "publisher": settings.ocds_publisher,
        },
    )


def routes(settings: Settings) -> list[Any]:
    """The package's pages (the composition root mounts them)."""
    return [overview, flags_page, firm_page, exports_page]
