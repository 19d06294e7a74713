"""The commitment letters (承诺书) a registering organisation accepts.

The provider's letter includes the declaration that the firm is separate from government in
people, money and assets (人财物脱钩). The accepted version is recorded in the audit event of the
registration, so that a later edit of the wording does not change what an organisation signed.
"""

from __future__ import annotations

from market.terms import N_

VERSION = "2026-2"  # 2026-2: the payment term in calendar days

PROVIDER_LETTER: tuple[str, ...] = (
    N_("The information and documents we submit are true, complete and valid; we answer for any falsehood."),
    N_(
        "Separation from government (人财物脱钩): our firm has no affiliation with any administrative body or public "
        "institution in people, money or assets. No civil servant or staff member of such a body holds a post or "
        "shares in our firm, and no public funds or assets are used by it."
    ),
    N_(
        "We bid only for services our approved qualifications cover, at prices within the published cap, and we "
        "do not collude with other bidders, lend our qualifications or subcontract the service away."
    ),
    N_(
        "We deliver within the service time limit of the catalog and charge no more than the fee standard; we sign, "
        "deliver and invoice on this platform and not outside it."
    ),
    N_("We accept the platform's credit evaluation and its sanctions, up to suspension and blacklisting."),
)

OWNER_LETTER: tuple[str, ...] = (
    N_("The information and documents we submit are true, complete and valid; we answer for any falsehood."),
    N_(
        "We buy the intermediary services that our projects require on this platform, by its published rules. We do "
        "not name, recommend or hint at a provider, and we do not split a purchase to avoid a threshold."
    ),
    N_(
        "We sign, accept and pay on this platform, and pay within 30 calendar days of acceptance as the "
        "Regulations on Ensuring Payments to Small and Medium-sized Enterprises require (a contract may agree a "
        "longer term, never beyond 60 days)."
    ),
    N_("We rate every provider truthfully after acceptance and accept the oversight of the finance bureau."),
)


def letter(kind: str) -> tuple[str, ...]:
    return PROVIDER_LETTER if kind == "provider" else OWNER_LETTER
