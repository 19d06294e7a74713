"""The pure rules of listings: who is qualified for what on which day, ID numbers, upload sniffing."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from listings.rules import (
    QualificationFacts,
    Standing,
    can_act,
    extension_matches,
    id_number_hash,
    is_qualified,
    mask_id_number,
    normalize_phone,
    pinyin_key,
    pinyin_sort_text,
    qualification_counts,
    sniff_content_type,
)

DAY = date(2026, 11, 30)
CODE = "YLZJ-005"
APPROVED = Standing(kind="provider", status="approved")


def qual(status: str = "approved", valid_until: date = DAY + timedelta(days=365), covers: tuple[str, ...] = (CODE,)):
    return QualificationFacts(status=status, valid_until=valid_until, covers=frozenset(covers))


def test_approved_provider_with_valid_covering_qualification_is_qualified():
    assert is_qualified(APPROVED, [qual()], CODE, DAY)


def test_expired_qualification_does_not_count():
    assert not is_qualified(APPROVED, [qual(valid_until=DAY - timedelta(days=1))], CODE, DAY)


def test_qualification_counts_through_its_last_day():
    assert is_qualified(APPROVED, [qual(valid_until=DAY)], CODE, DAY)
    assert not is_qualified(APPROVED, [qual(valid_until=DAY)], CODE, DAY + timedelta(days=1))


@pytest.mark.parametrize("status", ["pending", "rejected"])
def test_qualification_not_yet_approved_or_rejected_does_not_count(status):
    assert not is_qualified(APPROVED, [qual(status=status)], CODE, DAY)


def test_qualification_for_another_item_does_not_count():
    assert not is_qualified(APPROVED, [qual(covers=("YLZJ-006", "YLZJ-011"))], CODE, DAY)
    assert is_qualified(APPROVED, [qual(covers=("YLZJ-006", CODE))], CODE, DAY)


def test_no_qualification_at_all():
    assert not is_qualified(APPROVED, [], CODE, DAY)
    assert not is_qualified(None, [qual()], CODE, DAY)


def test_suspended_organisation_is_not_qualified_until_its_suspension_ends():
    suspended = Standing(kind="provider", status="suspended", suspended_until=DAY)
    assert not is_qualified(suspended, [qual()], CODE, DAY - timedelta(days=3))
    assert not is_qualified(suspended, [qual()], CODE, DAY)  # the end date is still suspended
    # the day after, the suspension has ended even if nobody has written it back to "approved" yet
    assert is_qualified(suspended, [qual()], CODE, DAY + timedelta(days=1))


def test_suspension_without_end_date_never_ends_by_itself():
    assert not is_qualified(Standing("provider", "suspended", None), [qual()], CODE, DAY + timedelta(days=999))


@pytest.mark.parametrize("status", ["pending", "rejected", "blacklisted"])
def test_organisation_not_approved_is_not_qualified(status):
    assert not is_qualified(Standing("provider", status), [qual()], CODE, DAY)


def test_only_providers_are_qualified():
    assert not is_qualified(Standing("owner", "approved"), [qual()], CODE, DAY)


def test_one_counting_qualification_among_others_is_enough():
    quals = [qual(status="rejected"), qual(valid_until=DAY - timedelta(days=10)), qual(covers=("X",)), qual()]
    assert is_qualified(APPROVED, quals, CODE, DAY)


statuses = st.sampled_from(["pending", "approved", "rejected", "suspended", "blacklisted"])
review = st.sampled_from(["pending", "approved", "rejected"])
days = st.dates(min_value=date(2024, 1, 1), max_value=date(2030, 12, 31))
codes = st.sampled_from(["YLZJ-001", "YLZJ-005", "YLZJ-006", "YLZW-003"])
qualifications = st.builds(QualificationFacts, status=review, valid_until=days, covers=st.frozensets(codes, max_size=3))
standings = st.builds(
    Standing, kind=st.sampled_from(["provider", "owner"]), status=statuses, suspended_until=st.none() | days
)


@given(standings, st.lists(qualifications, max_size=5), codes, days)
def test_qualified_is_exactly_standing_and_one_counting_qualification(standing, quals, code, on):
    expected = (
        standing.kind == "provider"
        and (
            (standing.status == "approved" and (standing.suspended_until is None or standing.suspended_until < on))
            or (
                standing.status == "suspended"
                and standing.suspended_until is not None
                and standing.suspended_until < on
            )
        )
        and any(q.status == "approved" and q.valid_until >= on and code in q.covers for q in quals)
    )
    assert is_qualified(standing, quals, code, on) is expected


@given(standings, st.lists(qualifications, max_size=5), codes, days, qualifications)
def test_adding_a_qualification_never_disqualifies(standing, quals, code, on, extra):
    # qualified before implies qualified after
    assert not is_qualified(standing, quals, code, on) or is_qualified(standing, [*quals, extra], code, on)


@given(qualifications, codes, days, st.integers(min_value=1, max_value=2000))
def test_a_qualification_that_counts_counted_on_every_earlier_day(q, code, on, back):
    # counting on a day implies counting on every earlier day
    assert not qualification_counts(q, code, on) or qualification_counts(q, code, on - timedelta(days=back))


@given(days, days)
def test_suspension_ends_after_its_end_date(until, on):
    assert can_act(Standing("provider", "suspended", until), on) is (on > until)


# --- ID numbers ----------------------------------------------------------------------------------

NUMBER = "53040219850312000X"


def test_mask_keeps_region_and_last_four_only():
    masked = mask_id_number(NUMBER)
    assert masked == "530402********000X" and len(masked) == 18
    assert "19850312" not in masked


def test_keyed_hash_depends_on_the_key_and_hides_the_number():
    a = id_number_hash("k" * 32, NUMBER)
    assert a == id_number_hash("k" * 32, NUMBER.lower())  # the check letter in either case
    assert a != id_number_hash("other-key" * 4, NUMBER)
    assert len(a) == 64 and NUMBER not in a and "19850312" not in a


# --- uploads -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("head", "content_type"),
    [
        (b"%PDF-1.7\n%\xe2\xe3", "application/pdf"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "image/png"),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF", "image/jpeg"),
        (b"<html><script>alert(1)</script>", None),
        (b"MZ\x90\x00\x03", None),
        (b"PK\x03\x04", None),
        (b"", None),
    ],
)
def test_content_is_recognised_by_its_bytes(head, content_type):
    assert sniff_content_type(head) == content_type


@pytest.mark.parametrize(
    ("name", "content_type", "ok"),
    [
        ("证书.pdf", "application/pdf", True),
        ("SCAN.PDF", "application/pdf", True),
        ("scan", "application/pdf", True),
        ("photo.jpeg", "image/jpeg", True),
        ("photo.jpg", "image/jpeg", True),
        ("scan.pdf", "image/png", False),
        ("scan.exe", "application/pdf", False),
        ("scan.pdf.html", "application/pdf", False),
    ],
)
def test_a_name_that_claims_another_type_is_refused(name, content_type, ok):
    assert extension_matches(name, content_type) is ok


def test_id_numbers_are_checked_without_refusing_county_codes_assigned_after_birth():
    from listings.qualifications import normalize_id_number
    from market.errors import InvalidInput

    # 530402 (玉溪市红塔区) exists since 1997; people born before carry it on their cards
    assert normalize_id_number("53040219850312000x") == "53040219850312000X"
    for bad in (
        "530402198503120001",
        "53040219851312000X",
        "99040219850312000X",
        "5304021985031200",
        "5304021985031200AX",
    ):
        with pytest.raises(InvalidInput):
            normalize_id_number(bad)


# --- phone numbers ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "kept"),
    [
        ("13812345678", "13812345678"),
        ("138-1234-5678", "13812345678"),
        ("+86 13812345678", "13812345678"),
        ("0086 138 1234 5678", "13812345678"),
        ("１３８１２３４５６７８", "13812345678"),  # full-width digits, as a Chinese keyboard types them
        ("0871-65123456", "0871-65123456"),
        ("0871 6512 3456", "0871-65123456"),
        ("(0871)65123456", "0871-65123456"),
        ("+86 871 6512 3456", "0871-65123456"),  # no trunk 0 after the country code
        ("0877-8215566", "0877-8215566"),  # 7-digit local number
        ("010-62345678", "010-62345678"),
        ("021 6234 5678", "021-62345678"),
        ("0871-65123456转8012", "0871-65123456-8012"),
        ("0871-65123456 ext. 12", "0871-65123456-12"),
    ],
)
def test_mobile_and_landline_numbers_with_area_code_are_kept_in_one_form(typed, kept):
    assert normalize_phone(typed) == kept


@pytest.mark.parametrize(
    "typed",
    [
        "65123456",  # a landline without its area code
        "871-65123456",  # an area code without its trunk 0
        "12812345678",  # 12 is no mobile prefix
        "1381234567",  # ten digits
        "138123456789",  # twelve
        "0871-0123456",  # a local number starting with 0
        "0871-123456",  # six digits
        "13812345678转1",  # mobile numbers have no extension
        "—",
        "",
        "tel 0871",
        "٠٨٧١٦٥١٢٣٤٥٦",  # Arabic-Indic digits are digits to Python, not a phone number
    ],
)
def test_other_numbers_are_refused(typed):
    assert normalize_phone(typed) is None


# --- names in Chinese order ------------------------------------------------------------------


def test_names_sort_by_pinyin_as_a_chinese_dictionary_does():
    names = ["张记测绘", "阿拉测绘", "北斗测绘", "重庆测绘", "长江测绘", "云南博远", "云岭县恒信", "ABC测绘", "3D测绘"]
    assert sorted(names, key=pinyin_key) == [
        "3D测绘",
        "ABC测绘",
        "阿拉测绘",
        "北斗测绘",
        "长江测绘",  # 长 read chang in 长江
        "重庆测绘",  # 重 read chong in 重庆
        "云岭县恒信",  # yun ling before yun nan
        "云南博远",
        "张记测绘",
    ]
    # the same letters: the tone decides, then the character
    assert sorted(["妈", "麻", "马", "骂"], key=pinyin_key) == ["妈", "麻", "马", "骂"]


_NAME_CHARS = st.sampled_from(list("阿啊爱安长重庆江云南岭县恒信博远张记测绘北斗妈麻马骂行银乐中心 -（）()·AaBbZz019"))


@given(st.lists(st.text(_NAME_CHARS, min_size=0, max_size=8), min_size=2, max_size=12))
def test_the_sort_text_orders_names_as_the_pinyin_key_does(names):
    """The directory sorts by pinyin_sort_text (strings compare in C); the order must be the key's."""
    for a in names:
        for b in names:
            assert (pinyin_sort_text(a) < pinyin_sort_text(b)) == (pinyin_key(a) < pinyin_key(b)), (a, b)
            assert (pinyin_sort_text(a) == pinyin_sort_text(b)) == (pinyin_key(a) == pinyin_key(b)), (a, b)


def test_the_owners_commitment_letter_promises_30_calendar_days() -> None:
    from listings import commitment
    from market import i18n

    english = " ".join(commitment.OWNER_LETTER)
    assert "30 calendar days of acceptance" in english and "never beyond 60 days" in english
    token = i18n.set_locale("zh")
    try:
        chinese = " ".join(i18n.gettext(line) for line in commitment.OWNER_LETTER)
    finally:
        i18n.reset_locale(token)
    assert "30 日（自然日）" in chinese and "60 日" in chinese
    assert commitment.VERSION == "2026-2"  # the wording changed: a new version of the letter
