"""Pure rules of the listings package: plain data in, answers out (no database, no clock).

:func:`is_qualified` is the one answer to "may this provider serve this catalog item on that
date?"; :func:`listings.services.qualified` feeds it from a single query, and the unit tests
exercise it directly.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from listings.models import ReviewStatus
from market.collation import name_sort_key as name_sort_key  # re-exported: the listings rules
from market.collation import pinyin_key as pinyin_key
from market.collation import pinyin_sort_text as pinyin_sort_text
from market.identity.models import OrgKind, OrgStatus


@dataclass(frozen=True)
class Standing:
    """An organisation's standing: its kind, review status and suspension end (inclusive)."""

    kind: OrgKind
    status: OrgStatus
    suspended_until: date | None = None


@dataclass(frozen=True)
class QualificationFacts:
    """A qualification as the rule needs it: review status, last valid day, covered item codes."""

    status: ReviewStatus
    valid_until: date
    covers: frozenset[str] = field(default_factory=frozenset)


def can_act(standing: Standing, on_date: date) -> bool:
    """May the organisation act on ``on_date``?

    Approved organisations may. A suspension runs through its end date: from the next day the
    organisation may act again, even before the worker has written it back to ``approved``.
    Pending, rejected and blacklisted organisations may not; neither may a suspended one whose
    suspension has no end date.
    """
    if standing.status == OrgStatus.approved:
        return standing.suspended_until is None or standing.suspended_until < on_date
    if standing.status == OrgStatus.suspended:
        return standing.suspended_until is not None and standing.suspended_until < on_date
    return False


def qualification_counts(q: QualificationFacts, catalog_code: str, on_date: date) -> bool:
    """An approved qualification, not expired on ``on_date`` (valid through ``valid_until``), covering the item."""
    return q.status == ReviewStatus.approved and on_date <= q.valid_until and catalog_code in q.covers


def is_qualified(
    standing: Standing | None, qualifications: Iterable[QualificationFacts], catalog_code: str, on_date: date
) -> bool:
    """A provider organisation that may act on ``on_date`` and holds a qualification that counts."""
    if standing is None or standing.kind != OrgKind.provider or not can_act(standing, on_date):
        return False
    return any(qualification_counts(q, catalog_code, on_date) for q in qualifications)


# --- practitioners' ID numbers ---------------------------------------------------------------


def mask_id_number(number: str) -> str:
    """``530102199001011234`` → ``530102********1234``: region kept, birth date and sequence hidden."""
    return number[:6] + "*" * (len(number) - 10) + number[-4:]


def id_number_hash(secret_key: str, number: str) -> str:
    """Keyed hash of an ID number (HMAC-SHA256): equal numbers match, the number cannot be recovered
    without the platform's secret key."""
    return hmac.new(
        secret_key.encode("utf-8"), b"practitioner-id:" + number.upper().encode("ascii"), hashlib.sha256
    ).hexdigest()


# --- uploads ---------------------------------------------------------------------------------

SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"%PDF-", "application/pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
)
EXTENSIONS = {
    "application/pdf": (".pdf",),
    "image/png": (".png",),
    "image/jpeg": (".jpg", ".jpeg", ".jpe"),
}


def sniff_content_type(head: bytes) -> str | None:
    """The content type recognised from the first bytes, or ``None`` when it is none we accept."""
    for signature, content_type in SIGNATURES:
        if head.startswith(signature):
            return content_type
    return None


def extension_matches(filename: str, content_type: str) -> bool:
    """False when the name claims another accepted kind (``scan.pdf`` holding a PNG), or a kind we do not accept."""
    name = filename.lower().strip()
    if "." not in name:
        return True
    ext = name[name.rfind(".") :]
    return ext in EXTENSIONS[content_type]


# --- phone numbers ---------------------------------------------------------------------------

# A mainland mobile number (1[3-9] and nine digits), or a landline with its area code: 0 and two
# digits for Beijing and the 02x cities (010, 021 …), 0 and three digits elsewhere (0871 Kunming,
# 0877 Yuxi …), then a local number of 7 or 8 digits that does not start with 0 or 1; an extension
# may follow (转, 分机, ext or x). Spaces, dashes, dots and brackets are ignored, so are +86 and
# 0086 in front; full-width digits count as digits. A clear rule of our own: python-stdnum has no
# Chinese phone numbers, and a full numbering-plan library would add nothing the rule needs.
MOBILE_RE = re.compile(r"1[3-9][0-9]{9}")
LANDLINE_RE = re.compile(r"(?P<area>0(?:10|2[0-9]|[3-9][0-9]{2}))(?P<local>[2-9][0-9]{6,7})")
_EXTENSION_RE = re.compile(r"^(?P<number>.+?)\s*(?:转|分机|ext\.?|x)\s*(?P<ext>[0-9]{1,6})$", re.IGNORECASE)
_SEPARATORS_RE = re.compile(r"[\s\-.()]+")


def normalize_phone(text: str) -> str | None:
    """The number in one written form (``13812345678``, ``0871-65123456``, ``0871-65123456-8012``
    with an extension), or ``None`` when it is neither a mainland mobile number nor a landline
    with its area code."""
    value = unicodedata.normalize("NFKC", text or "").strip()
    extension = ""
    found = _EXTENSION_RE.match(value)
    if found:
        value, extension = found.group("number"), found.group("ext")
    digits = _SEPARATORS_RE.sub("", value)
    international = False
    for prefix in ("+86", "0086", "86"):
        if digits.startswith(prefix) and (prefix != "86" or len(digits) >= 12):
            digits, international = digits[len(prefix) :], True
            break
    if not digits.isascii() or not digits.isdigit():
        return None
    if international and not digits.startswith(("0", "1")):
        digits = "0" + digits  # after the country code the trunk 0 of the area code is left out
    if MOBILE_RE.fullmatch(digits):
        return None if extension else digits
    landline = LANDLINE_RE.fullmatch(digits)
    if landline:
        number = f"{landline.group('area')}-{landline.group('local')}"
        return f"{number}-{extension}" if extension else number
    return None


# --- names in Chinese order ------------------------------------------------------------------


# the rule lives in market.collation (the organisations table stores its key, organizations.name_key);
# imported above under the names the listings rules always had
