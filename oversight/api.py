"""JSON API of the finance bureau's oversight (SPEC §6) and the public OCDS feed.

``/api/v1/finance/…`` is for the finance bureau and the operator; ``/api/v1/ocds/releases`` is
public. Controllers translate; :mod:`oversight.services` holds the rules."""

from __future__ import annotations

import json
import uuid
from typing import Annotated, Any, Literal
from urllib.parse import urlencode

from litestar import Controller, Request, Response, get
from litestar.background_tasks import BackgroundTask
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import QueryParameter
from litestar.response import File

from market import audit, clock, csvout
from market.actor import Actor
from market.identity.guards import oversight
from market.jsonutil import jsonable
from market.schemas import Page
from market.settings import Settings
from market.terms import label
from market.web import etag
from market.web.deps import AppSettings, CurrentActor, DbSession, Offset, Readers
from oversight import audit as trail
from oversight import credit as credit_view
from oversight import explain as words
from oversight import export_jobs, flagpages, ocds, rules
from oversight.facts import Period
from oversight.schemas import (
    AuditEventOut,
    CompetitionOut,
    FlagOut,
    FlagPage,
    GradeChangeOut,
    LinkOut,
    OcdsReleasePackage,
    PeriodOut,
    SpendingOut,
    SubjectOut,
    SummaryOut,
    TimelinessOut,
)
from oversight.services import (
    FlagFilter,
    FlagReport,
    check_period,
    firm_report,
    parse_cursor,
    parse_day,
    parse_moment,
    summary,
)

Limit = Annotated[int, QueryParameter(ge=1, le=200)]
From = Annotated[
    str | None, QueryParameter(name="from", format="date", description="published on or after (a China date)")
]
To = Annotated[
    str | None, QueryParameter(name="to", format="date", description="published on or before (a China date)")
]

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def flag_out(report: FlagReport, flag: rules.Flag) -> FlagOut:
    name, ref = report.subject(flag)
    return FlagOut(
        code=flag.code,
        title=label(flag.code, "oversight_flag"),
        severity=flag.severity,
        subject=SubjectOut(type=flag.subject, id=flag.subject_id, name=name, ref=ref, url=words.subject_url(flag)),
        explanation=words.explain(flag),
        data=jsonable(flag.data),
        links=[LinkOut(label=text, url=url) for text, url in words.links(flag)],
    )


async def export_file(
    db: DbSession, actor: Actor, settings: Settings, period: Period, kind: str, media_type: str
) -> File:
    """The export of ``period`` built in the export process (:mod:`oversight.export_jobs`), sent
    as a download and deleted once sent; the export itself is recorded in the audit trail (who
    took which data out, and when)."""
    built = await export_jobs.build(kind, settings, period)
    audit.record(
        db,
        actor,
        "finance.exported",
        "export",
        f"purchases.{kind}",
        {"format": kind, "from": period.start, "to": period.end, "purchases": built.purchases},
    )
    return File(
        built.path,
        filename=_filename(kind, period),
        media_type=media_type,
        background=BackgroundTask(built.path.unlink, missing_ok=True),
    )


def period_of(start: str | None, end: str | None) -> Period:
    return check_period(parse_day("from", start), parse_day("to", end))


def _filename(kind: str, period: Period) -> str:
    parts = ["purchases"]
    if period.start:
        parts.append(period.start.strftime("%Y%m%d"))
    if period.end:
        parts.append(period.end.strftime("%Y%m%d"))
    if len(parts) == 1:
        parts.append(clock.today_local().strftime("%Y%m%d"))
    return "-".join(parts) + f".{kind}"


class FinanceController(Controller):
    path = "/api/v1/finance"
    tags = ["finance"]
    guards = [oversight]

    @get(
        "/summary",
        summary="Spending grouped by owner, catalog, method, funding or month, with competition, savings, "
        "timeliness and red-flag counts (finance, admin)",
    )
    async def get_summary(
        self,
        db: DbSession,
        readers: Readers,
        settings: AppSettings,
        group_by: Annotated[str, QueryParameter(max_length=16, description="owner|catalog|method|funding|month")] = (
            "owner"
        ),
        date_from: From = None,
        date_to: To = None,
        limit: Limit = 100,
        offset: Offset = 0,
    ) -> SummaryOut:
        period = period_of(date_from, date_to)
        s = await summary(db, settings, group_by, period, readers)
        rows = s.rows[offset : offset + limit]
        return SummaryOut(
            group_by=s.group_by,
            period=PeriodOut(start=period.start, end=period.end),
            totals=SpendingOut.of(s.totals, "total"),
            competition=CompetitionOut.of(s.competition),
            timeliness=TimelinessOut.of(s.timeliness),
            flags=s.flag_counts,
            flags_by_severity=s.severity_counts,
            items=[SpendingOut.of(r, s.label(r)) for r in rows],
            total=len(s.rows),
            limit=limit,
            offset=offset,
        )

    @get("/flags", summary="Red flags per purchase and per firm, each explained with the data behind it")
    async def get_flags(
        self,
        db: DbSession,
        settings: AppSettings,
        kind: Annotated[str | None, QueryParameter(max_length=16, description="purchase|firm")] = None,
        code: Annotated[str | None, QueryParameter(max_length=40)] = None,
        severity: Annotated[str | None, QueryParameter(max_length=16, description="high|medium|low")] = None,
        firm_id: Annotated[
            uuid.UUID | None,
            QueryParameter(description="a firm's own flags, those of the purchases it won and those naming it"),
        ] = None,
        date_from: From = None,
        date_to: To = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> FlagPage:
        period = period_of(date_from, date_to)
        flt = FlagFilter(kind=kind, code=code, severity=severity, firm_id=firm_id).check()
        if firm_id is None:  # the page alone is built (the list's order, from the counts)
            found = await flagpages.flag_page(
                db, settings, period, kind=kind, code=code, severity=severity, offset=offset, limit=limit
            )
            shown = FlagReport(found.snapshot, found.flags, found.flags)
            return FlagPage(
                items=[flag_out(shown, f) for f in found.flags],
                total=found.total,
                limit=limit,
                offset=offset,
                counts=found.counts,
            )
        # a firm's flags: bounded by the purchases it bid on or won
        report, counts = await firm_report(db, settings, period, flt)
        page = report.chosen[offset : offset + limit]
        return FlagPage(
            items=[flag_out(report, f) for f in page],
            total=len(report.chosen),
            limit=limit,
            offset=offset,
            counts=counts,
        )

    @get(
        "/export.csv",
        summary="Published purchases with award, contract, invoiced and paid amounts and flags (CSV, UTF-8 with BOM)",
        media_type=csvout.MEDIA_TYPE,
        opt={"writes": True},  # an export is audited (who took the data)
        responses={  # streamed: documented as the file it is
            200: ResponseSpec(
                data_container=str,
                media_type=csvout.MEDIA_TYPE,
                description="Request fulfilled, document follows",
                generate_examples=False,
            )
        },
    )
    async def export_csv(
        self, db: DbSession, actor: CurrentActor, settings: AppSettings, date_from: From = None, date_to: To = None
    ) -> File:
        return await export_file(db, actor, settings, period_of(date_from, date_to), "csv", csvout.MEDIA_TYPE)

    @get(
        "/export.xlsx",
        summary="The same as an Excel workbook, with a second sheet of every red flag explained",
        media_type=XLSX_TYPE,
        opt={"writes": True},  # an export is audited (who took the data)
    )
    async def export_xlsx(
        self, db: DbSession, actor: CurrentActor, settings: AppSettings, date_from: From = None, date_to: To = None
    ) -> File:
        return await export_file(db, actor, settings, period_of(date_from, date_to), "xlsx", XLSX_TYPE)

    @get(
        "/credit/grade-changes",
        summary="Every move of a firm's credit grade, newest first: grade (to or from it), from, to (China dates)",
    )
    async def grade_changes(
        self,
        db: DbSession,
        grade: Annotated[Literal["A", "B", "C", "D"] | None, QueryParameter()] = None,
        date_from: From = None,
        date_to: To = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> Page[GradeChangeOut]:
        items, total = await credit_view.changes(db, period_of(date_from, date_to), grade, limit, offset)
        return Page[GradeChangeOut](items=items, total=total, limit=limit, offset=offset)


class OpenDataController(Controller):
    path = "/api/v1/ocds"
    tags = ["open data"]

    @get(
        "/releases",
        summary="OCDS 1.1.5 release package of the published purchases changed since a moment (public)",
        media_type="application/json",
        responses={
            200: ResponseSpec(
                data_container=OcdsReleasePackage, description="An OCDS 1.1 release package", generate_examples=False
            )
        },
    )
    async def releases(
        self,
        request: Request[Any, Any, Any],
        db: DbSession,
        settings: AppSettings,
        since: Annotated[
            str | None,
            QueryParameter(
                format="date-time",
                description="ISO 8601; without an offset, China time. Releases changed at or after it.",
            ),
        ] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=ocds.MAX_LIMIT)] = 100,
        cursor: Annotated[
            str | None,
            QueryParameter(
                max_length=100,
                description="Opaque: where the previous page ended (from its links.next). Releases of the "
                "purchases changed after it, in the order of their changes; a purchase that changes again "
                "comes again later.",
            ),
        ] = None,
    ) -> Response[bytes]:
        moment = parse_moment("since", since)
        after = parse_cursor("cursor", cursor)
        validator = await etag.check(request, db, kind="ocds")
        if validator.fresh:
            return validator.not_modified()
        page = await ocds.load(db, settings, moment, limit=limit, after=after)
        base = f"{settings.base_url}{request.url.path}"

        def uri(at: str | None) -> str:
            params: dict[str, str] = {}
            if moment is not None:
                params["since"] = moment.isoformat()
            if limit != 100:
                params["limit"] = str(limit)
            if at:
                params["cursor"] = at
            return f"{base}?{urlencode(params)}" if params else base

        # a changes feed: every page with releases links where the next one starts; a harvester
        # follows links.next until a page comes back empty, and polls that URL again later
        next_uri = uri(page.next_cursor) if page.next_cursor is not None else None
        data = ocds.package(page.procs, settings, uri=uri(cursor), next_uri=next_uri, now=clock.now())
        return Response(content=ocds.dumps(data), media_type="application/json", headers=validator.headers())


def audit_filter(
    action: str | None,
    org_id: uuid.UUID | None,
    entity_type: str | None,
    entity_id: str | None,
    ref: str | None,
    date_from: str | None,
    date_to: str | None,
) -> trail.AuditFilter:
    """The filter of the audit events from query parameters (a wrong date is a 400 naming it)."""
    return trail.AuditFilter(
        action=(action or "").strip() or None,
        org_id=org_id,
        entity_type=(entity_type or "").strip() or None,
        entity_id=(entity_id or "").strip() or None,
        ref=(ref or "").strip() or None,
        period=period_of(date_from, date_to),
    )


def audit_event_out(s: trail.Shown) -> AuditEventOut:
    ev = s.ev
    return AuditEventOut(
        seq=ev.seq,
        occurred_at=ev.occurred_at,
        actor_user_id=ev.actor_user_id,
        actor_user_name=s.user,
        actor_org_id=ev.actor_org_id,
        actor_org_name=s.org,
        actor_role=ev.actor_role,
        action=ev.action,
        action_label=s.action,
        entity_type=ev.entity_type,
        entity_label=s.entity,
        entity_id=ev.entity_id,
        url=s.url,
        data=json.loads(ev.data),
        prev_hash=ev.prev_hash,
        hash=ev.hash,
    )


class AuditEventsController(Controller):
    path = "/api/v1/audit"
    tags = ["audit"]
    guards = [oversight]

    @get(
        "/events",
        summary="Audit events, newest first, filtered by action, organisation, record, period or reference",
    )
    async def events(
        self,
        db: DbSession,
        actor: CurrentActor,
        entity_type: Annotated[str | None, QueryParameter(max_length=40)] = None,
        entity_id: Annotated[str | None, QueryParameter(max_length=64)] = None,
        action: Annotated[str | None, QueryParameter(max_length=64)] = None,
        org_id: Annotated[uuid.UUID | None, QueryParameter(description="the organisation that acted")] = None,
        ref: Annotated[
            str | None,
            QueryParameter(
                max_length=64,
                description="a purchase, contract or invoice number, or a record's id: its events and those naming it",
            ),
        ] = None,
        date_from: Annotated[
            str | None, QueryParameter(name="from", format="date", description="on or after (a China date)")
        ] = None,
        date_to: Annotated[
            str | None, QueryParameter(name="to", format="date", description="on or before (a China date)")
        ] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=500)] = 50,
        offset: Offset = 0,
    ) -> Page[AuditEventOut]:
        f = audit_filter(action, org_id, entity_type, entity_id, ref, date_from, date_to)
        rows, total = await trail.search(db, f, limit=limit, offset=offset)
        shown = await trail.present(db, rows, actor.role)
        return Page[AuditEventOut](items=[audit_event_out(s) for s in shown], total=total, limit=limit, offset=offset)


def routes(settings: Settings) -> list[Any]:
    """The package's API routes (the composition root mounts them)."""
    return [FinanceController, OpenDataController, AuditEventsController]
