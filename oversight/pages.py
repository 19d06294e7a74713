"""Pages of the finance bureau's oversight (finance and the operator): the overview with spending,
competition, savings and timeliness; the red flags per purchase and per firm, each explained;
the exports and the open-data feed."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Annotated, Any
from urllib.parse import urlencode

from litestar import Response, get
from litestar.params import FromPath, FromQuery, QueryParameter
from litestar.response import Template

from market import audit, clock, csvout, offload
from market.audit.service import verify_database
from market.errors import FieldError, InvalidInput, NotFound
from market.i18n import get_locale
from market.i18n import gettext as _
from market.identity.guards import oversight
from market.settings import Settings
from market.terms import N_, choices
from market.web.deps import AppSettings, CurrentActor, DbSession, Readers
from market.web.pages import Notices, Pager, Tile
from oversight import audit as trail
from oversight import credit as credit_view
from oversight import explain, flagpages, rules, sums
from oversight.facts import Period, Snapshot
from oversight.services import (
    FLAG_KINDS,
    FlagFilter,
    check_period,
    firm_report,
    involving,
    parse_day,
    summary,
)

DateFrom = Annotated[str | None, QueryParameter(name="from")]
DateTo = Annotated[str | None, QueryParameter(name="to")]
PageNumber = Annotated[str | None, QueryParameter(name="page")]

FLAGGED_PER_PAGE = 20  # purchases or firms on a page of red flags

# the oversight pages only read (their forms are filters): nothing to say after a form
NOTICES: Notices = {}
WORKSPACE_TILES: list[Tile] = [
    ("finance", "/finance/overview", N_("Spending, competition and savings")),
    ("finance", "/finance/flags", N_("Red flags")),
    ("finance", "/finance/exports", N_("Exports and open data")),
    ("admin", "/finance/overview", N_("Spending, competition and savings")),
    ("admin", "/finance/flags", N_("Red flags")),
    ("admin", "/finance/exports", N_("Exports and open data")),
    ("finance", "/finance/credit", N_("Credit grades")),
    ("admin", "/finance/credit", N_("Credit grades")),
]
CREDIT_PER_PAGE = 50


@dataclass(frozen=True)
class PeriodForm:
    """The period filter of every oversight page (``from``/``to``, empty fields are open ends).
    A wrong field does not fail the page: it is shown again with its error next to it (answered
    422) and the report covers what was right (a date that is not one is an open end; an end
    before the start, the whole time)."""

    period: Period
    typed: dict[str, str]
    error: InvalidInput | None = None

    @classmethod
    def read(cls, start: str | None, end: str | None) -> PeriodForm:
        typed = {"from": (start or "").strip(), "to": (end or "").strip()}
        days: dict[str, date | None] = {}
        errors: list[FieldError] = []
        for key, text in typed.items():
            try:
                days[key] = parse_day(key, text)
            except InvalidInput as exc:
                days[key] = None
                errors += exc.errors
        try:
            period = check_period(days["from"], days["to"])
        except InvalidInput as exc:
            period = Period()
            errors += exc.errors
        if not errors:
            return cls(period, typed)
        return cls(
            period,
            typed,
            InvalidInput(_("The input is not valid."), _("Correct the fields named below."), errors=errors),
        )

    @property
    def chosen(self) -> dict[str, str]:
        """The period the report covers, as query parameters."""
        return {
            "from": self.period.start.isoformat() if self.period.start else "",
            "to": self.period.end.isoformat() if self.period.end else "",
        }

    def render(self, template: str, context: dict[str, Any]) -> Template:
        """``template`` with the form's values and, when it was wrong, its errors (422)."""
        context = {**context, "form": self.typed}
        if self.error is None:
            return Template(template, context=context)
        context.update(error=self.error, field_errors={e.field: e.message for e in self.error.errors})
        return Template(template, context=context, status_code=422)


@get("/finance/overview", include_in_schema=False, guards=[oversight])
async def overview(
    db: DbSession,
    readers: Readers,
    settings: AppSettings,
    group_by: FromQuery[str | None] = None,
    date_from: DateFrom = None,
    date_to: DateTo = None,
) -> Template:
    chosen = group_by if group_by in rules.GROUPINGS else "owner"
    form = PeriodForm.read(date_from, date_to)
    s = await summary(db, settings, chosen, form.period, readers)
    return form.render(
        "oversight/overview.html",
        {
            "s": s,
            "rows": [(s.label(r), r) for r in s.rows],
            "groupings": choices("group_by"),
            "group_by": chosen,
            "flag_total": sum(s.flag_counts.values()),
        },
    )


def _flagged(
    found: list[tuple[uuid.UUID, list[rules.Flag]]],
    snapshot: Snapshot,
    kind: str,
    awards: dict[uuid.UUID, tuple[int, Decimal]],
) -> list[dict[str, Any]]:
    """One entry per flagged purchase or firm of the page with its flags, in the page's order
    (:func:`oversight.flagpages.subject_page`; ``awards``: each flagged firm's awards of the
    period, counted by the database)."""
    purchases = snapshot.purchases_by_id
    firms = snapshot.firms_by_id
    subjects = []
    for subject_id, flags in found:
        entry: dict[str, Any] = {
            "id": subject_id,
            "url": explain.subject_url(flags[0]),
            "severity": flags[0].severity,
            "flags": [
                {
                    "code": f.code,
                    "severity": f.severity,
                    "explanation": explain.explain(f),
                    "links": explain.links(f),
                }
                for f in flags
            ],
        }
        if kind == "purchase":
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
            wins, won_amount = awards.get(subject_id, (0, rules.ZERO))
            entry.update(
                name=firm.name if firm else str(subject_id),
                uscc=firm.uscc if firm else "",
                wins=wins,
                won_amount=won_amount,
            )
        subjects.append(entry)
    return subjects


def _awards(purchases: list[rules.PurchaseFact], firm_id: uuid.UUID) -> tuple[int, Decimal]:
    """How many awards a firm won and for how much."""
    won = [p for p in purchases if p.awarded and p.winner_id == firm_id]
    return len(won), sum((p.price or rules.ZERO for p in won), rules.ZERO)


@get("/finance/flags", include_in_schema=False, guards=[oversight])
async def flags_page(
    db: DbSession,
    settings: AppSettings,
    kind: FromQuery[str | None] = None,
    code: FromQuery[str | None] = None,
    severity: FromQuery[str | None] = None,
    date_from: DateFrom = None,
    date_to: DateTo = None,
    page: PageNumber = None,
) -> Template:
    chosen_kind = kind if kind in FLAG_KINDS else "purchase"
    chosen_code = code if code in rules.FLAG_CODES else None
    if chosen_code and chosen_code in rules.FIRM_FLAGS:
        chosen_kind = "firm"
    elif chosen_code:
        chosen_kind = "purchase"
    chosen_severity = severity if severity in rules.SEVERITIES else None
    form = PeriodForm.read(date_from, date_to)
    pager = Pager.of(page, FLAGGED_PER_PAGE)
    found = await flagpages.subject_page(
        db,
        settings,
        form.period,
        kind=chosen_kind,
        code=chosen_code,
        severity=chosen_severity,
        page=pager.page,
        size=pager.size,
    )
    firms = [i for i, _ in found.subjects] if chosen_kind == "firm" else []
    subjects = _flagged(found.subjects, found.snapshot, chosen_kind, await sums.awards(db, form.period, firms))
    pager = Pager(min(pager.page, pager.pages(found.subject_count)), pager.size)  # past the end: the last page
    codes = rules.PURCHASE_FLAGS if chosen_kind == "purchase" else rules.FIRM_FLAGS
    counts = found.counts
    thresholds = rules.Thresholds.of(settings)
    return form.render(
        "oversight/flags.html",
        {
            "kind": chosen_kind,
            "code": chosen_code,
            "severity": chosen_severity,
            "subjects": subjects,
            "paging": pager.context(found.subject_count),
            "codes": [(c, counts.get(c, 0)) for c in codes],
            "kind_counts": found.kind_counts,
            "total": found.total,
            "t": thresholds,
            "rates": {
                "concentration": explain.pct(rules.percent(thresholds.concentration_share, 1)),
                "low_price": explain.pct(rules.percent(thresholds.low_price_ratio, 1)),
                "abnormal_low": explain.pct(rules.percent(thresholds.abnormal_low_ratio, 1)),
            },
            "severities": rules.SEVERITIES,
        },
    )


@dataclass(frozen=True)
class FirmRow:
    """A purchase a firm bid on or won, with its bid (once opened)."""

    p: rules.PurchaseFact
    bid: rules.BidFact | None
    won: bool


@get("/finance/firms/{firm_id:uuid}", include_in_schema=False, guards=[oversight])
async def firm_page(
    db: DbSession,
    settings: AppSettings,
    firm_id: FromPath[uuid.UUID],
    date_from: DateFrom = None,
    date_to: DateTo = None,
) -> Template:
    """One firm as the finance bureau sees it: its record, its own red flags, those of the purchases
    it won and those that name it, its opened bids and its awards."""
    form = PeriodForm.read(date_from, date_to)
    report, _every = await firm_report(db, settings, form.period, FlagFilter(firm_id=firm_id))
    org = report.snapshot.orgs.get(firm_id)
    if org is None or org.kind != "provider":
        raise NotFound(_("No such firm."))
    rows = [
        FirmRow(
            p=p,
            bid=next((b for b in p.bids or () if b.provider_id == firm_id), None),
            won=p.selected and p.winner_id == firm_id,
        )
        for p in involving(report.snapshot.purchases, firm_id)
    ]
    wins, won_amount = _awards(report.snapshot.purchases, firm_id)
    return form.render(
        "oversight/firm.html",
        {
            "org": org,
            "firm": report.snapshot.firms_by_id[firm_id],
            "rows": rows,
            "wins": wins,
            "won_amount": won_amount,
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
        },
    )


@get("/finance/exports", include_in_schema=False, guards=[oversight])
async def exports_page(settings: AppSettings, date_from: DateFrom = None, date_to: DateTo = None) -> Template:
    form = PeriodForm.read(date_from, date_to)
    period = form.chosen
    # the files speak the page's language (headers, labels, explanations)
    suffix = "?" + urlencode({**{k: v for k, v in period.items() if v}, "lang": get_locale()})
    return form.render(
        "oversight/exports.html",
        {
            "period": period,
            "csv_url": f"/api/v1/finance/export.csv{suffix}",
            "xlsx_url": f"/api/v1/finance/export.xlsx{suffix}",
            "ocds_url": "/api/v1/ocds/releases",
            "ocds_prefix": settings.ocds_prefix,
            "ocds_prefix_registered": settings.ocds_prefix_registered,
            "publisher": settings.ocds_publisher,
        },
    )


AUDIT_PER_PAGE = 50


@dataclass(frozen=True)
class AuditForm:
    """The filters of the audit page, as typed: a wrong field is shown again with its error
    (answered 422) and left out of the filter."""

    filter: trail.AuditFilter
    typed: dict[str, str]
    period_form: PeriodForm
    error: InvalidInput | None = None

    @classmethod
    def read(
        cls,
        action: str | None,
        org: str | None,
        entity: str | None,
        ref: str | None,
        start: str | None,
        end: str | None,
    ) -> AuditForm:
        period_form = PeriodForm.read(start, end)
        typed = {
            "action": (action or "").strip()[:64],
            "org": (org or "").strip()[:64],
            "entity": (entity or "").strip()[:40],
            "ref": (ref or "").strip()[:64],
            **period_form.typed,
        }
        errors = list(period_form.error.errors) if period_form.error else []
        org_id = None
        if typed["org"]:
            try:
                org_id = uuid.UUID(typed["org"])
            except ValueError:
                errors.append(FieldError("org", _("Choose an organisation from the list.")))
        f = trail.AuditFilter(
            action=typed["action"] or None,
            org_id=org_id,
            entity_type=typed["entity"] or None,
            ref=typed["ref"] or None,
            period=period_form.period,
        )
        error = (
            InvalidInput(_("The input is not valid."), _("Correct the fields named below."), errors=errors)
            if errors
            else None
        )
        return cls(f, typed, period_form, error)

    @property
    def query(self) -> str:
        """The filters as a query string (for the CSV link)."""
        return urlencode({k: v for k, v in self.typed.items() if v})


@get("/finance/audit", include_in_schema=False, guards=[oversight])
async def audit_page(
    db: DbSession,
    actor: CurrentActor,
    action: FromQuery[str | None] = None,
    org: FromQuery[str | None] = None,
    entity: FromQuery[str | None] = None,
    ref: FromQuery[str | None] = None,
    date_from: DateFrom = None,
    date_to: DateTo = None,
    page: PageNumber = None,
) -> Template:
    """The whole chain, newest first, a page at a time, filtered; the chain is recomputed only
    when asked (``/finance/audit/verify``), never on every view."""
    form = AuditForm.read(action, org, entity, ref, date_from, date_to)
    pager = Pager.of(page, AUDIT_PER_PAGE)
    rows, total = await trail.search(db, form.filter, limit=pager.limit, offset=pager.offset)
    if not rows and total and pager.page > pager.pages(total):  # beyond the end: the last page
        pager = Pager.of(pager.pages(total), AUDIT_PER_PAGE)
        rows, total = await trail.search(db, form.filter, limit=pager.limit, offset=pager.offset)
    context = {
        "events": await trail.present(db, rows, actor.role),
        "choices": await trail.choices(db),
        "csv_url": "/finance/audit/export.csv" + (f"?{form.query}" if form.query else ""),
        "filtered": any(form.typed.values()),
        **pager.context(total),
    }
    context.update(form=form.typed)
    if form.error is None:
        return Template("oversight/audit.html", context=context)
    context.update(error=form.error, field_errors={e.field: e.message for e in form.error.errors})
    return Template("oversight/audit.html", context=context, status_code=422)


@get("/finance/audit/verify", include_in_schema=False, guards=[oversight])
async def audit_verify_page(settings: AppSettings) -> Template:
    """The whole chain recomputed from its first event (an explicit action: it reads every event),
    in the offload process: half a minute at province size, which the event loop must not spend."""
    result = await offload.run(verify_database, settings.database_url)
    return Template("oversight/audit_verify.html", context={"result": result})


@get("/finance/audit/export.csv", include_in_schema=False, guards=[oversight], opt={"writes": True})  # audited
async def audit_csv(
    db: DbSession,
    actor: CurrentActor,
    action: FromQuery[str | None] = None,
    org: FromQuery[str | None] = None,
    entity: FromQuery[str | None] = None,
    ref: FromQuery[str | None] = None,
    date_from: DateFrom = None,
    date_to: DateTo = None,
) -> Response[bytes]:
    """The filtered events as CSV (every one, not a page); the download is itself recorded."""
    form = AuditForm.read(action, org, entity, ref, date_from, date_to)
    if form.error is not None:
        raise form.error
    rows, total = await trail.search(db, form.filter, limit=None)
    content = trail.to_csv(await trail.present(db, rows, actor.role))
    audit.record(db, actor, "finance.exported", "export", "audit.csv", {"format": "csv", "events": total, **form.typed})
    stamp = clock.today_local().strftime("%Y%m%d")
    return csvout.csv_response(content, f"audit-{stamp}.csv")


@get("/finance/credit", include_in_schema=False, guards=[oversight])
async def credit_page(
    db: DbSession,
    grade: FromQuery[str | None] = None,
    date_from: DateFrom = None,
    date_to: DateTo = None,
    page: PageNumber = None,
) -> Template:
    """Every move of a firm's credit grade (API twin: ``GET /api/v1/finance/credit/grade-changes``)."""
    form = PeriodForm.read(date_from, date_to)
    chosen = grade if grade in credit_view.GRADES else None
    pager = Pager.of(page, CREDIT_PER_PAGE)
    items, total = await credit_view.changes(db, form.period, chosen, pager.limit, pager.offset)
    return form.render(
        "oversight/credit.html",
        {
            "changes": items,
            "grade": chosen or "",
            "grades": [(g, g) for g in credit_view.GRADES],
            "paging": pager.context(total),
            "json_url": "/api/v1/finance/credit/grade-changes?" + urlencode({"grade": chosen or "", **form.chosen}),
        },
    )


def routes(settings: Settings) -> list[Any]:
    """The package's pages (the composition root mounts them)."""
    return [overview, flags_page, firm_page, exports_page, audit_page, audit_verify_page, audit_csv, credit_page]
