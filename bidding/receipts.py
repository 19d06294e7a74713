"""The printable receipt of a sealed bid (SPEC §5 "Bidders know their outcome"): a PDF with the
purchase's reference, the bidder, the moment the bid was received, its SHA-256 digest and how to
check it, rendered on demand by the platform's PDF renderer (:mod:`market.pdf`) from
``bidding/pdf/receipt.html``.

Sealed like the bid: only the bidder's own organisation gets it; for anyone else (the owner,
the operator and the finance bureau included, before and after the opening) the bid does not
exist — the same 404 as an unknown id. The receipt is deterministic (its date is the receive
time, its identifier the bid's), so printing it twice gives the same file.
"""

from __future__ import annotations

import uuid
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from bidding import bids as bid_service
from bidding.models import Purchase
from listings.models import CatalogItem
from market import i18n, pdf
from market.actor import Actor
from market.identity.models import Organization
from market.settings import Settings

renderer = pdf.Renderer(Path(__file__).resolve().parent / "pdf")
LANGS = ("zh", "en")


async def receipt_pdf(
    session: AsyncSession, actor: Actor, settings: Settings, bid_id: uuid.UUID, lang: str | None = None
) -> tuple[bytes, str]:
    """The receipt's PDF and its file name, for the bidder only (404 for anyone else)."""
    bid = await bid_service.own_bid(session, actor, bid_id)
    p = await session.get(Purchase, bid.purchase_id)
    bidder = await session.get(Organization, bid.provider_id)
    owner = await session.get(Organization, p.owner_id) if p is not None else None
    item = await session.get(CatalogItem, p.catalog_item_id) if p is not None else None
    assert p is not None and bidder is not None
    lang = lang if lang in LANGS else i18n.get_locale()
    base = settings.base_url.rstrip("/")
    context = {
        "bid": bid,
        "p": p,
        "bidder": bidder,
        "owner_name": owner.name if owner else "",
        "item_name": item.name if item else "",
        "document_url": f"{base}/api/v1/bids/{bid.id}/document",
        "announcement_url": f"{base}/purchases/{p.id}",
    }
    data = await renderer.render("receipt.html", context, lang, identifier=f"bid-receipt/{bid.id}/{lang}")
    return data, f"receipt-{p.ref or 'draft'}-{bid.digest[:12]}.pdf"
