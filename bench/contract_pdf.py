"""How long a contract PDF takes to render, with HarfBuzz subsetting of the CJK font (the
platform's setting), with WeasyPrint's fontTools fallback (what happens when
libharfbuzz-subset0 is missing), and without subsetting (the whole Noto Sans CJK embedded).

    .venv/bin/python bench/contract_pdf.py [--runs 5] [--slow-runs 1]

No database: the contract is built in memory, rendered from the real template (invoices/pdf/).
"""

from __future__ import annotations

import argparse
import hashlib
import logging
import statistics
import time
import uuid
from datetime import UTC, datetime
from decimal import Decimal

from invoices import labels as _labels  # noqa: F401
from invoices import rendering, rules
from invoices.documents import Source
from invoices.models import Contract
from market.settings import Settings


def sample_contract() -> Contract:
    signed = datetime(2026, 9, 18, 7, 30, tzinfo=UTC)
    amount = Decimal("12800.00")
    return Contract(
        id=uuid.UUID(int=1),
        number="HT-2026-000001",
        purchase_id=uuid.UUID(int=2),
        purchase_ref="CG-2026-000042",
        bid_id=uuid.UUID(int=3),
        title="城南片区建设用地地质灾害危险性评估",
        scope="对城南片区 12.6 公顷建设用地开展地质灾害危险性评估，提交评估报告及附图（1:2000）。",
        catalog_code="ZJ-013",
        catalog_name="地质灾害危险性评估",
        method="random",
        draw_seed=hashlib.sha256(b"bench").hexdigest(),
        awarded_at=signed,
        owner_id=uuid.UUID(int=4),
        owner_name="云岭县自然资源局",
        owner_uscc="11530100MB1234567X",
        owner_address="云岭县人民路 66 号",
        owner_legal_rep="刘洋",
        provider_id=uuid.UUID(int=5),
        provider_name="云南滇中地质勘查咨询有限公司",
        provider_uscc="91530100MA6K8XQ47H",
        provider_address="昆明市五华区学府路 8 号",
        provider_legal_rep="陈静",
        amount=amount,
        amount_in_words=rules.amount_in_capitals(amount),
        amount_current=amount,
        service_days=11,
        payment_days=30,
        drafted_at=signed,
        sign_by=signed,
        owner_signed_at=signed,
        owner_signed_ip="198.51.100.24",
        provider_signed_at=signed,
        provider_signed_ip="198.51.100.25",
        signed_at=signed,
        due_at=rules.service_due(signed, 11),
        due_at_current=rules.service_due(signed, 11),
        status="signed",
    )


def contract_html(lang: str = "zh") -> str:
    settings = Settings()
    c = sample_contract()
    source = Source(
        kind="contract",
        entity_id=c.id,
        lang=lang,
        template="contract.html",
        number=c.number,
        created=c.signed_at,
        context={
            "c": c,
            "owner_signer": "规划科 孙红",
            "provider_signer": "项目经理 周凯",
            "draw_url": f"{settings.base_url}/verify/draw/{c.purchase_ref}",
        },
    )
    context = {
        **source.context,
        "doc": source,
        "base_url": settings.base_url,
        "verify_url": f"{settings.base_url}/verify/document",
    }
    return rendering.render_html("contract.html", context, lang)


def timed(label: str, html: str, runs: int, **options: bool) -> tuple[str, float, int]:
    times, size = [], 0
    for _ in range(runs):
        start = time.perf_counter()
        data = rendering.html_to_pdf(html, identifier="bench", **options)
        times.append(time.perf_counter() - start)
        size = len(data)
    return label, statistics.median(times), size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5, help="renders per fast variant (median reported)")
    parser.add_argument("--slow-runs", type=int, default=1, help="renders per slow variant")
    args = parser.parse_args()
    logging.getLogger("weasyprint").setLevel(logging.ERROR)  # the fontTools fallback warns on every font
    html = contract_html()
    rendering.html_to_pdf(html, identifier="warm-up")  # fonts found, caches filled

    from weasyprint.pdf import fonts

    results = []
    if not rendering.harfbuzz_subsetting_available():
        print("libharfbuzz-subset0 is not installed: the first row measures the fontTools fallback")
    results.append(timed("HarfBuzz subsetting (the platform)", html, args.runs))
    saved = fonts.harfbuzz_subset
    fonts.harfbuzz_subset = None
    try:
        results.append(timed("fontTools subsetting (no libharfbuzz-subset0)", html, args.slow_runs))
    finally:
        fonts.harfbuzz_subset = saved
    results.append(timed("no subsetting (full fonts embedded)", html, args.slow_runs, full_fonts=True))

    print(f"contract PDF ({html.count('<h2>')} articles, 2 A4 pages), median seconds per render:")
    for label, seconds, size in results:
        print(f"  {label:<48} {seconds:8.3f} s   {size / 1024:10.0f} KiB")


if __name__ == "__main__":
    main()
