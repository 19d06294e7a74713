"""Exports (CSV that Excel reads, XLSX with typed cells, no formula injection) and the oversight
settings read from the environment."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from market import i18n
from market.settings import Settings, SettingsError
from oversight import exports, rules
from oversight.facts import Snapshot

T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)


def snapshot() -> Snapshot:
    winner = uuid.uuid4()
    sealed = rules.PurchaseFact(
        id=uuid.uuid4(),
        ref="CG-2026-000002",
        title='=HYPERLINK("http://evil.example","点我")',
        owner_id=uuid.uuid4(),
        owner_name="+云岭县交通运输局",
        catalog_code="YLZJ-001",
        catalog_name="环境影响报告书编制",
        method="random",
        funding="fiscal",
        status="open",
        cap=Decimal("50000.00"),
        published_at=T0,
        deadline=T0 + timedelta(days=5),
    )
    done = rules.PurchaseFact(
        id=uuid.uuid4(),
        ref="CG-2026-000001",
        title="城南片区地质灾害危险性评估",
        owner_id=uuid.uuid4(),
        owner_name="云岭县自然资源局",
        catalog_code="YLZJ-013",
        catalog_name="地质灾害危险性评估",
        method="direct",
        funding="fiscal",
        status="awarded",
        cap=Decimal("50000.00"),
        published_at=T0,
        deadline=T0 + timedelta(days=5),
        bids=(rules.BidFact(winner, Decimal("42000.00"), True),),
        winner_id=winner,
        winner_name="云南地勘工程咨询有限公司",
        price=Decimal("42000.00"),
        reason="抢险救灾",
        awarded_at=T0 + timedelta(days=10),
    )
    return Snapshot(purchases=[done, sealed], firms=[])


@pytest.fixture(autouse=True)
def english():
    token = i18n.set_locale("en")
    yield
    i18n.reset_locale(token)


def test_csv_has_a_bom_plain_amounts_blank_sealed_counts_and_no_formulas():
    snap = snapshot()
    flags = rules.all_flags(snap.purchases, snap.firms, rules.Thresholds())
    headers, rows = exports.table(snap, flags)
    data = exports.to_csv(headers, rows)
    assert data.startswith(b"\xef\xbb\xbf")
    table = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    head, done, sealed = table
    col = {name: i for i, name in enumerate(head)}
    assert done[col["Winning price"]] == "42000.00" and done[col["Savings against the cap"]] == "8000.00"
    assert done[col["Published"]] == "2026-03-02 09:00"  # China time
    assert "direct_selection" in done[col["Flag codes"]].split() and "single_bid" in done[col["Flag codes"]].split()
    assert sealed[col["Bids"]] == "" and sealed[col["Valid bids"]] == ""  # sealed: unknown, not zero
    assert sealed[col["Title"]].startswith("'=") and sealed[col["Owner"]].startswith("'+")


def test_xlsx_keeps_numbers_numbers_dates_dates_and_text_text():
    snap = snapshot()
    flags = rules.all_flags(snap.purchases, snap.firms, rules.Thresholds())
    book = load_workbook(io.BytesIO(exports.to_xlsx(snap, flags, "云岭县")))
    assert book.sheetnames == ["Purchases", "Red flags"]
    sheet = book["Purchases"]
    head = [c.value for c in sheet[1]]
    done = {h: c for h, c in zip(head, sheet[2], strict=True)}
    sealed = {h: c for h, c in zip(head, sheet[3], strict=True)}
    assert done["Winning price"].value == 42000 and done["Winning price"].number_format == "#,##0.00"
    assert done["Published"].value == datetime(2026, 3, 2, 9, 0)
    assert sealed["Title"].data_type == "s" and sealed["Title"].value.startswith("=HYPERLINK")
    assert sealed["Bids"].value is None
    flag_rows = list(book["Red flags"].iter_rows(min_row=2, values_only=True))
    assert {r[-1] for r in flag_rows} >= {"direct_selection", "single_bid"}
    assert all(r[5] for r in flag_rows)  # every flag explained


def test_oversight_settings_come_from_the_environment():
    s = Settings.from_env(
        {
            "MARKET_SPLIT_THRESHOLD": "200000",
            "MARKET_SPLIT_WINDOW_DAYS": "60",
            "MARKET_CONCENTRATION_SHARE": "0.4",
            "MARKET_CONCENTRATION_MIN_AWARDS": "5",
            "MARKET_LOW_PRICE_RATIO": "0.6",
            "MARKET_ABNORMAL_LOW_RATIO": "0.7",
            "MARKET_OCDS_PREFIX": "ocds-ab12cd",
            "MARKET_OCDS_PUBLISHER": "云岭县财政局",
        }
    )
    t = rules.Thresholds.of(s)
    assert (t.split_threshold, t.split_window_days, t.concentration_share, t.concentration_min_awards) == (
        Decimal("200000"),
        60,
        Decimal("0.4"),
        5,
    )
    assert (t.low_price_ratio, t.abnormal_low_ratio) == (Decimal("0.6"), Decimal("0.7"))
    assert (s.ocds_prefix, s.ocds_publisher) == ("ocds-ab12cd", "云岭县财政局")
    defaults = Settings.from_env({})
    assert defaults.split_threshold == Decimal("100000.00") and defaults.concentration_min_awards == 3


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("MARKET_SPLIT_THRESHOLD", "lots"),
        ("MARKET_SPLIT_THRESHOLD", "0"),
        ("MARKET_CONCENTRATION_SHARE", "1.5"),
        ("MARKET_LOW_PRICE_RATIO", "NaN"),
        ("MARKET_SPLIT_WINDOW_DAYS", "0"),
        ("MARKET_CONCENTRATION_MIN_AWARDS", "1"),
        ("MARKET_OCDS_PREFIX", "ocds-toolong7"),
    ],
)
def test_bad_oversight_settings_are_refused_with_their_name(name, value):
    with pytest.raises(SettingsError, match=name):
        Settings.from_env({name: value})


def test_the_export_sweep_deletes_only_old_export_files(tmp_path):
    """Files a download left behind (the client went away) go after an hour; others stay."""
    import os

    from oversight import export_jobs

    old, fresh, other = tmp_path / "export-a.csv", tmp_path / "export-b.xlsx", tmp_path / "keep.txt"
    for path in (old, fresh, other):
        path.write_bytes(b"x")
    os.utime(old, (1_000, 1_000))
    os.utime(other, (1_000, 1_000))
    export_jobs.sweep(tmp_path, now=1_000 + export_jobs.STALE_AFTER + 1)
    assert not old.exists() and fresh.exists() and other.exists()
