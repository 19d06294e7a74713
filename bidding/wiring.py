"""What the composition root (``market.app.wire``) hooks up for the bidding package."""

from __future__ import annotations

from bidding import services
from market import worker
from market.terms import N_
from market.web.shell import WORKSPACE_LINKS

LINKS: list[tuple[str, str, str]] = [
    ("provider", "/workspace/bidding/open", N_("Open purchases for my firm")),
    ("provider", "/workspace/bids", N_("My bids and receipts")),
    ("owner", "/workspace/purchases", N_("My purchases")),
    ("owner", "/workspace/purchases/new", N_("Draft a new purchase")),
    ("admin", "/admin/objections", N_("Objections to decide")),
    ("admin", "/purchases", N_("All announcements")),
    ("finance", "/purchases?method=direct", N_("Direct selections")),
    ("finance", "/admin/objections", N_("Objections")),
]


def wire() -> None:
    worker.register("bidding", services.tick)
    for link in LINKS:
        if link not in WORKSPACE_LINKS:
            WORKSPACE_LINKS.append(link)
