"""Labels of the bidding package's coded values (``{{ value|label("purchase_status") }}``)."""

from __future__ import annotations

from market.terms import N_, register

register(
    "purchase_status",
    {
        "draft": N_("Draft"),
        "open": N_("Open for bids"),
        "closing": N_("Bidding closed, awaiting opening"),
        "evaluating": N_("Evaluating"),
        "publicity": N_("Result in publicity"),
        "awarded": N_("Awarded"),
        "contracted": N_("Contracted"),
        "cancelled": N_("Cancelled"),
        "failed": N_("Failed (too few bids)"),
    },
)
register(
    "purchase_method",
    {
        "random": N_("Random draw"),
        "lowest_price": N_("Lowest price"),
        "scored": N_("Scored evaluation"),
        "direct": N_("Direct selection"),
    },
)
register("funding", {"fiscal": N_("Fiscal funds"), "own": N_("Own funds"), "mixed": N_("Mixed funds")})
register(
    "bid_status",
    {"active": N_("Current"), "replaced": N_("Replaced"), "withdrawn": N_("Withdrawn")},
)
register(
    "bid_outcome",
    {
        "won": N_("Won"),
        "not_won": N_("Not won"),
        "failed": N_("No award (failed)"),
        "withdrawn": N_("Withdrawn"),
        "cancelled": N_("Purchase cancelled"),
        "pending": N_("Awaiting the result"),
    },
)
register(
    "cancellation_status",
    {
        "pending": N_("Awaiting the operator's decision"),
        "approved": N_("Approved by the operator"),
        "refused": N_("Refused by the operator"),
    },
)
register(
    "invalid_reason",
    {
        "avoided": N_("The owner must avoid this firm"),
        "affiliated": N_("Affiliated with the owner"),
        "not_qualified": N_("No valid qualification at the deadline"),
        "price_out_of_range": N_("Price outside floor and cap"),
        "service_days": N_("Service days above the purchase's"),
        "abnormally_low_unexplained": N_("Abnormally low price not explained in time"),
        "not_confirmed_after_change": N_("Not confirmed or replaced after a change notice"),
        "below_min_grade": N_("Credit grade below the purchase's minimum at the deadline"),
    },
)
register(
    "fail_reason",
    {
        "too_few_valid_bids": N_("Fewer valid bids than the minimum"),
        "objection_upheld": N_("Too few bids left after an upheld objection"),
        "award_voided": N_("Too few bids left after an award its winner did not sign was voided"),
    },
)
register(
    "objection_status",
    {
        "pending": N_("Pending"),
        "upheld": N_("Upheld"),
        "dismissed": N_("Dismissed"),
        "superseded": N_("Superseded"),
    },
)
register(
    "selection_status",
    {"current": N_("Current"), "overturned": N_("Overturned"), "voided": N_("Award voided (winner did not sign)")},
)
register(
    "draw_check",
    {
        "secret_format": N_("The secret is 32 bytes in hex"),
        "candidates_format": N_("The candidates are SHA-256 digests"),
        "commitment": N_("SHA-256 of the secret equals the commitment published before the bids"),
        "candidates_sorted": N_("The candidates are sorted and distinct"),
        "seed": N_("The seed recomputes"),
        "index": N_("The index is the seed modulo the number of candidates"),
        "winner": N_("The winner is the candidate at that index"),
    },
)
