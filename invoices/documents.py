"""Documents: content-addressed storage, PDFs rendered once and stored, and verification by hash.

Storage. Rendered documents and deliverables live in the platform's content-addressed storage
(:mod:`market.storage`: a directory or an S3-compatible object store, ``MARKET_STORAGE_URL``;
objects named by their SHA-256), and a ``stored_files`` row records each one.

Rendering. A signed contract, a signed supplementary agreement and every issued invoice or credit
note get a PDF (Chinese; English on request). :func:`ensure_document` renders it once — off the
event loop, in the PDF thread — after the transaction that made the document final has
committed: the transaction that makes it final queues it (:func:`enqueue`, table
``document_queue``), the worker's documents loop (:func:`render_pending`, apart from the deadlines)
renders what is queued, and a download that comes first renders it itself. The rendering is
deterministic (fixed dates and identifier), the ``documents`` row is append-only and unique per
document and language, so a race between two renderers stores one document, and every download
returns the same bytes.
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, cast

from sqlalchemy import CursorResult, and_, delete, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col

from invoices import rendering, rules
from invoices.models import (
    AgreementStatus,
    Contract,
    ContractAgreement,
    Document,
    DocumentKind,
    DocumentQueue,
    Invoice,
    InvoiceKind,
)
from listings.models import StoredFile
from market import audit, clock
from market.actor import SYSTEM
from market.db import is_postgres
from market.errors import NotFound, RuleViolation
from market.i18n import gettext as _
from market.identity.models import User
from market.settings import Settings
from market.storage import Storage, get_content, put_content, sha256_of, storage_for

LANGS = ("zh", "en")
log = logging.getLogger("market.worker")


# --- storage ------------------------------------------------------------------------------------


def _insert(session: AsyncSession) -> Any:
    return pg_insert if is_postgres(session) else sqlite_insert


async def store_file(session: AsyncSession, storage: Storage, data: bytes, content_type: str) -> str:
    """Write the bytes (before the row, so a committed row always has its file) and record them."""
    sha = await sha256_of(data)
    await put_content(storage, sha, data)
    await session.execute(
        _insert(session)(StoredFile)
        .values(sha256=sha, size=len(data), content_type=content_type, created_at=clock.now())
        .on_conflict_do_nothing(index_elements=["sha256"])
    )
    return sha


async def read_file(settings: Settings, sha256: str) -> bytes:
    try:
        return await get_content(storage_for(settings), sha256)
    except FileNotFoundError:
        raise NotFound(_("The stored file is missing.")) from None


# --- what a document says -------------------------------------------------------------------------


@dataclass
class Source:
    """Everything needed to render one document."""

    kind: DocumentKind
    entity_id: uuid.UUID
    lang: str
    template: str
    number: str
    created: datetime
    context: dict[str, Any] = field(default_factory=dict)
    draft: bool = False


async def user_names(session: AsyncSession, *ids: uuid.UUID | None) -> dict[uuid.UUID, str]:
    """The display names of the people who signed or issued (for the documents and the parties'
    own pages; never for public summaries)."""
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    rows = await session.execute(select(col(User.id), col(User.display_name)).where(col(User.id).in_(wanted)))
    return {row[0]: row[1] for row in rows}


def verification_page(settings: Settings) -> str:
    """The public page where anyone checks a document (printed on every PDF)."""
    return f"{settings.base_url}/verify/document"


async def contract_source(
    session: AsyncSession, settings: Settings, contract: Contract, lang: str, *, draft: bool = False
) -> Source:
    if not draft and contract.signed_at is None:
        raise RuleViolation(_("The contract is not signed by both parties yet."))
    names = await user_names(session, contract.owner_signed_by, contract.provider_signed_by)
    return Source(
        kind=DocumentKind.contract,
        entity_id=contract.id,
        lang=lang,
        template="contract.html",
        number=contract.number,
        created=contract.signed_at or contract.drafted_at,
        draft=draft,
        context={
            "c": contract,
            "owner_signer": names.get(contract.owner_signed_by) if contract.owner_signed_by else None,
            "provider_signer": names.get(contract.provider_signed_by) if contract.provider_signed_by else None,
            "draw_url": f"{settings.base_url}/verify/draw/{contract.purchase_ref}",
        },
    )


async def agreement_source(
    session: AsyncSession, settings: Settings, agreement: ContractAgreement, lang: str
) -> Source:
    if agreement.status != AgreementStatus.signed or agreement.signed_at is None:
        raise RuleViolation(_("The supplementary agreement is not signed by both parties yet."))
    contract = await session.get(Contract, agreement.contract_id)
    assert contract is not None
    names = await user_names(session, agreement.owner_signed_by, agreement.provider_signed_by)
    return Source(
        kind=DocumentKind.agreement,
        entity_id=agreement.id,
        lang=lang,
        template="agreement.html",
        number=agreement.number,
        created=agreement.signed_at,
        context={
            "a": agreement,
            "c": contract,
            "new_amount_words": rules.amount_in_capitals(agreement.new_amount) if agreement.new_amount else None,
            "owner_signer": names.get(agreement.owner_signed_by) if agreement.owner_signed_by else None,
            "provider_signer": names.get(agreement.provider_signed_by) if agreement.provider_signed_by else None,
        },
    )


async def invoice_source(session: AsyncSession, settings: Settings, invoice: Invoice, lang: str) -> Source:
    contract = await session.get(Contract, invoice.contract_id)
    assert contract is not None
    # what had been invoiced on the contract before this document (rows never change, so the
    # figure printed on the document stays true)
    earlier = (
        await session.execute(
            select(col(Invoice.kind), func.coalesce(func.sum(col(Invoice.amount)), 0))
            .where(
                col(Invoice.contract_id) == invoice.contract_id,
                (col(Invoice.issued_at) < invoice.issued_at)
                | and_(col(Invoice.issued_at) == invoice.issued_at, col(Invoice.seq) < invoice.seq),
            )
            .group_by(col(Invoice.kind))
        )
    ).all()
    sums = {kind: total for kind, total in earlier}
    zero = Decimal("0.00")
    before = sums.get(InvoiceKind.invoice, zero) - sums.get(InvoiceKind.credit_note, zero)
    credited = None
    if invoice.credits_invoice_id is not None:
        credited = await session.get(Invoice, invoice.credits_invoice_id)
    names = await user_names(session, invoice.issued_by)
    sign = -1 if invoice.kind == InvoiceKind.credit_note else 1
    return Source(
        kind=DocumentKind(invoice.kind),
        entity_id=invoice.id,
        lang=lang,
        template="invoice.html",
        number=invoice.number,
        created=invoice.issued_at,
        context={
            "inv": invoice,
            "c": contract,
            "credited": credited,
            "amount_words": rules.amount_in_capitals(invoice.amount),
            "invoiced_before": before,
            "invoiced_after": before + sign * invoice.amount,
            "issuer_user": names.get(invoice.issued_by),
        },
    )


async def source_for(
    session: AsyncSession, settings: Settings, kind: DocumentKind, entity_id: uuid.UUID, lang: str
) -> Source:
    if kind == DocumentKind.contract:
        contract = await session.get(Contract, entity_id)
        if contract is None:
            raise NotFound(_("No such contract."))
        return await contract_source(session, settings, contract, lang)
    if kind == DocumentKind.agreement:
        agreement = await session.get(ContractAgreement, entity_id)
        if agreement is None:
            raise NotFound(_("No such supplementary agreement."))
        return await agreement_source(session, settings, agreement, lang)
    invoice = await session.get(Invoice, entity_id)
    if invoice is None or DocumentKind(invoice.kind) != kind:
        raise NotFound(_("No such invoice."))
    return await invoice_source(session, settings, invoice, lang)


async def end_read(session: AsyncSession) -> None:
    """End a read-only transaction but keep the loaded rows usable (detached, not expired), so
    that no transaction (on SQLite: the database write lock) stays open while a PDF renders."""
    session.expunge_all()
    await session.rollback()


async def render(source: Source, settings: Settings) -> bytes:
    """The PDF bytes of a source (rendered in the PDF thread, not on the event loop)."""
    context = {
        **source.context,
        "doc": source,
        "base_url": settings.base_url,
        "verify_url": verification_page(settings),
    }
    html = rendering.render_html(source.template, context, source.lang)
    return await rendering.html_to_pdf_async(html, identifier=f"{source.number}/{source.lang}")


# --- rendering once -------------------------------------------------------------------------------


async def find_document(session: AsyncSession, kind: DocumentKind, entity_id: uuid.UUID, lang: str) -> Document | None:
    return await session.scalar(
        select(Document).where(
            col(Document.kind) == kind, col(Document.entity_id) == entity_id, col(Document.lang) == lang
        )
    )


async def ensure_document(
    factory: async_sessionmaker[AsyncSession],
    settings: Settings,
    kind: DocumentKind,
    entity_id: uuid.UUID,
    lang: str = "zh",
) -> Document:
    """The stored PDF of a final document, rendering and storing it first if nobody has yet.

    Reads in one short transaction, renders with no transaction open (on SQLite an open
    transaction holds the database write lock), then stores in a second transaction; if another
    renderer stored it meanwhile, that one is kept and returned.
    """
    if lang not in LANGS:
        lang = "zh"
    async with factory() as session:
        existing = await find_document(session, kind, entity_id, lang)
        if existing is not None:
            return existing
        source = await source_for(session, settings, kind, entity_id, lang)
        await end_read(session)
    data = await render(source, settings)
    sha = hashlib.sha256(data).hexdigest()
    async with factory() as session:
        await store_file(session, storage_for(settings), data, "application/pdf")
        result = await session.execute(
            _insert(session)(Document)
            .values(
                id=uuid.uuid4(),
                sha256=sha,
                kind=kind,
                entity_id=entity_id,
                lang=lang,
                number=source.number,
                size=len(data),
                rendered_at=clock.now(),
            )
            .on_conflict_do_nothing()
        )
        if cast("CursorResult[Any]", result).rowcount:  # an INSERT's result is a cursor result
            audit.record(
                session,
                SYSTEM,
                "document.rendered",
                kind,
                entity_id,
                {"number": source.number, "lang": lang, "sha256": sha, "size": len(data)},
            )
        document = await find_document(session, kind, entity_id, lang)
        await session.commit()
    assert document is not None
    return document


def enqueue(session: AsyncSession, kind: DocumentKind, entity_id: uuid.UUID) -> None:
    """Queue the Chinese PDF of a document that has just become final (in the caller's
    transaction: rolled back with it, committed with it)."""
    session.add(DocumentQueue(kind=kind, entity_id=entity_id, enqueued_at=clock.now()))


async def pending(session: AsyncSession, limit: int = 20) -> list[tuple[DocumentKind, uuid.UUID]]:
    """Final documents that have no Chinese PDF yet and that no worker is rendering (oldest
    first): the documents queue, an indexed read of a small table."""
    rows = await session.execute(
        select(col(DocumentQueue.kind), col(DocumentQueue.entity_id))
        .where(col(DocumentQueue.claimed_until).is_(None) | (col(DocumentQueue.claimed_until) < clock.now()))
        .order_by(col(DocumentQueue.enqueued_at))
        .limit(limit)
    )
    return [(DocumentKind(kind), entity_id) for kind, entity_id in rows.all()]


RENDERS_PER_TICK = 3  # claimed at once by a worker; its documents loop runs again at once while work remains
CLAIM_SECONDS = 300  # a claim left by a worker that stopped mid-render expires after this


async def claim(factory: async_sessionmaker[AsyncSession], limit: int) -> list[tuple[DocumentKind, uuid.UUID]]:
    """Take up to ``limit`` queued documents for this worker (``FOR UPDATE SKIP LOCKED`` on
    PostgreSQL; SQLite serialises writers), marking them claimed for :data:`CLAIM_SECONDS`."""
    async with factory() as session:
        now = clock.now()
        query = (
            select(DocumentQueue)
            .where(col(DocumentQueue.claimed_until).is_(None) | (col(DocumentQueue.claimed_until) < now))
            .order_by(col(DocumentQueue.enqueued_at))
            .limit(limit)
        )
        if is_postgres(session):
            query = query.with_for_update(skip_locked=True)
        rows = list(await session.scalars(query))
        for row in rows:
            row.claimed_until = now + timedelta(seconds=CLAIM_SECONDS)
        taken = [(DocumentKind(row.kind), row.entity_id) for row in rows]
        await session.commit()
    return taken


async def render_pending(factory: async_sessionmaker[AsyncSession], settings: Settings, now: datetime) -> int:
    """Worker tick of the documents queue: render the PDFs of documents that became final, a few
    per tick, each claimed first so that two workers never render the same one; once stored, the
    document leaves the queue. A rendering that fails stays queued and is tried again when its
    claim expires."""
    done = 0
    for kind, entity_id in await claim(factory, RENDERS_PER_TICK):
        try:
            await ensure_document(factory, settings, kind, entity_id, "zh")
        except Exception:
            log.exception("%s %s: rendering failed; it is retried when its claim expires", kind, entity_id)
            continue
        async with factory() as session:
            await session.execute(
                delete(DocumentQueue).where(col(DocumentQueue.kind) == kind, col(DocumentQueue.entity_id) == entity_id)
            )
            await session.commit()
        done += 1
    return done


# --- verification ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Verified:
    document: Document
    summary: dict[str, Any]


async def verify(session: AsyncSession, sha256: str) -> Verified | None:
    """Which document has this SHA-256, and its public summary (no personal data, no addresses)."""
    sha256 = sha256.strip().lower()
    if not rules.is_sha256(sha256):
        return None
    document = await session.scalar(select(Document).where(col(Document.sha256) == sha256))
    if document is None:
        return None
    return Verified(document, await public_summary(session, document))


async def public_summary(session: AsyncSession, document: Document) -> dict[str, Any]:
    if document.kind in (DocumentKind.contract, DocumentKind.agreement):
        if document.kind == DocumentKind.agreement:
            agreement = await session.get(ContractAgreement, document.entity_id)
            assert agreement is not None
            contract = await session.get(Contract, agreement.contract_id)
        else:
            agreement = None
            contract = await session.get(Contract, document.entity_id)
        assert contract is not None
        summary: dict[str, Any] = {
            "contract_number": contract.number,
            "purchase_ref": contract.purchase_ref,
            "title": contract.title,
            "catalog_code": contract.catalog_code,
            "catalog_name": contract.catalog_name,
            "owner_name": contract.owner_name,
            "provider_name": contract.provider_name,
            "amount": contract.amount,
            "service_days": contract.service_days,
            "signed_at": contract.signed_at,
            "due_at": contract.due_at,
        }
        if agreement is not None:
            summary.update(
                {
                    "agreement_number": agreement.number,
                    "new_amount": agreement.new_amount,
                    "extra_days": agreement.extra_days,
                    "agreement_signed_at": agreement.signed_at,
                }
            )
        return summary
    invoice = await session.get(Invoice, document.entity_id)
    assert invoice is not None
    contract = await session.get(Contract, invoice.contract_id)
    assert contract is not None
    credited = await session.get(Invoice, invoice.credits_invoice_id) if invoice.credits_invoice_id else None
    return {
        "invoice_number": invoice.number,
        "kind": invoice.kind,
        "issuer_name": contract.provider_name,
        "recipient_name": contract.owner_name,
        "amount": invoice.amount,
        "issued_at": invoice.issued_at,
        "contract_number": contract.number,
        "credits_invoice_number": credited.number if credited else None,
        "tax_invoice_no": invoice.tax_invoice_no,
    }


async def documents_of(session: AsyncSession, kind: DocumentKind, entity_ids: list[uuid.UUID]) -> list[Document]:
    if not entity_ids:
        return []
    rows = await session.scalars(
        select(Document)
        .where(col(Document.kind) == kind, col(Document.entity_id).in_(entity_ids))
        .order_by(col(Document.lang).desc())
    )
    return list(rows)
