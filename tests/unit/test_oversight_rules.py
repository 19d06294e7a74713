"""The finance bureau's pure rules: spending, competition, timeliness and the red-flag detectors.
The split-purchase and concentration detectors are checked with hypothesis against brute force."""

from __future__ import annotations

import itertools
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from market import i18n
from oversight import explain, rules
from oversight.rules import (
    AwardItem,
    BidFact,
    CancellationFact,
    ContractFact,
    FirmFact,
    FormerFact,
    ObjectionFact,
    PractitionerFact,
    PurchaseFact,
    SplitItem,
    Thresholds,
)

T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)  # 09:00 in China
OWNERS = [uuid.UUID(int=i) for i in range(1, 4)]
FIRMS = [uuid.UUID(int=100 + i) for i in range(1, 7)]
CODES = ["YLZJ-001", "YLZJ-002"]


def purchase(**changes) -> PurchaseFact:
    data = dict(
        id=uuid.uuid4(),
        ref="CG-2026-000001",
        title="城南片区地质灾害危险性评估",
        owner_id=OWNERS[0],
        owner_name="云岭县自然资源局",
        catalog_code=CODES[0],
        catalog_name="地质灾害危险性评估",
        method="random",
        funding="fiscal",
        status="open",
        cap=Decimal("50000.00"),
        published_at=T0,
        deadline=T0 + timedelta(days=5),
    )
    data.update(changes)
    return PurchaseFact(**data)


def awarded(price: str, *, winner=FIRMS[0], bids=None, **changes) -> PurchaseFact:
    bids = bids if bids is not None else (BidFact(winner, Decimal(price), True),)
    changes.setdefault("status", "awarded")
    return purchase(winner_id=winner, price=Decimal(price), bids=tuple(bids), **changes)


# --- spending, competition, timeliness ------------------------------------------------------------


def test_spending_sums_caps_awards_and_savings_per_group():
    rows = [
        awarded("40000.00", owner_id=OWNERS[0], owner_name="甲", cap=Decimal("50000.00")),
        awarded("27000.00", owner_id=OWNERS[0], owner_name="甲", cap=Decimal("30000.00")),
        purchase(owner_id=OWNERS[1], owner_name="乙"),
        purchase(owner_id=OWNERS[1], owner_name="乙", status="cancelled"),
    ]
    by_owner = {r.key: r for r in rules.spending(rows, "owner")}
    first = by_owner[str(OWNERS[0])]
    assert (first.purchases, first.awarded, first.cap_awarded, first.awarded_amount) == (
        2,
        2,
        Decimal("80000.00"),
        Decimal("67000.00"),
    )
    assert first.savings == Decimal("13000.00") and first.savings_pct == Decimal("16.3")
    second = by_owner[str(OWNERS[1])]
    assert (second.purchases, second.in_progress, second.cancelled, second.awarded) == (2, 1, 1, 0)
    assert second.savings_pct is None  # nothing awarded: no percentage, not 0 %
    total = rules.total(rows)
    assert total.awarded_amount == sum((r.awarded_amount for r in by_owner.values()), Decimal(0))
    with pytest.raises(ValueError):
        rules.spending(rows, "colour")


def test_months_are_counted_in_china_time():
    late_march_utc = datetime(2026, 3, 31, 17, 30, tzinfo=UTC)  # 1 April 01:30 in China
    rows = rules.spending([purchase(published_at=late_march_utc), purchase(published_at=T0)], "month")
    assert [r.key for r in rows] == ["2026-03", "2026-04"]


def test_contracted_invoiced_and_paid_come_from_the_contract():
    c = ContractFact(
        id=uuid.uuid4(),
        number="HT-2026-000001",
        status="accepted",
        amount=Decimal("42000.00"),
        sign_by=T0,
        signed_at=T0,
        invoiced=Decimal("42000.00"),
        paid=Decimal("21000.00"),
    )
    row = rules.total([awarded("40000.00", contract=c), awarded("10000.00", contract=None)])
    assert (row.contracted, row.contracted_amount, row.invoiced, row.paid) == (
        1,
        Decimal("42000.00"),
        Decimal("42000.00"),
        Decimal("21000.00"),
    )


def test_competition_counts_only_opened_bids():
    rows = [
        purchase(status="open"),  # sealed: bids unknown, not counted at all
        purchase(
            status="evaluating",
            bids=(BidFact(FIRMS[0], Decimal("100"), True), BidFact(FIRMS[1], Decimal("90"), False)),
        ),
        awarded("100.00"),  # one valid bid
        awarded(
            "120.00",
            method="direct",
            bids=(BidFact(FIRMS[0], Decimal("120"), True), BidFact(FIRMS[1], Decimal("100"), True)),
        ),
        purchase(status="failed", bids=()),
    ]
    c = rules.competition(rows)
    assert (c.opened, c.bids, c.valid_bids) == (4, 5, 4)
    assert (c.single_bid, c.no_valid_bid) == (2, 1)
    assert c.single_bid_share == Decimal("50.0") and c.bids_per_purchase == Decimal("1.2")
    assert (c.selected, c.direct, c.direct_share) == (2, 1, Decimal("50.0"))
    assert c.direct_amount == Decimal("120.00") and c.selected_amount == Decimal("220.00")
    assert rules.competition([purchase()]).single_bid_share is None


def test_timeliness_reads_the_contract_flags():
    def contract(*flags, days=None, paid_on=None):
        return ContractFact(
            id=uuid.uuid4(),
            number="HT",
            status="accepted",
            amount=Decimal(1),
            sign_by=T0,
            signed_at=T0,
            flags=flags,
            days_to_payment=days,
            paid_on=paid_on,
        )

    rows = [
        awarded("1", contract=contract("paid_late", days=40, paid_on=date(2026, 5, 1))),
        awarded("1", contract=contract(days=10, paid_on=date(2026, 4, 1))),
        awarded("1", contract=contract("overdue", "signed_late")),
    ]
    t = rules.timeliness(rows)
    assert (t.contracts, t.paid_in_full, t.paid_late, t.overdue, t.signed_late) == (3, 2, 1, 1, 1)
    assert t.average_days_to_payment == Decimal("25.0") and t.paid_on_time_share == Decimal("50.0")


# --- splitting ----------------------------------------------------------------------------------------

THRESHOLD = Decimal("100000")
WINDOW = timedelta(days=30)


@st.composite
def split_items(draw_):
    n = draw_(st.integers(min_value=0, max_value=8))
    items = []
    for i in range(n):
        items.append(
            SplitItem(
                id=uuid.UUID(int=i + 1),
                owner_id=draw_(st.sampled_from(OWNERS[:2])),
                catalog_code=draw_(st.sampled_from(CODES)),
                cap=Decimal(draw_(st.integers(min_value=5, max_value=130))) * 1000,
                published_at=T0 + timedelta(days=draw_(st.integers(min_value=0, max_value=80))),
            )
        )
    return items


def qualifies(members) -> bool:
    return (
        len(members) >= 2
        and len({(m.owner_id, m.catalog_code) for m in members}) == 1
        and all(m.cap < THRESHOLD for m in members)
        and sum(m.cap for m in members) > THRESHOLD
        and max(m.published_at for m in members) - min(m.published_at for m in members) <= WINDOW
    )


@settings(max_examples=300)
@given(items=split_items())
def test_split_groups_are_sound_complete_and_maximal(items):
    groups = rules.split_groups(items, THRESHOLD, WINDOW)
    # sound: every group is a split by the definition
    assert all(qualifies(g) for g in groups)
    # maximal: no group lies inside another
    as_sets = [frozenset(m.id for m in g) for g in groups]
    assert not any(a < b for a in as_sets for b in as_sets)
    # complete: every set of purchases that is a split lies inside one reported group
    for size in range(2, len(items) + 1):
        for subset in itertools.combinations(items, size):
            if qualifies(subset):
                ids = {m.id for m in subset}
                assert any(ids <= g for g in as_sets), (subset, groups)


def test_split_example_and_what_is_not_one():
    def item(n, cap, day, owner=OWNERS[0], code=CODES[0]):
        return SplitItem(uuid.UUID(int=n), owner, code, Decimal(cap), T0 + timedelta(days=day))

    three = [item(1, 40000, 0), item(2, 35000, 9), item(3, 30000, 20)]
    (group,) = rules.split_groups(three, THRESHOLD, WINDOW)
    assert [m.id.int for m in group] == [1, 2, 3]
    # together under the threshold, spread out, other owners or items, or one above the threshold: no split
    assert rules.split_groups(three[:2], THRESHOLD, WINDOW) == []
    assert rules.split_groups([item(1, 60000, 0), item(2, 60000, 31)], THRESHOLD, WINDOW) == []
    assert rules.split_groups([item(1, 60000, 0), item(2, 60000, 1, owner=OWNERS[1])], THRESHOLD, WINDOW) == []
    assert rules.split_groups([item(1, 60000, 0), item(2, 60000, 1, code=CODES[1])], THRESHOLD, WINDOW) == []
    assert rules.split_groups([item(1, 100000, 0), item(2, 60000, 1)], THRESHOLD, WINDOW) == []


def test_the_accelerator_shrinks_the_split_window():
    assert Thresholds(split_window_days=30, accelerator=86400).split_window == timedelta(seconds=30)


# --- concentration -----------------------------------------------------------------------------------


@st.composite
def award_lists(draw_):
    n = draw_(st.integers(min_value=0, max_value=12))
    return [
        AwardItem(
            draw_(st.sampled_from(OWNERS)),
            draw_(st.sampled_from(FIRMS[:4])),
            Decimal(draw_(st.integers(min_value=1, max_value=200))) * 500,
        )
        for _ in range(n)
    ]


@settings(max_examples=300)
@given(
    awards=award_lists(),
    share=st.sampled_from([Decimal("0.3"), Decimal("0.5"), Decimal("0.6"), Decimal("0.9")]),
    min_awards=st.integers(min_value=2, max_value=5),
)
def test_concentration_finds_exactly_the_dominant_firms(awards, share, min_awards):
    found = {(c.owner_id, c.provider_id): c for c in rules.concentration(awards, share, min_awards)}
    for owner in OWNERS:
        mine = [a for a in awards if a.owner_id == owner]
        total = sum((a.amount for a in mine), Decimal(0))
        for firm in FIRMS[:4]:
            won = [a for a in mine if a.provider_id == firm]
            amount = sum((a.amount for a in won), Decimal(0))
            expected = len(mine) >= min_awards and len(won) >= 2 and amount >= share * total
            assert ((owner, firm) in found) == expected
            if expected:
                c = found[(owner, firm)]
                assert (c.wins, c.awards, c.amount, c.owner_total) == (len(won), len(mine), amount, total)
    if share > Decimal("0.5"):  # more than half: at most one firm per owner
        owners = [o for o, _f in found]
        assert len(owners) == len(set(owners))


# --- links between firms, identical prices, low prices ---------------------------------------------


def test_firms_are_linked_by_a_practitioner_hash_a_legal_representative_or_a_phone():
    shared = PractitionerFact("a" * 64, "杨秀英", "530402********6643")
    firms = [
        FirmFact(FIRMS[0], "甲公司", legal_rep="王强", phone="0871-6532 1108", practitioners=(shared,)),
        FirmFact(FIRMS[1], "乙公司", legal_rep="李娜", phone="+86 871 65321108", practitioners=(shared,)),
        FirmFact(FIRMS[2], "丙公司", legal_rep="王 强", phone="—"),
        FirmFact(FIRMS[3], "丁公司", legal_rep="—", phone="—"),  # placeholders never link
        FirmFact(FIRMS[4], "戊公司", legal_rep="—", phone="—"),
        FirmFact(FIRMS[5], "己公司", practitioners=(PractitionerFact("b" * 64, "杨秀英", "530402********0000"),)),
    ]
    links = {(link.a, link.b, link.kind) for link in rules.firm_links(firms)}
    assert links == {
        (FIRMS[0], FIRMS[1], "practitioner"),  # same keyed ID hash; the same name alone (己) is not enough
        (FIRMS[0], FIRMS[1], "phone"),  # the same number written two ways
        (FIRMS[0], FIRMS[2], "legal_rep"),
    }


def test_former_values_link_firms_too_and_say_until_when():
    until = date(2025, 6, 30)
    firms = [
        FirmFact(
            FIRMS[0],
            "甲公司",
            legal_rep="王强",
            phone="0871-65999999",
            former=(
                FormerFact("phone", "0871-65321108", "0871-65321108", until, replaced_by="0871-65999999"),
                FormerFact("practitioner", "c" * 64, "岩罕 (530103********1336)", until),
            ),
        ),
        FirmFact(
            FIRMS[1],
            "乙公司",
            legal_rep="李娜",
            phone="0871 6532 1108",
            practitioners=(PractitionerFact("c" * 64, "岩罕", "530103********1336"),),
        ),
        FirmFact(FIRMS[2], "丙公司", legal_rep="赵六", phone="0877-8210000"),
    ]
    links = {(link.a, link.b, link.kind): link for link in rules.firm_links(firms)}
    assert set(links) == {(FIRMS[0], FIRMS[1], "phone"), (FIRMS[0], FIRMS[1], "practitioner")}
    phone = links[(FIRMS[0], FIRMS[1], "phone")]
    assert phone.former and phone.detail == (("0871-65321108", "0871 6532 1108", "2025-06-30", None),)
    # a firm that holds a value now and held it before is linked on what it holds now
    both = [
        FirmFact(
            FIRMS[0],
            "甲",
            phone="0871-65321108",
            former=(FormerFact("phone", "0871-65321108", "0871-65321108", until),),
        ),
        firms[1],
    ]
    assert [link.detail[0][2] for link in rules.firm_links(both)] == [None]
    flags = rules.firm_flags([], {f.id: f for f in firms}, rules.Thresholds(), rules.firm_links(firms))
    mine = next(f for f in flags if f.subject_id == FIRMS[0])
    assert {tuple(d) for link in mine.data["links"] for d in link["detail"]} == {
        ("0871-65321108", "0871 6532 1108", "2025-06-30", None),
        ("岩罕 (530103********1336)", "岩罕 (530103********1336)", "2025-06-30", None),
    }


def test_identical_prices_need_two_firms():
    bids = [
        BidFact(FIRMS[0], Decimal("100"), True),
        BidFact(FIRMS[1], Decimal("100"), False),  # an invalid bid at the same price counts too
        BidFact(FIRMS[2], Decimal("99"), True),
    ]
    assert rules.identical_prices(bids) == {Decimal("100"): sorted(FIRMS[:2], key=str)}
    assert rules.identical_prices(bids[1:]) == {}


def test_low_winning_price_against_the_cap_and_against_the_other_bids():
    t = Thresholds()
    cheap = awarded("20000.00", cap=Decimal("50000.00"))
    assert rules.low_price(cheap, t) == {
        "price": Decimal("20000.00"),
        "cap": Decimal("50000.00"),
        "of_cap": Decimal("40.0"),
        "cap_ratio": Decimal("50.0"),
    }
    bids = (
        BidFact(FIRMS[0], Decimal("30000"), True),
        BidFact(FIRMS[1], Decimal("45000"), True),
        BidFact(FIRMS[2], Decimal("47000"), True),
    )
    below_others = awarded("30000.00", cap=Decimal("50000.00"), bids=bids)
    assert rules.low_price(below_others, t) is None  # 60 % of the cap, 65 % of the others' mean
    strict = Thresholds(abnormal_low_ratio=Decimal("0.7"))
    found = rules.low_price(below_others, strict)
    assert found["others_mean"] == Decimal("46000.00") and found["of_mean"] == Decimal("65.2")
    assert rules.low_price(purchase(status="open"), t) is None


# --- flags of purchases and firms -------------------------------------------------------------------


def test_purchase_flags_cover_the_rules():
    contract = ContractFact(
        id=uuid.uuid4(),
        number="HT-2026-000007",
        status="accepted",
        amount=Decimal("42000.00"),
        sign_by=T0,
        signed_at=T0,
        accepted_at=T0 + timedelta(days=20),
        paid=Decimal("0.00"),
        flags=("payment_overdue",),
    )
    direct = awarded(
        "48000.00",
        method="direct",
        reason="抢险救灾，工期最短",
        bids=(BidFact(FIRMS[0], Decimal("48000"), True), BidFact(FIRMS[1], Decimal("40000"), True)),
        upheld=(ObjectionFact("理由", "质疑成立", T0),),
        contract=contract,
    )
    single = awarded("45000.00", status="publicity")
    failed_single = purchase(status="failed", bids=(BidFact(FIRMS[0], Decimal("45000"), True),))
    flags = rules.purchase_flags([direct, single, failed_single], {}, Thresholds(), [])
    codes = {(f.subject_id, f.code) for f in flags}
    assert codes == {
        (direct.id, "direct_selection"),
        (direct.id, "objection_upheld"),
        (direct.id, "payment_overdue"),
        (single.id, "single_bid"),
    }
    flag = next(f for f in flags if f.code == "direct_selection")
    assert flag.data["above_lowest"] == Decimal("20.0") and flag.data["reason"] == "抢险救灾，工期最短"
    assert [f.severity for f in flags] == sorted((f.severity for f in flags), key=rules.SEVERITIES.index)


def test_a_purchase_cancelled_after_opening_is_flagged_and_so_is_its_next_round():
    gone = CancellationFact(
        uuid.uuid4(), "CG-2026-000004", "资金未落实", T0, "同意，请重新发布", T0 + timedelta(days=2)
    )
    cancelled = purchase(
        id=gone.purchase_id,
        ref=gone.ref,
        status="cancelled",
        bids=(BidFact(FIRMS[0], Decimal("40000"), True),),
        cancelled_after_opening=gone,
    )
    republished = awarded("45000.00", ref="CG-2026-000005", earlier_cancelled=(gone,))
    before_deadline = purchase(ref="CG-2026-000006", status="cancelled")  # cancelled unseen: no flag
    flags = rules.purchase_flags([cancelled, republished, before_deadline], {}, Thresholds(), [])
    mine = [f for f in flags if f.code == rules.CANCELLED_AFTER_OPENING]
    assert {f.subject_id for f in mine} == {cancelled.id, republished.id}
    assert all(f.severity == rules.HIGH for f in mine)
    own = next(f for f in mine if f.subject_id == cancelled.id)
    assert own.data["this_round"] is True and own.data["reason"] == "资金未落实"
    assert own.data["decision"] == "同意，请重新发布"
    later = next(f for f in mine if f.subject_id == republished.id)
    assert later.data["this_round"] is False and later.data["cancelled"] == {"id": gone.purchase_id, "ref": gone.ref}
    assert ("CG-2026-000004", f"/workspace/purchases/{gone.purchase_id}") in explain.links(later)
    token = i18n.set_locale("en")
    try:
        assert "CG-2026-000004" in explain.explain(later) and "资金未落实" in explain.explain(own)
    finally:
        i18n.reset_locale(token)


def scored_award(
    marks: tuple[int, int],
    credits: tuple[int, int] = (100, 100),
    firms: tuple[uuid.UUID, uuid.UUID] = (FIRMS[0], FIRMS[1]),
) -> PurchaseFact:
    """A scored award between a bid at 40,000 and one at 48,000 (weights 50/40/10): the
    published evaluation of each bid, the winner the highest score."""
    prices = (Decimal("40000"), Decimal("48000"))
    bid_ids = (uuid.UUID(int=901), uuid.UUID(int=902))
    scores = [
        (Decimal(50) * prices[0] / p + Decimal(40) * m / 100 + Decimal(10) * c / 100).quantize(Decimal("0.01"))
        for p, m, c in zip(prices, marks, credits, strict=True)
    ]
    facts = tuple(rules.ScoreFact(bid_ids[i], prices[i], marks[i], credits[i], scores[i]) for i in range(2))
    win = max(range(2), key=lambda i: (scores[i], -prices[i]))
    return awarded(
        str(prices[win]),
        winner=firms[win],
        method="scored",
        bids=(BidFact(firms[0], prices[0], True), BidFact(firms[1], prices[1], True)),
        winner_bid_id=bid_ids[win],
        weight_quality=40,
        scores=facts,
    )


def test_quality_marks_that_beat_the_lowest_price_are_flagged():
    decided = scored_award(marks=(0, 100))  # 50 + 0 + 10 = 60 against 41.67 + 40 + 10 = 91.67
    found = rules.quality_marks_decided(decided)
    assert found is not None and found["lowest"] == Decimal("40000") and found["price"] == Decimal("48000")
    assert (found["winner_mark"], found["lowest_mark"], found["above_lowest"]) == (100, 0, Decimal("20.0"))
    assert [f.code for f in rules.purchase_flags([decided], {}, Thresholds(), [])] == ["quality_marks_decided"]
    # the lowest price wins: nothing to flag
    assert rules.quality_marks_decided(scored_award(marks=(80, 90))) is None
    # the dearer bid wins on its credit score, not on the marks: not this flag
    assert rules.quality_marks_decided(scored_award(marks=(50, 50), credits=(0, 100))) is None
    # not scored, or no evaluation: nothing
    assert rules.quality_marks_decided(awarded("48000.00")) is None


def test_sealed_purchases_raise_no_bid_flags():
    sealed = purchase(status="open", bids=None)
    assert rules.purchase_flags([sealed], {}, Thresholds(), []) == []


def test_firm_flags_name_the_links_and_where_the_firms_bid_together():
    shared = PractitionerFact("c" * 64, "岩罕", "530103********1336")
    firms = [FirmFact(FIRMS[0], "甲", practitioners=(shared,)), FirmFact(FIRMS[1], "乙", practitioners=(shared,))]
    together = purchase(
        status="evaluating",
        ref="CG-2026-000009",
        bids=(BidFact(FIRMS[0], Decimal("1"), True), BidFact(FIRMS[1], Decimal("2"), True)),
    )
    flags = rules.all_flags([together], firms, Thresholds())
    assert {(f.code, f.subject) for f in flags} == {("linked_bidders", "purchase"), ("linked_firms", "firm")}
    firm_flag = next(f for f in flags if f.subject == "firm" and f.subject_id == FIRMS[0])
    assert firm_flag.data["links"][0]["bid_together"] == [{"id": together.id, "ref": "CG-2026-000009"}]


# --- every flag explains itself in both languages ----------------------------------------------------


def sample_flags() -> list[rules.Flag]:
    shared = PractitionerFact("d" * 64, "杨秀英", "530402********6643")
    firms = [
        FirmFact(FIRMS[0], "甲", legal_rep="王强", practitioners=(shared,)),
        FirmFact(FIRMS[1], "乙", legal_rep="王强", practitioners=(shared,)),
    ]
    contract = ContractFact(
        id=uuid.uuid4(),
        number="HT-2026-000003",
        status="accepted",
        amount=Decimal("30000.00"),
        sign_by=T0,
        signed_at=T0 + timedelta(days=9),
        due_at=T0 + timedelta(days=20),
        accepted_at=T0 + timedelta(days=30),
        paid=Decimal("30000.00"),
        paid_on=date(2026, 6, 1),
        payment_deadline=T0 + timedelta(days=60),
        days_to_payment=45,
        flags=rules.CONTRACT_FLAGS,
    )
    bids = (BidFact(FIRMS[0], Decimal("10000"), True), BidFact(FIRMS[1], Decimal("10000"), True))
    rows = [
        awarded(
            "10000.00",
            ref=f"CG-2026-00000{i}",
            published_at=T0 + timedelta(days=i),
            cap=Decimal("60000.00"),
            method="direct",
            reason="理由",
            bids=bids,
            upheld=(ObjectionFact("理由", "决定", T0),),
            contract=contract,
        )
        for i in range(1, 4)
    ]
    rows.append(awarded("10000.00", ref="CG-2026-000009", bids=bids[:1], status="publicity"))
    gone = CancellationFact(uuid.uuid4(), "CG-2026-000010", "项目调整", T0, "同意取消", T0 + timedelta(days=1))
    rows.append(
        purchase(id=gone.purchase_id, ref=gone.ref, status="cancelled", bids=bids, cancelled_after_opening=gone)
    )
    rows.append(purchase(ref="CG-2026-000011", status="open", earlier_cancelled=(gone,)))
    rows.append(scored_award(marks=(0, 100), firms=(FIRMS[2], FIRMS[0])))
    return rules.all_flags(rows, firms, Thresholds())


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_flag_code_is_explained_and_labelled(lang):
    flags = sample_flags()
    assert {f.code for f in flags} == set(rules.FLAG_CODES)
    token = i18n.set_locale(lang)
    try:
        for f in flags:
            text = explain.explain(f)
            assert text and "%(" not in text, (f.code, text)
            assert explain.links(f) is not None
            assert explain.subject_url(f).startswith(("/workspace/purchases/", "/finance/firms/"))
    finally:
        i18n.reset_locale(token)


def test_a_flag_mentions_the_firms_it_names():
    shared = PractitionerFact("e" * 64, "岩罕", "530103********1336")
    firms = [FirmFact(FIRMS[0], "甲", practitioners=(shared,)), FirmFact(FIRMS[1], "乙", practitioners=(shared,))]
    bids = (BidFact(FIRMS[0], Decimal("5"), True), BidFact(FIRMS[1], Decimal("5"), True))
    flags = rules.all_flags([purchase(status="evaluating", bids=bids)], firms, Thresholds())
    assert sorted(f.code for f in flags) == ["identical_prices", "linked_bidders", "linked_firms", "linked_firms"]
    for f in flags:
        assert rules.mentions(f, FIRMS[0]) and rules.mentions(f, FIRMS[1]) and not rules.mentions(f, FIRMS[2])
