"""Labels of the listings package's coded values (``{{ value|label("fee_type") }}`` in templates)."""

from __future__ import annotations

from listings.violation_rules import CATEGORIES
from market.terms import N_, register

register(
    "fee_type",
    {
        "government_priced": N_("Government-priced"),
        "government_guided": N_("Government-guided price"),
        "market_regulated": N_("Market-regulated price"),
    },
)
register(
    "item_status",
    {
        "retained": N_("Retained"),
        "cancelled": N_("Cancelled"),
        "adjusted": N_("Adjusted"),
    },
)
register(
    "review_status",
    {
        "pending": N_("Pending review"),
        "approved": N_("Approved"),
        "rejected": N_("Rejected"),
    },
)
register(
    "org_decision",
    {
        "registered": N_("Registered"),
        "approved": N_("Approved"),
        "rejected": N_("Rejected"),
        "suspended": N_("Suspended"),
        "blacklisted": N_("Blacklisted"),
        "reinstated": N_("Reinstated"),
        "resubmitted": N_("Resubmitted for review"),
        "suspension_ended": N_("Suspension ended"),
        "profile_updated": N_("Profile corrected"),
        "licence_replaced": N_("Business licence replaced"),
    },
)
register(
    "violation_status",
    {
        "appealable": N_("Open to appeal (not counting yet)"),
        "under_appeal": N_("Under appeal (not counting)"),
        "upheld": N_("Appeal upheld: points removed"),
        "dismissed": N_("Appeal dismissed: points count"),
        "final": N_("Final: points count"),
    },
)
register("violation_category", {c.code.value: c.label for c in CATEGORIES})
register(
    "sanction_period",
    {
        "suspended": N_("Suspended"),
        "blacklisted": N_("Blacklisted"),
    },
)
register(
    "credit_fact_kind",
    {
        "rating": N_("Owner's rating"),
        "delivery_late": N_("Delivered after the due date"),
        "delivery_returned": N_("Delivery returned for correction"),
        "objection_upheld": N_("Objection upheld against its win"),
        "refused_to_sign": N_("Did not sign after winning"),
        "abnormally_low_unexplained": N_("Abnormally low bid not explained in time"),
        "violation": N_("Violation points"),
    },
)
register(
    "credit_cause",
    {
        "fact_recorded": N_("A new fact"),
        "counts_changed": N_("A fact counted again or was set aside"),
        "recomputed": N_("Time: a fact aged out or the platform mean moved"),
    },
)
