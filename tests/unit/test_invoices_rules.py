"""Pure rules of the invoices package: amounts in Chinese capitals, due dates with the real 2026
China calendar, document numbers, flags, and content sniffing of uploads."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from invoices import rules
from invoices.models import ContractStatus
from market.clock import LOCAL_TZ
from market.numbering import reference

DIGITS = {c: i for i, c in enumerate("零壹贰叁肆伍陆柒捌玖")}
UNITS = {"拾": 10, "佰": 100, "仟": 1000}


def decode(text: str) -> Decimal:
    """An independent reader of 人民币大写, to check the writer against."""
    body = text.removesuffix("整")
    whole, _, fraction = body.partition("元") if "元" in body else ("", "", body)
    total = section = number = 0
    for ch in whole:
        if ch in DIGITS:
            number = DIGITS[ch]
        elif ch in UNITS:
            section += number * UNITS[ch]
            number = 0
        elif ch == "万":
            total += (section + number) * 10_000
            section = number = 0
        elif ch == "亿":
            total = (total + section + number) * 100_000_000
            section = number = 0
    total += section + number
    jiao = fen = digit = 0
    for ch in fraction:
        if ch in DIGITS:
            digit = DIGITS[ch]
        elif ch == "角":
            jiao, digit = digit, 0
        elif ch == "分":
            fen = digit
    return Decimal(total) + Decimal(jiao) / 10 + Decimal(fen) / 100


@pytest.mark.parametrize(
    ("amount", "capitals"),
    [
        ("12800", "壹万贰仟捌佰元整"),
        ("12800.00", "壹万贰仟捌佰元整"),
        ("10", "壹拾元整"),
        ("10.50", "壹拾元伍角整"),
        ("1.05", "壹元零伍分"),
        ("0.50", "伍角整"),
        ("0.05", "伍分"),
        ("0", "零元整"),
        ("1680.32", "壹仟陆佰捌拾元叁角贰分"),
        ("100000001", "壹亿零壹元整"),
        ("1010101.10", "壹佰零壹万零壹佰零壹元壹角整"),
        ("107000.53", "壹拾万柒仟元伍角叁分"),
        ("999999999999.99", "玖仟玖佰玖拾玖亿玖仟玖佰玖拾玖万玖仟玖佰玖拾玖元玖角玖分"),
    ],
)
def test_amount_in_capitals(amount: str, capitals: str) -> None:
    assert rules.amount_in_capitals(Decimal(amount)) == capitals


def test_negative_amounts_have_no_capitals() -> None:
    with pytest.raises(ValueError):
        rules.amount_in_capitals(Decimal("-1"))


@given(cents=st.integers(min_value=0, max_value=99_999_999_999_999))
def test_capitals_read_back_to_the_amount(cents: int) -> None:
    amount = Decimal(cents) / 100
    text = rules.amount_in_capitals(amount)
    assert decode(text) == amount
    # 整 closes an amount without 分, never one with 分; no doubled 零; no leading 零 except for zero
    assert text.endswith("整") != text.endswith("分")
    assert "零零" not in text
    assert not text.startswith("零") or amount == 0


def test_numbers() -> None:
    assert reference(rules.CONTRACT_PREFIX, 2026, 1) == "HT-2026-000001"
    assert reference(rules.INVOICE_PREFIXES["invoice"], 2026, 42) == "FP-2026-000042"
    assert reference(rules.INVOICE_PREFIXES["credit_note"], 2026, 43) == "HZ-2026-000043"
    assert rules.agreement_number("HT-2026-000001", 2) == "HT-2026-000001-BC2"
    # the year is the year in China: 2026-12-31 20:00 UTC is already 2027 in Beijing
    assert rules.local_year(datetime(2026, 12, 31, 20, 0, tzinfo=UTC)) == 2027


FRIDAY_BEFORE_NATIONAL_DAY = datetime(2026, 9, 18, 15, 30, tzinfo=LOCAL_TZ)


@pytest.mark.parametrize(
    ("service_days", "due"),
    [
        (1, date(2026, 9, 20)),  # Sunday 09-20 is an adjusted working day
        (5, date(2026, 9, 24)),
        (6, date(2026, 9, 28)),  # Friday 09-25 (Mid-Autumn) and the weekend are skipped
        (8, date(2026, 9, 30)),
        (9, date(2026, 10, 8)),  # National Day 10-01 … 10-07 is skipped
        (11, date(2026, 10, 10)),  # Saturday 10-10 is an adjusted working day
        (12, date(2026, 10, 12)),  # an ordinary Sunday 10-11 is not
    ],
)
def test_due_date_of_a_contract_signed_the_friday_before_national_day(service_days: int, due: date) -> None:
    moment = rules.service_due(FRIDAY_BEFORE_NATIONAL_DAY, service_days).astimezone(LOCAL_TZ)
    assert moment.date() == due
    assert (moment.hour, moment.minute, moment.second) == (23, 59, 59)


def test_due_date_accelerated_and_extended() -> None:
    start = datetime(2026, 9, 18, 7, 30, tzinfo=UTC)
    assert rules.service_due(start, 11, accelerator=86400) == start + timedelta(seconds=11)
    due = rules.service_due(FRIDAY_BEFORE_NATIONAL_DAY, 11)
    assert rules.extend_due(due, 2).astimezone(LOCAL_TZ).date() == date(2026, 10, 13)
    assert rules.extend_due(due, 0) == due
    assert rules.extend_due(start, 3, accelerator=86400) == start + timedelta(seconds=3)


def test_signing_deadline_in_working_days() -> None:
    sign_by = rules.signing_deadline(FRIDAY_BEFORE_NATIONAL_DAY, 5)
    assert sign_by.astimezone(LOCAL_TZ) == datetime(2026, 9, 24, 15, 30, tzinfo=LOCAL_TZ)


def test_payment_term_in_calendar_days_despite_the_national_day_holiday() -> None:
    """保障中小企业款项支付条例: 30 calendar days from acceptance; the National Day week counts."""
    accepted = datetime(2026, 9, 30, 10, 0, tzinfo=LOCAL_TZ)
    deadline = rules.payment_deadline(accepted, 30)
    assert deadline.astimezone(LOCAL_TZ) == datetime.combine(date(2026, 10, 30), time.max, tzinfo=LOCAL_TZ)
    recorded = datetime(2026, 12, 1, tzinfo=UTC)
    assert rules.paid_by_deadline(date(2026, 10, 30), recorded, deadline)
    assert not rules.paid_by_deadline(date(2026, 10, 31), recorded, deadline)
    assert rules.days_to_payment(accepted, date(2026, 10, 30)) == 30
    assert rules.days_to_payment(accepted, date(2026, 9, 29)) == 0
    # a term ending on a weekend or holiday is not moved: accepted 2026-01-02, 30 days -> Sunday 02-01
    sunday = rules.payment_deadline(datetime(2026, 1, 2, 23, 30, tzinfo=LOCAL_TZ), 30)
    assert sunday.astimezone(LOCAL_TZ).date() == date(2026, 2, 1)
    # the latest hour of the day in China is still the same local day (not the UTC one)
    late_evening = rules.payment_deadline(datetime(2026, 3, 31, 23, 59, tzinfo=LOCAL_TZ), 60)
    assert late_evening.astimezone(LOCAL_TZ).date() == date(2026, 5, 30)
    # accelerated like the working-day periods: a day lasts 86400 / N seconds
    assert rules.payment_deadline(accepted, 30, accelerator=86400) == accepted + timedelta(seconds=30)
    assert rules.payment_deadline(accepted, 30, accelerator=1440) == accepted + timedelta(minutes=30)


def test_payment_flags_count_calendar_days() -> None:
    accepted = datetime(2026, 9, 30, 10, 0, tzinfo=LOCAL_TZ)
    base = dict(
        status=ContractStatus.accepted,
        sign_by=datetime(2026, 8, 1, tzinfo=LOCAL_TZ),
        signed_at=datetime(2026, 7, 31, tzinfo=LOCAL_TZ),
        due_at=datetime(2026, 9, 30, 23, 0, tzinfo=LOCAL_TZ),
        delivered_at=datetime(2026, 9, 29, tzinfo=LOCAL_TZ),
        accepted_at=accepted,
        amount=Decimal("1000.00"),
        invoiced=Decimal("1000.00"),
        payment_days=30,
    )
    unpaid = rules.ContractFacts(**base, paid_total=Decimal("0.00"), paid_on=None, paid_recorded_at=None)
    # 10-31 is within 30 working days (11-17) but past 30 calendar days (10-30)
    assert rules.contract_flags(unpaid, datetime(2026, 10, 30, 23, 0, tzinfo=LOCAL_TZ)) == []
    assert rules.contract_flags(unpaid, datetime(2026, 10, 31, 0, 1, tzinfo=LOCAL_TZ)) == ["payment_overdue"]
    paid_31 = rules.ContractFacts(
        **base,
        paid_total=Decimal("1000.00"),
        paid_on=date(2026, 10, 31),
        paid_recorded_at=datetime(2026, 11, 2, tzinfo=LOCAL_TZ),
    )
    assert rules.contract_flags(paid_31, datetime(2026, 11, 20, tzinfo=LOCAL_TZ)) == ["paid_late"]


def _facts(**changes: object) -> rules.ContractFacts:
    base: dict[str, object] = {
        "status": "signed",
        "sign_by": datetime(2026, 9, 24, 10, 0, tzinfo=UTC),
        "signed_at": datetime(2026, 9, 20, 10, 0, tzinfo=UTC),
        "due_at": datetime(2026, 10, 10, 15, 59, tzinfo=UTC),
        "delivered_at": None,
        "accepted_at": None,
        "amount": Decimal("1000.00"),
        "invoiced": Decimal("1000.00"),
        "paid_total": Decimal("0.00"),
        "paid_on": None,
        "paid_recorded_at": None,
        "payment_days": 30,
    }
    base.update(changes)
    return rules.ContractFacts(**base)  # type: ignore[arg-type]


AFTER_DUE = datetime(2026, 10, 11, tzinfo=UTC)
BEFORE_DUE = datetime(2026, 10, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("facts", "now", "flags"),
    [
        (_facts(signed_at=None, status="draft"), datetime(2026, 9, 24, 9, 0, tzinfo=UTC), []),
        (_facts(signed_at=None, status="draft"), datetime(2026, 9, 24, 11, 0, tzinfo=UTC), ["signing_overdue"]),
        # the owner voided the award the winner did not sign: nothing of it is late any more
        (_facts(signed_at=None, status="void"), datetime(2026, 9, 24, 11, 0, tzinfo=UTC), []),
        (_facts(signed_at=datetime(2026, 9, 25, tzinfo=UTC)), BEFORE_DUE, ["signed_late"]),
        (_facts(), BEFORE_DUE, []),
        (_facts(), AFTER_DUE, ["overdue"]),
        # delivered in time, waiting for the owner: not the provider's delay
        (_facts(status="delivered", delivered_at=datetime(2026, 10, 9, tzinfo=UTC)), AFTER_DUE, []),
        # delivered late, still waiting: overdue
        (_facts(status="delivered", delivered_at=datetime(2026, 10, 12, tzinfo=UTC)), AFTER_DUE, ["overdue"]),
        # returned and not redelivered by the due date: overdue
        (_facts(status="returned", delivered_at=datetime(2026, 10, 9, tzinfo=UTC)), AFTER_DUE, ["overdue"]),
        (
            _facts(
                status="accepted",
                delivered_at=datetime(2026, 10, 12, tzinfo=UTC),
                accepted_at=datetime(2026, 10, 13, tzinfo=UTC),
            ),
            datetime(2026, 10, 14, tzinfo=UTC),
            ["delivered_late"],
        ),
        (
            _facts(status="accepted", delivered_at=BEFORE_DUE, accepted_at=BEFORE_DUE),
            datetime(2026, 12, 31, tzinfo=UTC),
            ["payment_overdue"],
        ),
        # what was invoiced (net of credit notes) is paid: nothing is outstanding, nothing is overdue
        (
            _facts(
                status="accepted",
                delivered_at=BEFORE_DUE,
                accepted_at=BEFORE_DUE,
                invoiced=Decimal("400.00"),
                paid_total=Decimal("400.00"),
            ),
            datetime(2026, 12, 31, tzinfo=UTC),
            [],
        ),
        # nothing invoiced: the purchaser owes nothing yet
        (
            _facts(status="accepted", delivered_at=BEFORE_DUE, accepted_at=BEFORE_DUE, invoiced=Decimal("0.00")),
            datetime(2026, 12, 31, tzinfo=UTC),
            [],
        ),
        (
            _facts(
                status="accepted",
                delivered_at=BEFORE_DUE,
                accepted_at=BEFORE_DUE,
                paid_total=Decimal("1000.00"),
                paid_on=date(2026, 12, 30),
                paid_recorded_at=datetime(2026, 12, 30, tzinfo=UTC),
            ),
            datetime(2026, 12, 31, tzinfo=UTC),
            ["paid_late"],
        ),
        (
            _facts(
                status="accepted",
                delivered_at=BEFORE_DUE,
                accepted_at=BEFORE_DUE,
                paid_total=Decimal("1000.00"),
                paid_on=date(2026, 10, 20),
                paid_recorded_at=datetime(2026, 12, 30, tzinfo=UTC),  # recorded late, paid in time
            ),
            datetime(2026, 12, 31, tzinfo=UTC),
            [],
        ),
    ],
)
def test_contract_flags(facts: rules.ContractFacts, now: datetime, flags: list[str]) -> None:
    assert rules.contract_flags(facts, now) == flags


def test_sha256_shape() -> None:
    assert rules.is_sha256("a" * 64) and not rules.is_sha256("A" * 64) and not rules.is_sha256("a" * 63)


def test_the_account_of_a_contract() -> None:
    account = rules.Account(amount=Decimal("5000.00"), invoiced=Decimal("1000.00"), paid=Decimal("0.00"))
    assert (account.outstanding, account.uninvoiced, account.paid_up) == (Decimal("1000.00"), Decimal("4000.00"), False)
    full = rules.Account(amount=Decimal("5000.00"), invoiced=Decimal("5000.00"), paid=Decimal("5000.00"))
    assert (full.outstanding, full.uninvoiced, full.paid_up) == (Decimal("0.00"), Decimal("0.00"), True)
