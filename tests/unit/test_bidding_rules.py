"""The selection methods, the verifiable draw and the other pure bidding rules, tested with
hypothesis. The verifier below uses nothing but ``hashlib`` and ``json`` on the published data."""

from __future__ import annotations

import hashlib
import json
import uuid
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bidding import draw, rules, sealing
from bidding.models import Method, PurchaseStatus
from market.errors import InvalidInput

SECRETS = st.binary(min_size=32, max_size=32).map(bytes.hex)
REFS = st.integers(min_value=1, max_value=999_999).map(lambda n: f"CG-2026-{n:06d}")
PRICES = st.integers(min_value=100, max_value=50_000_00).map(lambda cents: Decimal(cents) / 100)


def verify_with_hashlib_only(published: str, ref: str) -> str:
    """What any citizen can run: recompute the draw from the published JSON; return the winner."""
    d = json.loads(published)
    assert hashlib.sha256(bytes.fromhex(d["secret"])).hexdigest() == d["commitment"]
    assert d["candidates"] == sorted(d["candidates"])
    seed = hashlib.sha256((d["secret"] + ":" + ref + ":" + ",".join(d["candidates"])).encode()).hexdigest()
    assert seed == d["seed"]
    index = int(seed, 16) % len(d["candidates"])
    assert index == d["index"]
    return d["candidates"][index]


@st.composite
def pools(draw_, min_size=1, max_size=12, prices=PRICES, scored=False):
    n = draw_(st.integers(min_value=min_size, max_value=max_size))
    digests = draw_(
        st.lists(st.binary(min_size=6, max_size=6), min_size=n, max_size=n, unique=True).map(
            lambda bs: [hashlib.sha256(b).hexdigest() for b in bs]
        )
    )
    # few distinct prices, so that ties happen often
    price_set = draw_(st.lists(prices, min_size=1, max_size=3))
    out = []
    for digest in digests:
        out.append(
            rules.Candidate(
                bid_id=uuid.uuid4(),
                digest=digest,
                price=draw_(st.sampled_from(price_set)),
                quality_mark=draw_(st.sampled_from([60, 80, 100])) if scored else None,
                credit_score=draw_(st.sampled_from([80, 100])) if scored else None,
            )
        )
    return out


@given(pool=pools(), secret=SECRETS, ref=REFS)
def test_random_draw_is_among_all_valid_bids_and_recomputes(pool, secret, ref):
    outcome = rules.select(Method.random, pool, secret=secret, purchase_ref=ref)
    assert outcome.winner in pool
    assert outcome.draw is not None and outcome.draw.candidates == sorted(c.digest for c in pool)
    published = json.dumps(outcome.draw.public())
    assert verify_with_hashlib_only(published, ref) == outcome.winner.digest
    assert draw.verify(ref, json.loads(published), outcome.winner.digest).ok


@given(pool=pools(), secret=SECRETS, ref=REFS)
def test_lowest_price_wins_and_ties_are_drawn(pool, secret, ref):
    outcome = rules.select(Method.lowest_price, pool, secret=secret, purchase_ref=ref)
    lowest = min(c.price for c in pool)
    tied = sorted(c.digest for c in pool if c.price == lowest)
    assert outcome.winner.price == lowest
    assert outcome.draw is not None and outcome.draw.candidates == tied
    assert verify_with_hashlib_only(json.dumps(outcome.draw.public()), ref) == outcome.winner.digest


def spec_score(c: rules.Candidate, lowest: Decimal, w: rules.Weights) -> Decimal:
    """SPEC: price weight × 100 × lowest / price + quality weight × mark + credit weight × credit."""
    exact = (
        Fraction(w.price, 100) * 100 * Fraction(lowest) / Fraction(c.price)
        + Fraction(w.quality, 100) * c.quality_mark
        + Fraction(w.credit, 100) * c.credit_score
    )
    return (Decimal(exact.numerator) / Decimal(exact.denominator)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


WEIGHTS = (
    st.tuples(st.integers(0, 100), st.integers(0, 100))
    .filter(lambda t: t[0] + t[1] <= 100)
    .map(lambda t: rules.Weights(t[0], t[1], 100 - t[0] - t[1]))
)


@given(pool=pools(scored=True), weights=WEIGHTS, secret=SECRETS, ref=REFS)
def test_scored_highest_score_wins_and_ties_are_drawn(pool, weights, secret, ref):
    outcome = rules.select(Method.scored, pool, secret=secret, purchase_ref=ref, weights=weights)
    lowest = min(c.price for c in pool)
    expected = {c.digest: spec_score(c, lowest, weights) for c in pool}
    assert outcome.scores == expected
    best = max(expected.values())
    assert expected[outcome.winner.digest] == best
    assert outcome.draw is not None and outcome.draw.candidates == sorted(d for d, s in expected.items() if s == best)
    assert verify_with_hashlib_only(json.dumps(outcome.draw.public()), ref) == outcome.winner.digest
    # the evaluation that is published carries every score
    assert {row["digest"]: row["score"] for row in outcome.evaluation()} == {d: f"{s:.2f}" for d, s in expected.items()}


@given(pool=pools(), secret=SECRETS, ref=REFS, data=st.data())
def test_direct_needs_a_written_reason_and_a_valid_bid(pool, secret, ref, data):
    chosen = data.draw(st.sampled_from(pool))
    with pytest.raises(InvalidInput) as no_reason:
        rules.select(Method.direct, pool, secret=secret, purchase_ref=ref, chosen_bid_id=chosen.bid_id)
    assert no_reason.value.errors[0].field == "reason"
    with pytest.raises(InvalidInput) as short:
        rules.select(Method.direct, pool, secret=secret, purchase_ref=ref, chosen_bid_id=chosen.bid_id, reason="急")
    assert short.value.errors[0].field == "reason"
    with pytest.raises(InvalidInput) as stranger:
        rules.select(Method.direct, pool, secret=secret, purchase_ref=ref, chosen_bid_id=uuid.uuid4(), reason="x" * 12)
    assert stranger.value.errors[0].field == "bid_id"
    outcome = rules.select(
        Method.direct,
        pool,
        secret=secret,
        purchase_ref=ref,
        chosen_bid_id=chosen.bid_id,
        reason="抢险救灾工程，该单位工期最短",
    )
    assert outcome.winner == chosen and outcome.draw is None and outcome.reason == "抢险救灾工程，该单位工期最短"


@given(pool=pools(), secret=SECRETS, ref=REFS, method=st.sampled_from([Method.random, Method.lowest_price]))
def test_the_owner_cannot_name_the_winner_with_a_rule_method(pool, secret, ref, method):
    with pytest.raises(InvalidInput) as exc:
        rules.select(method, pool, secret=secret, purchase_ref=ref, chosen_bid_id=pool[0].bid_id)
    assert exc.value.errors[0].field == "bid_id"


def test_a_tie_can_go_either_way_and_only_the_secret_decides():
    a, b = hashlib.sha256(b"a").hexdigest(), hashlib.sha256(b"b").hexdigest()
    pool = [rules.Candidate(uuid.uuid4(), a, Decimal(100)), rules.Candidate(uuid.uuid4(), b, Decimal(100))]
    winners = {
        rules.select(Method.lowest_price, pool, secret=f"{n:064x}", purchase_ref="CG-2026-000001").winner.digest
        for n in range(40)
    }
    assert winners == {a, b}
    # the order in which the bids are given does not matter
    first = rules.select(Method.random, pool, secret="ab" * 32, purchase_ref="CG-2026-000001")
    second = rules.select(Method.random, pool[::-1], secret="ab" * 32, purchase_ref="CG-2026-000001")
    assert first.winner.digest == second.winner.digest


def test_draw_formula_by_hand():
    secret = "00" * 31 + "01"
    cands = [hashlib.sha256(b"x").hexdigest(), hashlib.sha256(b"y").hexdigest(), hashlib.sha256(b"z").hexdigest()]
    d = draw.draw(secret, "CG-2026-000042", cands)
    message = f"{secret}:CG-2026-000042:{','.join(sorted(cands))}"
    seed = hashlib.sha256(message.encode()).hexdigest()
    assert d.seed == seed and d.index == int(seed, 16) % 3 and d.candidates == sorted(cands)
    assert d.commitment == hashlib.sha256(bytes.fromhex(secret)).hexdigest()


@settings(max_examples=60)
@given(pool=pools(min_size=2), secret=SECRETS, ref=REFS, data=st.data())
def test_tampering_with_any_part_of_a_proof_is_detected(pool, secret, ref, data):
    outcome = rules.select(Method.random, pool, secret=secret, purchase_ref=ref)
    proof = outcome.draw.public()
    field = data.draw(st.sampled_from(["secret", "commitment", "seed", "index", "candidates", "ref"]))
    forged = dict(proof)
    other_ref = ref
    if field == "secret":
        forged["secret"] = ("0" if proof["secret"][0] != "0" else "1") + proof["secret"][1:]
    elif field == "commitment":
        forged["commitment"] = hashlib.sha256(b"forged").hexdigest()
    elif field == "seed":
        forged["seed"] = hashlib.sha256(b"forged").hexdigest()
    elif field == "index":
        forged["index"] = (proof["index"] + 1) % len(proof["candidates"])
    elif field == "candidates":
        forged["candidates"] = proof["candidates"][:-1]
    else:
        other_ref = ref[:-1] + ("0" if ref[-1] != "0" else "1")
    assert not draw.verify(other_ref, forged, outcome.winner.digest).ok


@given(prices=st.lists(PRICES, min_size=1, max_size=10), ratio=st.sampled_from([Decimal("0.5"), Decimal("0.7")]))
def test_abnormally_low_is_below_ratio_times_the_mean_of_the_others(prices, ratio):
    keyed = dict(enumerate(prices))
    flagged = rules.abnormally_low(keyed, ratio)
    for key, price in keyed.items():
        others = [p for k, p in keyed.items() if k != key]
        expected = bool(others) and Fraction(price) < Fraction(ratio) * Fraction(sum(others)) / len(others)
        assert (key in flagged) == expected


def test_the_state_machine():
    statuses = {s.value for s in PurchaseStatus}
    assert set(rules.TRANSITIONS) == statuses
    reachable, frontier = {"draft"}, ["draft"]
    while frontier:
        for nxt in rules.TRANSITIONS[frontier.pop()]:
            if nxt not in reachable:
                reachable.add(nxt)
                frontier.append(nxt)
    assert reachable == statuses
    for terminal in ("contracted", "cancelled", "failed"):
        assert not rules.TRANSITIONS[terminal]
    assert not rules.can_move("open", "awarded") and not rules.can_move("awarded", "cancelled")
    assert rules.can_move("publicity", "publicity")  # a rerun after an upheld objection
    # an award its winner did not sign, voided by the owner: rerun, the owner selects again, or fail
    assert all(rules.can_move("awarded", s) for s in ("publicity", "evaluating", "failed", "contracted"))
    assert not rules.can_move("contracted", "publicity")


def test_weights_must_add_up_to_100():
    rules.Weights(60, 30, 10).check()
    for bad in ((60, 30, 20), (101, 0, -1)):
        with pytest.raises(InvalidInput):
            rules.Weights(*bad).check()


def test_bid_digest_covers_the_canonical_content():
    from datetime import UTC, datetime

    bid_id, purchase_id, provider_id = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    when = datetime(2026, 3, 2, 1, 2, 3, 456789, tzinfo=UTC)
    content = rules.bid_content(
        bid_id=bid_id,
        purchase_id=purchase_id,
        purchase_ref="CG-2026-000001",
        provider_id=provider_id,
        price=Decimal("12800"),
        service_days=10,
        note="含专家评审",
        received_at=when,
    )
    assert json.loads(content) == {
        "bid_id": str(bid_id),
        "note": "含专家评审",
        "price": "12800.00",
        "provider_id": str(provider_id),
        "purchase_id": str(purchase_id),
        "purchase_ref": "CG-2026-000001",
        "received_at": "2026-03-02T01:02:03.456789+00:00",
        "service_days": 10,
    }
    assert rules.digest_of(content) == hashlib.sha256(content.encode()).hexdigest()


# --- what an upheld objection does; the commitments as published ---------------------------------


@pytest.mark.parametrize(
    ("method", "remaining", "min_bids", "action"),
    [
        (Method.random, 3, 3, rules.UpheldAction.rerun),
        (Method.lowest_price, 2, 3, rules.UpheldAction.fail),
        (Method.scored, 1, 1, rules.UpheldAction.rerun),
        (Method.scored, 0, 1, rules.UpheldAction.fail),
        (Method.direct, 1, 1, rules.UpheldAction.reselect),
        (Method.direct, 0, 1, rules.UpheldAction.fail),
    ],
)
def test_what_an_upheld_objection_will_do(method, remaining, min_bids, action):
    effect = rules.upheld_effect(method, remaining, min_bids)
    assert (effect.action, effect.remaining, effect.min_bids) == (action, remaining, min_bids)


def test_commitments_stay_what_they_were_when_published():
    a, b, c = "a" * 64, "b" * 64, "c" * 64
    # before any selection: the announcement's commitment
    assert rules.commitments([], a, 0) == [rules.Commitment(1, a, None, False)]
    # round 1 drew with it; the rerun's commitment was published with round 1's result
    assert rules.commitments([(1, a)], b, 1) == [rules.Commitment(1, a, None, True), rules.Commitment(2, b, 1, False)]
    # after the rerun: both stay as they were, the next one comes with round 2's result
    assert rules.commitments([(1, a), (2, b)], c, 2) == [
        rules.Commitment(1, a, None, True),
        rules.Commitment(2, b, 1, True),
        rules.Commitment(3, c, 2, False),
    ]
    # no draw may come any more (awarded): only the ones used
    assert rules.commitments([(1, a)], None, 1) == [rules.Commitment(1, a, None, True)]


def test_the_sealed_draw_secret_opens_only_with_its_key_and_purchase():
    secret = draw.new_secret()
    purchase = uuid.uuid4()
    stored = sealing.seal("k" * 40, purchase, secret)
    assert len(stored) <= 64 and secret not in stored and not sealing.CLEAR.match(stored)
    assert sealing.unseal("k" * 40, purchase, stored, draw.commitment(secret)) == secret
    for key, pid in (("j" * 40, purchase), ("k" * 40, uuid.uuid4())):
        with pytest.raises(ValueError):
            sealing.unseal(key, pid, stored, draw.commitment(secret))
    with pytest.raises(ValueError):  # a secret in clear is refused, not used
        sealing.unseal("k" * 40, purchase, secret, draw.commitment(secret))
