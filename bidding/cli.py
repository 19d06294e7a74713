"""``market verify-draw REF``: recompute a purchase's draws from its published result."""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Any

import click

from market import db as dbmod
from market.errors import NotFound
from market.settings import Settings, SettingsError


@click.command("verify-draw")
@click.argument("ref")
@click.option("--json", "as_json", is_flag=True, help="Print the checks as JSON.")
def verify_draw(ref: str, as_json: bool) -> None:
    """Recompute the verifiable draw(s) of purchase REF (e.g. CG-2026-000001); exit 1 if one fails."""
    from bidding import purchases, selecting

    try:
        settings = Settings.from_env()
    except SettingsError as exc:
        raise click.ClickException(str(exc)) from exc

    async def run() -> tuple[str, list[Any]]:
        engine = dbmod.create_engine(settings.database_url)
        try:
            async with dbmod.unit_of_work(dbmod.session_factory(engine)) as session:
                p = await purchases.get_by_ref(session, settings, ref)
                checks = await selecting.verify_purchase(session, p)
                return str(p.ref), checks  # a read: the unit of work rolls back whatever it touched
        finally:
            await engine.dispose()

    try:
        the_ref, checks = asyncio.run(run())
    except NotFound as exc:
        raise click.ClickException(
            f"{ref}: {exc.title} {exc.detail if exc.detail != exc.title else ''}".strip()
        ) from exc
    if not checks:
        raise click.ClickException(f"{the_ref}: no draw has been made (yet) for this purchase")
    ok = all(c.verification.ok for c in checks)
    if as_json:
        click.echo(
            json.dumps(
                {
                    "ref": the_ref,
                    "ok": ok,
                    "draws": [
                        {
                            "round": c.round,
                            "ok": c.verification.ok,
                            "checks": dict(c.verification.checks),
                            "seed": c.verification.seed,
                            "index": c.verification.index,
                            "winner_digest": c.verification.winner,
                        }
                        for c in checks
                    ],
                }
            )
        )
    else:
        for c in checks:
            v = c.verification
            click.echo(f"{the_ref} round {c.round} ({c.status})")
            click.echo(f"  commitment  {c.proof['commitment']}")
            click.echo(f"  secret      {c.proof['secret']}")
            click.echo(f"  candidates  {len(c.proof['candidates'])}")
            for i, cand in enumerate(c.proof["candidates"]):
                click.echo(f"    [{i}] {cand}")
            click.echo(f"  seed        {v.seed}")
            click.echo(f"  index       {v.index} = int(seed, 16) % {len(c.proof['candidates'])}")
            click.echo(f"  winner      {v.winner}")
            for name, passed in v.checks:
                click.echo(f"  {'ok  ' if passed else 'FAIL'} {name}")
        click.echo("verified: every draw recomputes" if ok else "NOT VERIFIED")
    sys.exit(0 if ok else 1)
