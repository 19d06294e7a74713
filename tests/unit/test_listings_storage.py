"""Files held across a refused form, without a database: signed tokens, a few per address."""

from __future__ import annotations

from pathlib import Path

from listings import storage
from market.settings import Settings


def pdf_bytes(extra: bytes = b"") -> bytes:
    return b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n" + extra + b"\n%%EOF\n"


def test_a_held_file_is_named_by_a_signed_token_and_each_address_holds_a_few(tmp_path: Path):
    settings = Settings(var_dir=tmp_path, upload_dir=tmp_path / "uploads").validate()
    kept = [storage.hold(settings, "203.0.113.50", pdf_bytes(b"%d" % i), f"{i}.pdf") for i in range(5)]
    found = storage.held(settings, kept[-1].token)
    assert found is not None and found[1] == pdf_bytes(b"4") and found[0].filename == "4.pdf"
    # the address keeps its newest few: the oldest are gone
    assert storage.held(settings, kept[0].token) is None
    assert sum(storage.held(settings, k.token) is not None for k in kept) == storage.HELD_PER_CLIENT
    # a token is signed: another file's name in it, or another key, finds nothing
    payload, _dot, signature = kept[-1].token.partition(".")
    assert storage.held(settings, payload + "." + "0" * len(signature)) is None
    assert storage.held(settings.with_(secret_key="another-secret-key-of-enough-length!"), kept[-1].token) is None
    assert storage.held(settings, "not a token") is None
