"""Words for the oversight rules: the labels of flags, severities and groupings, each red flag's
plain explanation from the data behind it (in the language of the request), and the links that
lead from a flag to the purchase, contract or firm it is about."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from bidding import vocab as _bidding_vocab  # noqa: F401  (registers purchase_method, funding)
from market.i18n import format_date, format_money
from market.i18n import gettext as _
from market.terms import N_, label, register
from oversight import rules

register(
    "oversight_flag",
    {
        rules.SPLIT_PURCHASE: N_("Possibly split purchase"),
        rules.IDENTICAL_PRICES: N_("Identical bid prices"),
        rules.LINKED_BIDDERS: N_("Linked firms bid against each other"),
        rules.SINGLE_BID: N_("Single valid bid"),
        rules.DIRECT_SELECTION: N_("Direct selection"),
        rules.LOW_PRICE: N_("Abnormally low winning price"),
        rules.OBJECTION_UPHELD: N_("Objection upheld"),
        rules.CANCELLED_AFTER_OPENING: N_("Cancelled after the bids were opened"),
        rules.QUALITY_MARKS_DECIDED: N_("Quality marks decided the winner"),
        "signing_overdue": N_("Not signed within the signing period"),
        "signed_late": N_("Signed after the signing period"),
        "overdue": N_("Service overdue"),
        "delivered_late": N_("Delivered after the due date"),
        "payment_overdue": N_("Payment overdue"),
        "paid_late": N_("Paid late"),
        rules.CONCENTRATION: N_("Awards concentrated on one firm"),
        rules.LINKED_FIRMS: N_("Linked firms"),
    },
)
register("flag_severity", {rules.HIGH: N_("High"), rules.MEDIUM: N_("Medium"), rules.LOW: N_("Low")})
register("flag_subject", {"purchase": N_("Purchase"), "firm": N_("Firm")})
register(
    "group_by",
    {
        "owner": N_("Owner"),
        "catalog": N_("Catalog item"),
        "method": N_("Selection method"),
        "funding": N_("Funding"),
        "month": N_("Month of publication"),
    },
)
register(
    "link_kind",
    {
        "practitioner": N_("the practitioner"),
        "legal_rep": N_("the legal representative"),
        "phone": N_("the phone number"),
    },
)

register(
    "former_field",
    {
        "practitioner": N_("Practitioner"),
        "legal_rep": N_("Legal representative"),
        "phone": N_("Phone"),
    },
)


def pct(value: Decimal | None) -> str:
    return "—" if value is None else f"{value}%"


def group_label(row_key: str, group_by: str, snapshot_names: dict[str, str]) -> str:
    """What a spending row is called: the owner's name, the item's code and name, a method's label…"""
    if group_by == "method":
        return label(row_key, "purchase_method")
    if group_by == "funding":
        return label(row_key, "funding")
    return snapshot_names.get(row_key, row_key)


def _money(value: Any) -> str:
    return format_money(Decimal(value)) if value is not None else "—"


def _date(value: Any) -> str:
    return format_date(value) if value is not None else "—"


def _names(firms: list[dict[str, Any]]) -> str:
    return _(", ").join(f["name"] for f in firms)


def _held(text: str, until: str | None) -> str:
    """A linking value, with the last day its firm held it when it no longer does."""
    if not until:
        return text
    return _("%(value)s (until %(date)s)", value=text, date=format_date(date.fromisoformat(until)))


def _link_text(kind: str, a: str, b: str, detail: list[list[Any]]) -> str:
    parts, former = [], False
    for d in detail:
        mine_until, theirs_until = (d[2], d[3]) if len(d) > 3 else (None, None)
        former = former or bool(mine_until or theirs_until)
        mine, theirs = _held(d[0], mine_until), _held(d[1], theirs_until)
        parts.append(mine if mine == theirs else f"{mine} / {theirs}")
    who = _("; ").join(parts)
    if former:
        return _("%(a)s and %(b)s have shared %(what)s %(who)s", a=a, b=b, what=label(kind, "link_kind"), who=who)
    return _("%(a)s and %(b)s share %(what)s %(who)s", a=a, b=b, what=label(kind, "link_kind"), who=who)


def explain(flag: rules.Flag) -> str:
    """The flag in one or two plain sentences with its numbers, in the request's language."""
    d = flag.data
    code = flag.code
    if code == rules.SINGLE_BID:
        if d["bids"] == 1:
            return _("Only one bid was received: the price was not tested by competition.")
        return _(
            "Only one valid bid (of %(bids)s received): the price was not tested by competition.",
            bids=d["bids"],
        )
    if code == rules.DIRECT_SELECTION:
        if d["valid_bids"] == 1:
            text = _(
                "The owner chose the winner instead of the rules; it was the only valid bid. "
                "Written reason: “%(reason)s”",
                reason=d["reason"],
            )
        else:
            text = _(
                "The owner chose the winner instead of the rules, among %(n)s valid bids. Written reason: “%(reason)s”",
                n=d["valid_bids"],
                reason=d["reason"],
            )
        if d.get("above_lowest") is not None:
            text += " " + _(
                "The chosen price %(price)s is %(pct)s above the lowest valid price %(lowest)s.",
                price=_money(d["price"]),
                pct=pct(d["above_lowest"]),
                lowest=_money(d["lowest"]),
            )
        return text
    if code == rules.LOW_PRICE:
        parts = []
        if "of_cap" in d:
            parts.append(
                _(
                    "The winning price %(price)s is %(pct)s of the price cap %(cap)s (flagged below %(ratio)s).",
                    price=_money(d["price"]),
                    pct=pct(d["of_cap"]),
                    cap=_money(d["cap"]),
                    ratio=pct(d["cap_ratio"]),
                )
            )
        if "of_mean" in d:
            parts.append(
                _(
                    "The winning price %(price)s is %(pct)s of the mean of the other valid bids, %(mean)s "
                    "(flagged below %(ratio)s).",
                    price=_money(d["price"]),
                    pct=pct(d["of_mean"]),
                    mean=_money(d["others_mean"]),
                    ratio=pct(d["mean_ratio"]),
                )
            )
        parts.append(_("A price far below cost may mean poor work, later claims or a hidden arrangement."))
        return " ".join(parts)
    if code == rules.SPLIT_PURCHASE:
        return _(
            "%(count)s purchases of the same service by the same owner within %(days)s days, each capped below "
            "%(threshold)s but together capped at %(total)s: %(refs)s. Splitting a purchase keeps it under a "
            "threshold that would require a stricter procedure.",
            count=len(d["purchases"]),
            days=d["window_days"],
            threshold=_money(d["threshold"]),
            total=_money(d["total"]),
            refs=_(", ").join(f"{m['ref']} ({_money(m['cap'])})" for m in d["purchases"]),
        )
    if code == rules.IDENTICAL_PRICES:
        return _(
            "%(count)s firms offered exactly the same price, %(price)s: %(firms)s. Identical prices are a sign of "
            "coordinated bidding.",
            count=len(d["firms"]),
            price=_money(d["price"]),
            firms=_names(d["firms"]),
        )
    if code == rules.LINKED_BIDDERS:
        links = _("; ").join(
            _link_text(link["kind"], link["a"]["name"], link["b"]["name"], link["detail"]) for link in d["links"]
        )
        return _(
            "Firms tied to each other bid on this purchase: %(links)s. Tied firms may not really compete.",
            links=links,
        )
    if code == rules.QUALITY_MARKS_DECIDED:
        return _(
            "The winning price %(price)s is %(pct)s above the lowest valid price %(lowest)s; the owner's quality "
            "marks (weight %(weight)s%%) decided it: %(winner_mark)s for the winner, %(lowest_mark)s for the lowest "
            "price. On price and credit alone another bid would have won. Read the marks' written reasons in the "
            "published result.",
            price=_money(d["price"]),
            pct=pct(d["above_lowest"]),
            lowest=_money(d["lowest"]),
            weight=d["weight_quality"],
            winner_mark=d["winner_mark"],
            lowest_mark=d["lowest_mark"],
        )
    if code == rules.OBJECTION_UPHELD:
        return _(
            "The operator upheld an objection on %(date)s: “%(decision)s” The objection said: “%(reason)s”",
            date=_date(d["decided_at"]),
            decision=d["decision"],
            reason=d["reason"],
        )
    if code == rules.CANCELLED_AFTER_OPENING:
        if d["this_round"]:
            return _(
                "The owner cancelled this purchase after the bids were opened (names and prices seen): it asked "
                "on %(requested)s, “%(reason)s”; the operator approved on %(decided)s: “%(decision)s”",
                requested=_date(d["requested_at"]),
                reason=d["reason"],
                decided=_date(d["decided_at"]),
                decision=d["decision"],
            )
        return _(
            "This purchase republishes %(ref)s, which the owner cancelled after its bids were opened (asked on "
            "%(requested)s, “%(reason)s”; approved on %(decided)s). Check whether the firm that wins now is the "
            "one the owner saw then.",
            ref=d["cancelled"]["ref"],
            requested=_date(d["requested_at"]),
            reason=d["reason"],
            decided=_date(d["decided_at"]),
        )
    number = d.get("contract", {}).get("number", "")
    if code == "signing_overdue":
        return _(
            "Contract %(number)s was to be signed by both parties by %(date)s and is not.",
            number=number,
            date=_date(d["sign_by"]),
        )
    if code == "signed_late":
        return _(
            "Contract %(number)s was signed on %(signed)s, after the signing period ended on %(date)s.",
            number=number,
            signed=_date(d["signed_at"]),
            date=_date(d["sign_by"]),
        )
    if code == "overdue":
        return _(
            "The service of contract %(number)s was due on %(date)s and has not been accepted.",
            number=number,
            date=_date(d["due_at"]),
        )
    if code == "delivered_late":
        return _(
            "The service of contract %(number)s was due on %(date)s; the accepted deliverables came later.",
            number=number,
            date=_date(d["due_at"]),
        )
    if code == "payment_overdue":
        return _(
            "Contract %(number)s was accepted on %(accepted)s; %(outstanding)s of the %(invoiced)s invoiced (net of "
            "credit notes) is still unpaid after the payment deadline %(deadline)s.",
            number=number,
            accepted=_date(d["accepted_at"]),
            outstanding=_money(d["outstanding"]),
            invoiced=_money(d["invoiced"]),
            deadline=_date(d["payment_deadline"]),
        )
    if code == "paid_late":
        return _(
            "Contract %(number)s was paid in full on %(paid)s, after the payment deadline %(deadline)s "
            "(%(days)s calendar days after acceptance).",
            number=number,
            paid=_date(d["paid_on"]),
            deadline=_date(d["payment_deadline"]),
            days=d["days_to_payment"] if d.get("days_to_payment") is not None else "—",
        )
    if code == rules.CONCENTRATION:
        return _(
            "%(firm)s won %(wins)s of the %(awards)s awards of %(owner)s: %(amount)s of %(total)s (%(share)s; "
            "flagged from %(threshold)s).",
            firm=d["firm"]["name"],
            wins=d["wins"],
            awards=d["awards"],
            owner=d["owner"]["name"],
            amount=_money(d["amount"]),
            total=_money(d["owner_total"]),
            share=pct(d["share"]),
            threshold=pct(d["threshold"]),
        )
    if code == rules.LINKED_FIRMS:
        parts = []
        together = False
        for link in d["links"]:
            text = _link_text(link["kind"], d["firm"]["name"], link["other"]["name"], link["detail"])
            if link["bid_together"]:
                together = True
                refs = _(", ").join(m["ref"] for m in link["bid_together"])
                text += _(" (they bid together on %(refs)s)", refs=refs)
            parts.append(text)
        if together:
            return _(
                "%(links)s. Tied firms bidding on the same purchase may not really compete.", links=_("; ").join(parts)
            )
        return _("%(links)s. They have not bid on the same purchase so far.", links=_("; ").join(parts))
    return label(code, "oversight_flag")  # pragma: no cover - every code is explained above


def firm_url(firm_id: object) -> str:
    """The finance bureau's page of a firm (every firm has one, also when it is not in the public directory)."""
    return f"/finance/firms/{firm_id}"


def subject_url(flag: rules.Flag) -> str:
    if flag.subject == "firm":
        return firm_url(flag.subject_id)
    return f"/workspace/purchases/{flag.subject_id}"


def links(flag: rules.Flag) -> list[tuple[str, str]]:
    """Where to look: the purchase or firm, the contract, the other purchases and firms involved."""
    d = flag.data
    found: list[tuple[str, str]] = []
    seen: set[str] = {subject_url(flag)}

    def add(text: str, url: str) -> None:
        if url not in seen:
            seen.add(url)
            found.append((text, url))

    if "contract" in d:
        add(_("Contract %(number)s", number=d["contract"]["number"]), f"/workspace/contracts/{d['contract']['id']}")
    for m in d.get("purchases", []):
        add(m["ref"], f"/workspace/purchases/{m['id']}")
    for key in ("winner", "firm"):
        if isinstance(d.get(key), dict):
            add(d[key]["name"], firm_url(d[key]["id"]))
    for f in d.get("firms", []):
        add(f["name"], firm_url(f["id"]))
    for link in d.get("links", []):
        for key in ("a", "b", "other"):
            if key in link:
                add(link[key]["name"], firm_url(link[key]["id"]))
        for m in link.get("bid_together", []):
            add(m["ref"], f"/workspace/purchases/{m['id']}")
    return found
