"""Invisible and text-direction characters are refused in text a person sends; amounts are ASCII
digits only (issue 10, point 7)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from listings.storage import clean_filename
from market.errors import InvalidInput
from market.money import MoneyError, parse_money
from market.schemas import Money, Schema, invisible_character

INVISIBLE = [
    "\u202e",  # right-to-left override
    "\u202a",
    "\u202d",
    "\u2066",  # left-to-right isolate … pop directional isolate
    "\u2067",
    "\u2068",
    "\u2069",
    "\u200b",  # zero-width space
    "\u200c",
    "\u200d",
    "\u200e",  # left-to-right mark
    "\u200f",
    "\u061c",
    "\ufeff",  # byte-order mark
    "\u2060",
    "\u00ad",  # soft hyphen
    "\u2028",
    "\u3164",  # hangul filler
    "\U000e0041",  # tag character (Cf, beyond the explicit list)
]


class Named(Schema):
    name: str
    title: str = "ok"


@pytest.mark.parametrize("ch", INVISIBLE)
def test_invisible_characters_are_refused_naming_the_field(ch):
    assert invisible_character(f"云岭{ch}测绘") == ch
    with pytest.raises(ValidationError) as raised:
        Named(name=f"云南某{ch}测绘有限公司")
    error = raised.value.errors()[0]
    assert error["loc"] == ("name",) and f"U+{ord(ch):04X}" in error["msg"]


def test_ordinary_chinese_english_and_punctuation_pass():
    for text in ["云南省昆明市五华区人民中路 1 号", "Yunnan Survey Co., Ltd.", "“评估”—（第 2 期）·№5", "Müller & Søn"]:
        assert invisible_character(text) is None
        assert Named(name=text).name == text.strip()


@pytest.mark.parametrize("name", ["invoice\u202efdp.pdf", "scan\u200b.pdf", "\ufefflicence.pdf"])
def test_file_names_with_invisible_characters_are_refused(name):
    with pytest.raises(InvalidInput) as raised:
        clean_filename(name, "business_licence")
    assert [e.field for e in raised.value.errors] == ["business_licence"]
    assert clean_filename("C:\\scans\\营业执照.pdf") == "营业执照.pdf"


@pytest.mark.parametrize("bad", ["１２８００", "1_000", "12_800.00", "１2800", "12800\u200b", "1e3", "١٢٣", "𝟏𝟐𝟖"])
def test_money_takes_ascii_digits_only(bad):
    with pytest.raises(MoneyError):
        parse_money(bad)

    class Priced(Schema):
        price: Money

    with pytest.raises(ValidationError):
        Priced.model_validate({"price": bad})
    with pytest.raises(ValidationError):
        Priced.model_validate_json(f'{{"price": "{bad}"}}')
