"""The frozen-row guards of the database, as the migrations have built them up to the head revision.

For every table that a ``frozen_when`` trigger guards, the columns a frozen row may not change and
the columns deliberately allowed to change. Every column of a guarded table is in exactly one of
the two lists: a migration that adds a column to one of these tables decides which, writes it
here, and re-creates the table's trigger when the column is to be frozen (the old trigger names
its frozen columns explicitly, so it does not know the new one). ``tests/integration/
test_migrations.py`` holds the models and the database to this declaration: a column in neither
list, a frozen column the database lets change or an allowed one it refuses fails the tests.

Plain data, importing nothing of the application: the migrations never read it (each keeps the
lists it was written with), the tests do.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Guard:
    table: str
    condition: str  # when a row is frozen: SQL on the row's current values, written with OLD.
    message: str  # what the database answers when it refuses (after "<table>: ")
    frozen: tuple[str, ...]
    allowed: tuple[str, ...] = ()
    whole_row: bool = False  # the trigger refuses every UPDATE of a frozen row (``EVERY_COLUMN``)
    revision: str = ""  # the migration that created the trigger as it is now


GUARDS: tuple[Guard, ...] = (
    Guard(
        table="purchases",
        # from the opening on; while open a second trigger (purchases_open_terms_update, 0017) keeps
        # every term but the four a change notice amends (bidding.notices: description, budget_cap,
        # bid_deadline, service_days), each change recorded in purchase_change_notices
        condition="OLD.status NOT IN ('draft', 'open')",
        message="a published purchase is frozen",
        # the published terms
        frozen=(
            "id",
            "ref",
            "round",
            "previous_id",
            "owner_id",
            "created_by",
            "catalog_item_id",
            "catalog_code",
            "title",
            "description",
            "budget_cap",
            "price_floor",
            "funding",
            "investment_code",
            "method",
            "bid_deadline",
            "service_days",
            "min_bids",
            "weight_price",
            "weight_quality",
            "weight_credit",
            "min_grade",
            "published_at",
            "created_at",
        ),
        # its progress through the procedure (the draw commitment is renewed for a re-draw)
        allowed=(
            "status",
            "draw_commitment",
            "draw_secret",
            "opened_at",
            "explanation_due_at",
            "selected_at",
            "publicity_ends_at",
            "awarded_at",
            "contracted_at",
            "closed_at",
            "cancel_reason",
            "fail_reason",
            "contract_id",
            "next_check_at",
            "updated_at",
            # the open data feed's change sequence (bidding.changes, migration 0019)
            "change_seq",
            # set once when the quality marks are locked (its own trigger keeps it, migration 0009)
            "marks_locked_at",
            "marks_locked_by",
        ),
        revision="0018_credit",
    ),
    Guard(
        table="bids",
        condition="1 = 1",
        message="a sealed bid never changes",
        # what the bid's digest covers
        frozen=(
            "id",
            "purchase_id",
            "provider_id",
            "submitted_by",
            "price",
            "service_days",
            "note",
            "received_at",
            "digest",
        ),
        # withdrawal and evaluation
        allowed=(
            "status",
            "withdrawn_at",
            "valid",
            "invalid_reason",
            "abnormally_low",
            "explanation",
            "explained_at",
            "excluded",
            "quality_mark",
            "credit_score",
            "credit_grade",
        ),
        revision="0003",
    ),
    Guard(
        table="selections",
        condition="1 = 1",
        message="a published selection never changes",
        # the published result and its draw proof
        frozen=(
            "id",
            "purchase_id",
            "round",
            "method",
            "winner_bid_id",
            "price",
            "reason",
            "evaluation",
            "draw_commitment",
            "draw_secret",
            "draw_seed",
            "draw_candidates",
            "draw_index",
            "selected_at",
            "selected_by",
            "publicity_ends_at",
        ),
        # overturned by an upheld objection; voided by the owner (with its time and reason) when the
        # winner did not sign; a second trigger (selections_void_*, 0018_walkaway) keeps a voided row whole
        allowed=("status", "voided_at", "void_reason"),
        revision="0018_walkaway",
    ),
    Guard(
        table="contracts",
        condition="OLD.signed_at IS NOT NULL",
        message="a contract signed by both parties is immutable; change it by a supplementary agreement",
        # the terms, the parties and the signatures
        frozen=(
            "id",
            "number",
            "purchase_id",
            "purchase_ref",
            "bid_id",
            "title",
            "scope",
            "catalog_code",
            "catalog_name",
            "method",
            "draw_seed",
            "awarded_at",
            "owner_id",
            "owner_name",
            "owner_uscc",
            "owner_address",
            "owner_legal_rep",
            "provider_id",
            "provider_name",
            "provider_uscc",
            "provider_address",
            "provider_legal_rep",
            "amount",
            "amount_in_words",
            "service_days",
            "payment_days",
            "template",
            "drafted_at",
            "sign_by",
            "owner_signed_at",
            "owner_signed_by",
            "owner_signed_ip",
            "provider_signed_at",
            "provider_signed_by",
            "provider_signed_ip",
            "signed_at",
            "due_at",
            # a signed contract is never voided (0018_walkaway; a second trigger, contracts_void_*,
            # keeps a void contract whole)
            "voided_at",
            "voided_by",
            "void_reason",
        ),
        # its progress (invoices.models.CONTRACT_PROGRESS_COLUMNS)
        allowed=(
            "status",
            "amount_current",
            "due_at_current",
            "invoiced_total",
            "paid_total",
            "delivered_at",
            "accepted_at",
            "paid_on",
            "paid_recorded_at",
            "payment_due_at",
            "updated_at",
        ),
        revision="0018_walkaway",
    ),
    Guard(
        table="contract_agreements",
        condition="OLD.signed_at IS NOT NULL OR OLD.withdrawn_at IS NOT NULL",
        message="a signed or withdrawn supplementary agreement is immutable",
        frozen=(
            "id",
            "contract_id",
            "seq",
            "number",
            "text",
            "new_amount",
            "extra_days",
            "status",
            "proposed_at",
            "proposed_by",
            "proposed_by_org",
            "owner_signed_at",
            "owner_signed_by",
            "owner_signed_ip",
            "provider_signed_at",
            "provider_signed_by",
            "provider_signed_ip",
            "signed_at",
            "withdrawn_at",
            "withdrawn_by",
            "withdraw_reason",
        ),
        whole_row=True,
        revision="0004",
    ),
    Guard(
        table="deliveries",
        condition="OLD.decided_at IS NOT NULL",
        message="a decided delivery is immutable",
        frozen=(
            "id",
            "contract_id",
            "seq",
            "note",
            "submitted_at",
            "submitted_by",
            "status",
            "decided_at",
            "decided_by",
            "reason",
        ),
        whole_row=True,
        revision="0004",
    ),
)

GUARDS = (
    *GUARDS,
    Guard(
        table="quality_marks",
        condition="OLD.locked_at IS NOT NULL",
        message="locked quality marks never change",
        frozen=("id", "bid_id", "purchase_id", "mark", "reason", "marked_at", "marked_by", "locked_at"),
        whole_row=True,
        revision="0012",
    ),
)

GUARDS = (
    *GUARDS,
    Guard(
        table="bid_drafts",
        condition="OLD.status <> 'draft'",
        message="a submitted or discarded bid draft never changes",
        frozen=(
            "id",
            "purchase_id",
            "provider_id",
            "prepared_by",
            "price",
            "service_days",
            "note",
            "status",
            "created_at",
            "updated_at",
            "bid_id",
            "submitted_at",
            "submitted_by",
        ),
        whole_row=True,
        revision="0018_bid_drafts",
    ),
    Guard(
        table="credit_facts",
        condition="1 = 1",
        message="a credit fact never changes but whether it counts",
        frozen=("id", "provider_id", "kind", "occurred_at", "value", "source_id", "link", "note", "created_at"),
        # violation points stop counting under appeal and count again (or never) once it is decided
        allowed=("counts",),
        revision="0018_credit",
    ),
)

GUARDS = (
    *GUARDS,
    Guard(
        table="violations",
        condition="1 = 1",
        message="a recorded violation never changes but its status",
        # what the operator recorded
        frozen=(
            "id",
            "provider_id",
            "category",
            "points",
            "reason",
            "evidence_sha256",
            "evidence_filename",
            "recorded_at",
            "recorded_by",
            "appeal_due_at",
        ),
        # its way through the appeal
        allowed=("status", "closed_at"),
        revision="0018_sanctions",
    ),
    Guard(
        table="violation_appeals",
        condition="OLD.decided_at IS NOT NULL",
        message="a decided appeal never changes",
        frozen=("id", "violation_id", "text", "filed_at", "filed_by", "upheld", "decision", "decided_at", "decided_by"),
        whole_row=True,
        revision="0018_sanctions",
    ),
)

GUARDED: dict[str, Guard] = {guard.table: guard for guard in GUARDS}
