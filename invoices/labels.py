"""Labels for the coded values of the invoices package (``{{ value|label("contract_status") }}``)."""

from __future__ import annotations

from market.terms import N_, register

register(
    "contract_status",
    {
        "draft": N_("Awaiting signatures"),
        "signed": N_("Signed, in service"),
        "delivered": N_("Delivered, awaiting acceptance"),
        "returned": N_("Returned for rework"),
        "accepted": N_("Accepted"),
        "void": N_("Void: not signed by the winner in time"),
    },
)
register(
    "contract_flag",
    {
        "signing_overdue": N_("Not signed within the signing period"),
        "signed_late": N_("Signed after the signing period"),
        "overdue": N_("Service overdue"),
        "delivered_late": N_("Delivered after the due date"),
        "payment_overdue": N_("Payment overdue"),
        "paid_late": N_("Paid late"),
    },
)
register(
    "agreement_status",
    {"proposed": N_("Awaiting signatures"), "signed": N_("In force"), "withdrawn": N_("Withdrawn")},
)
register(
    "delivery_status",
    {"submitted": N_("Awaiting acceptance"), "accepted": N_("Accepted"), "returned": N_("Returned")},
)
register("invoice_kind", {"invoice": N_("Invoice"), "credit_note": N_("Credit note")})
register(
    "invoice_state",
    {
        "open": N_("Unpaid"),
        "partly_paid": N_("Partly paid"),
        "paid": N_("Paid"),
        "credited": N_("Fully credited"),
        "credit_note": N_("Credit note"),
    },
)
register(
    "document_kind",
    {
        "contract": N_("Contract"),
        "agreement": N_("Supplementary agreement"),
        "invoice": N_("Invoice"),
        "credit_note": N_("Credit note"),
    },
)
register("party", {"owner": N_("Party A (purchaser)"), "provider": N_("Party B (service provider)")})
register("lang", {"zh": N_("Chinese"), "en": N_("English")})
register(
    "rating_criterion",
    {
        "quality": N_("Quality of service"),
        "timeliness": N_("Timeliness"),
        "attitude": N_("Attitude"),
        "price": N_("Price"),
        "clarity": N_("Clarity of requirements"),
        "payment": N_("Payment"),
    },
)
