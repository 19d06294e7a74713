"""The anchors' slots (hours from a China midnight, shortened by the accelerator) and signatures."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from market.audit import signing
from market.audit.anchors import SavedAnchor, current_slot, read_saved
from market.audit.models import AnchorKind
from market.clock import LOCAL_TZ
from market.settings import Settings, SettingsError


def test_slots_are_hours_and_the_midnight_one_ends_a_day_in_china():
    at = datetime(2026, 11, 30, 15, 42, 7, tzinfo=LOCAL_TZ)
    assert current_slot(at) == (datetime(2026, 11, 30, 15, 0, tzinfo=LOCAL_TZ), AnchorKind.hour)
    midnight = datetime(2026, 12, 1, 0, 0, 0, tzinfo=LOCAL_TZ)
    assert current_slot(midnight + timedelta(minutes=59)) == (midnight, AnchorKind.day)
    # 16:00 UTC is midnight in China, not 00:00 UTC
    assert current_slot(datetime(2026, 11, 30, 16, 30, tzinfo=UTC))[1] is AnchorKind.day
    assert current_slot(datetime(2026, 11, 30, 0, 30, tzinfo=UTC))[1] is AnchorKind.hour


def test_the_accelerator_shortens_the_hour():
    start = datetime(2026, 11, 30, 15, 0, tzinfo=LOCAL_TZ)
    first, _ = current_slot(start + timedelta(milliseconds=200), 3600)
    second, _ = current_slot(start + timedelta(seconds=1, milliseconds=200), 3600)
    assert second - first == timedelta(seconds=1)
    # 24 accelerated hours after a midnight, the next day's end
    day_slots = [current_slot(start + timedelta(seconds=s), 3600)[1] for s in range(0, 48)]
    assert day_slots.count(AnchorKind.day) == 2


def test_a_signature_covers_seq_hash_time_and_kind():
    key = Ed25519PrivateKey.generate()
    at = signing.format_at(datetime(2026, 11, 30, 4, 0, tzinfo=UTC))
    assert at == "2026-11-30T04:00:00.000000Z"
    message = signing.anchor_message(7, "ab" * 32, at, "hour")
    assert message == b'market-audit-anchor/v1 {"at":"2026-11-30T04:00:00.000000Z","hash":"' + b"ab" * 32 + (
        b'","kind":"hour","seq":7}'
    )
    signature = signing.sign(key, message)
    public = key.public_key()
    for text in (signing.public_pem(public), signing.public_raw_base64(public)):
        assert signing.signature_ok(signing.public_key_from_text(text), message, signature)
    assert not signing.signature_ok(public, signing.anchor_message(8, "ab" * 32, at, "hour"), signature)
    assert not signing.signature_ok(public, signing.anchor_message(7, "ab" * 32, at, "day"), signature)
    assert not signing.signature_ok(Ed25519PrivateKey.generate().public_key(), message, signature)
    assert not signing.signature_ok(public, message, "not base64!")
    with pytest.raises(ValueError):
        signing.public_key_from_text("c2hvcnQ=")


def test_saved_documents_are_read_or_refused_by_what_is_wrong():
    anchor = {"seq": 3, "hash": "0" * 64, "at": "x", "kind": "hour", "signature": "s", "key_id": "k"}
    assert read_saved({"public_key": "P", "anchors": [anchor]}) == (
        "P",
        [SavedAnchor(3, "0" * 64, "x", "hour", "s", "k")],
    )
    assert read_saved([anchor])[0] is None
    with pytest.raises(ValueError, match="anchors"):
        read_saved({"items": []})
    with pytest.raises(ValueError, match="anchor 1: seq"):
        read_saved([{**anchor, "seq": "3"}])


def test_development_generates_the_key_once_and_production_never(tmp_path):
    dev = Settings(var_dir=tmp_path)
    key = signing.signing_key(dev)
    assert dev.signing_key_path.exists() and dev.signing_key_path.stat().st_mode & 0o077 == 0
    assert signing.key_id(signing.signing_key(dev).public_key()) == signing.key_id(key.public_key())
    prod = Settings(var_dir=tmp_path / "other", env="production", secret_key="x" * 40, signing_key_file=None)
    with pytest.raises(SettingsError, match="MARKET_SIGNING_KEY_FILE"):
        signing.signing_key(prod)
    assert not (tmp_path / "other").exists()
