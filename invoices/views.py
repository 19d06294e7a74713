"""Turning rows into response schemas and page data (shared by the API and the pages)."""

from __future__ import annotations

import uuid
from collections import defaultdict

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from invoices import billing, contracts, documents, owners, rules
from invoices.models import Contract, ContractAgreement, Delivery, DeliveryFile, Document, DocumentKind, Invoice
from invoices.ratings import RatingSummary
from invoices.schemas import (
    AgreementOut,
    ContractOut,
    ContractSummaryOut,
    DeliveryFileOut,
    DeliveryOut,
    DocumentOut,
    InvoiceOut,
    OwnerCancellationOut,
    OwnerDirectOut,
    OwnerPaymentOut,
    OwnerRecordOut,
    PartyOut,
    PublicDocumentOut,
    RatingSummaryOut,
    RecentRatingOut,
    VerifiedOut,
)
from market.jsonutil import jsonable
from market.settings import Settings


def download_url(kind: DocumentKind, entity_id: uuid.UUID, lang: str) -> str:
    base = {
        DocumentKind.contract: f"/api/v1/contracts/{entity_id}/pdf",
        DocumentKind.agreement: f"/api/v1/agreements/{entity_id}/pdf",
    }.get(kind, f"/api/v1/invoices/{entity_id}/pdf")
    return base if lang == "zh" else f"{base}?lang={lang}"


def verify_url(settings: Settings, sha256: str) -> str:
    return f"{settings.base_url}/verify/document/{sha256}"


def document_out(doc: Document, settings: Settings) -> DocumentOut:
    return DocumentOut(
        sha256=doc.sha256,
        lang=doc.lang,
        number=doc.number,
        size=doc.size,
        rendered_at=doc.rendered_at,
        download_url=download_url(doc.kind, doc.entity_id, doc.lang),
        verify_url=verify_url(settings, doc.sha256),
    )


async def docs_by_entity(
    session: AsyncSession, kind: DocumentKind, ids: list[uuid.UUID]
) -> dict[uuid.UUID, list[Document]]:
    found: dict[uuid.UUID, list[Document]] = defaultdict(list)
    for doc in await documents.documents_of(session, kind, ids):
        found[doc.entity_id].append(doc)
    return found


def _party(c: Contract, side: str) -> PartyOut:
    return PartyOut(
        id=getattr(c, f"{side}_id"),
        name=getattr(c, f"{side}_name"),
        uscc=getattr(c, f"{side}_uscc"),
        address=getattr(c, f"{side}_address"),
        legal_rep=getattr(c, f"{side}_legal_rep"),
        signed_at=getattr(c, f"{side}_signed_at"),
        signed_by=getattr(c, f"{side}_signed_by"),
        signed_ip=getattr(c, f"{side}_signed_ip"),
    )


async def contracts_out(session: AsyncSession, settings: Settings, rows: list[Contract]) -> list[ContractOut]:
    docs = await docs_by_entity(session, DocumentKind.contract, [c.id for c in rows])
    return [
        ContractOut(
            id=c.id,
            number=c.number,
            status=c.status,
            flags=contracts.flags_of(c, settings),
            purchase_id=c.purchase_id,
            purchase_ref=c.purchase_ref,
            bid_id=c.bid_id,
            title=c.title,
            scope=c.scope,
            catalog_code=c.catalog_code,
            catalog_name=c.catalog_name,
            method=c.method,
            draw_seed=c.draw_seed,
            awarded_at=c.awarded_at,
            owner=_party(c, "owner"),
            provider=_party(c, "provider"),
            amount=c.amount,
            amount_in_words=c.amount_in_words,
            amount_current=c.amount_current,
            service_days=c.service_days,
            payment_days=c.payment_days,
            drafted_at=c.drafted_at,
            sign_by=c.sign_by,
            signed_at=c.signed_at,
            due_at=c.due_at,
            due_at_current=c.due_at_current,
            invoiced_total=contracts.account_of(c).invoiced,
            paid_total=contracts.account_of(c).paid,
            outstanding=contracts.account_of(c).outstanding,
            delivered_at=c.delivered_at,
            accepted_at=c.accepted_at,
            payment_deadline=contracts.payment_deadline_of(c, settings),
            paid_on=c.paid_on,
            days_to_payment=contracts.days_to_payment(c),
            documents=[document_out(d, settings) for d in docs.get(c.id, [])],
            voided_at=c.voided_at,
            void_reason=c.void_reason,
        )
        for c in rows
    ]


async def contract_summary_out(session: AsyncSession, settings: Settings, c: Contract) -> ContractSummaryOut:
    """The public summary of a contract signed by both parties (the page ``/contracts/{id}`` and
    ``GET /api/v1/contracts/{id}/summary`` show exactly this): organisations' names only, no
    legal representatives, signers, IP addresses or addresses."""
    assert c.signed_at is not None and c.due_at is not None and c.due_at_current is not None
    docs = (await docs_by_entity(session, DocumentKind.contract, [c.id])).get(c.id, [])
    return ContractSummaryOut(
        id=c.id,
        number=c.number,
        status=c.status,
        purchase_id=c.purchase_id,
        purchase_ref=c.purchase_ref,
        title=c.title,
        catalog_code=c.catalog_code,
        catalog_name=c.catalog_name,
        owner_name=c.owner_name,
        provider_name=c.provider_name,
        amount=c.amount,
        amount_in_words=c.amount_in_words,
        amount_current=c.amount_current,
        amount_current_in_words=rules.amount_in_capitals(c.amount_current),
        service_days=c.service_days,
        signed_at=c.signed_at,
        due_at=c.due_at,
        due_at_current=c.due_at_current,
        documents=[
            PublicDocumentOut(sha256=d.sha256, lang=d.lang, number=d.number, verify_url=verify_url(settings, d.sha256))
            for d in docs
        ],
    )


async def agreements_out(
    session: AsyncSession, settings: Settings, rows: list[ContractAgreement]
) -> list[AgreementOut]:
    docs = await docs_by_entity(session, DocumentKind.agreement, [a.id for a in rows])
    return [
        AgreementOut(
            id=a.id,
            contract_id=a.contract_id,
            number=a.number,
            status=a.status,
            text=a.text,
            new_amount=a.new_amount,
            extra_days=a.extra_days,
            proposed_at=a.proposed_at,
            proposed_by_org=a.proposed_by_org,
            owner_signed_at=a.owner_signed_at,
            provider_signed_at=a.provider_signed_at,
            signed_at=a.signed_at,
            withdrawn_at=a.withdrawn_at,
            withdraw_reason=a.withdraw_reason,
            documents=[document_out(d, settings) for d in docs.get(a.id, [])],
        )
        for a in rows
    ]


def delivery_out(d: Delivery, files: list[DeliveryFile]) -> DeliveryOut:
    return DeliveryOut(
        id=d.id,
        contract_id=d.contract_id,
        seq=d.seq,
        status=d.status,
        note=d.note,
        submitted_at=d.submitted_at,
        decided_at=d.decided_at,
        reason=d.reason,
        files=[
            DeliveryFileOut.model_validate(f).model_copy(
                update={"download_url": f"/api/v1/contracts/{d.contract_id}/files/{f.sha256}"}
            )
            for f in files
        ],
    )


async def invoices_out(session: AsyncSession, settings: Settings, rows: list[Invoice]) -> list[InvoiceOut]:
    if not rows:
        return []
    balances = await billing.balances(session, rows)
    contract_rows = {
        c.id: c
        for c in await session.scalars(select(Contract).where(col(Contract.id).in_({r.contract_id for r in rows})))
    }
    docs: dict[uuid.UUID, list[Document]] = defaultdict(list)
    for kind in {r.kind for r in rows}:
        for key, value in (
            await docs_by_entity(session, DocumentKind(kind), [r.id for r in rows if r.kind == kind])
        ).items():
            docs[key] += value
    out = []
    for inv in rows:
        c = contract_rows[inv.contract_id]
        bal = balances.get(inv.id)
        out.append(
            InvoiceOut(
                id=inv.id,
                kind=inv.kind,
                number=inv.number,
                contract_id=inv.contract_id,
                contract_number=c.number,
                issuer_id=inv.issuer_id,
                issuer_name=c.provider_name,
                recipient_id=inv.recipient_id,
                recipient_name=c.owner_name,
                amount=inv.amount,
                credits_invoice_id=inv.credits_invoice_id,
                reason=inv.reason,
                tax_invoice_no=inv.tax_invoice_no,
                issued_at=inv.issued_at,
                state=bal.state if bal else "credit_note",
                credited=bal.credited if bal else None,
                paid=bal.paid if bal else None,
                outstanding=bal.outstanding if bal else None,
                documents=[document_out(d, settings) for d in docs.get(inv.id, [])],
            )
        )
    return out


def rating_summary_out(summary: RatingSummary) -> RatingSummaryOut:
    return RatingSummaryOut(
        provider_id=summary.org_id,
        count=summary.count,
        averages={k: (str(v) if v is not None else None) for k, v in summary.averages.items()},
        overall=str(summary.overall) if summary.overall is not None else None,
        recent=[
            RecentRatingOut(
                contract_number=r.contract_number, created_at=r.created_at, average=str(r.average), comment=r.comment
            )
            for r in summary.recent
        ],
    )


def verified_out(found: documents.Verified, settings: Settings) -> VerifiedOut:
    doc = found.document
    return VerifiedOut(
        sha256=doc.sha256,
        kind=doc.kind,
        number=doc.number,
        lang=doc.lang,
        size=doc.size,
        rendered_at=doc.rendered_at,
        verify_url=verify_url(settings, doc.sha256),
        summary=jsonable(found.summary),
    )


def owner_record_out(rec: owners.OwnerRecord) -> OwnerRecordOut:
    pay = rec.payment
    return OwnerRecordOut(
        id=rec.owner.id,
        name=rec.owner.name,
        as_of=rec.as_of,
        purchases_published=rec.purchases_published,
        payment=OwnerPaymentOut(
            accepted_contracts=pay.accepted,
            paid_in_full=pay.paid_in_full,
            paid_within_term=pay.paid_within_term,
            judged=pay.judged,
            share_within_term=pay.share_within_term,
            average_days_to_payment=pay.average_days_to_payment,
            overdue_contracts=pay.overdue,
            overdue_amount=pay.overdue_amount,
            outstanding_amount=pay.outstanding_amount,
        ),
        cancellations_after_opening=rec.cancellations_after_opening,
        cancellations=[OwnerCancellationOut(**vars(c)) for c in rec.cancellations],
        direct_selections=rec.direct_selections,
        directs=[OwnerDirectOut(**vars(d)) for d in rec.directs],
    )
