"""Anchors of the audit chain outside the database: the worker signs the head hourly and at the end
of each China day, anyone reads them (API, page, public key), and a saved copy exposes a history
rewritten by the table's owner even when every later hash and the head were recomputed."""

from __future__ import annotations

import asyncio
import contextlib
import json
from datetime import datetime, timedelta
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from market import audit, clock, worker
from market.actor import SYSTEM
from market.audit import signing
from market.audit.anchors import anchor_tick
from market.audit.models import AuditAnchor, AuditEvent
from market.audit.service import event_hash
from market.cli import main
from market.clock import LOCAL_TZ

T0 = datetime(2026, 11, 30, 14, 20, tzinfo=LOCAL_TZ)


async def _record(factory, n: int, tag: str = "t") -> None:
    async with factory() as session:
        for i in range(n):
            audit.record(session, SYSTEM, "test.event", "thing", f"{tag}{i}", {"i": i, "note": "审计"})
        await session.commit()


async def _anchors(factory) -> list[AuditAnchor]:
    async with factory() as session:
        return list(await session.scalars(select(AuditAnchor).order_by(AuditAnchor.at)))


async def _cli(settings, *args: str):
    """The command as an operator runs it (in a thread: it runs its own event loop)."""
    env = {
        "MARKET_DATABASE_URL": settings.database_url,
        "MARKET_VAR_DIR": str(settings.var_dir),
        "MARKET_ARGON2_PROFILE": "fast",
    }
    return await asyncio.to_thread(CliRunner().invoke, main, list(args), env=env, catch_exceptions=False)


async def _save(client, path: Path) -> dict:
    """What anybody may do: save the published anchors."""
    r = await client.get("/api/v1/audit/anchors")
    assert r.status_code == 200
    await asyncio.to_thread(path.write_text, r.text, encoding="utf-8")
    return r.json()


@contextlib.asynccontextmanager
async def _as_owner_without_guards(factory, backend: str):
    """What the tables' owner can do: switch the audit trail's guards off, change it, switch
    them on again (SQLite has no DISABLE TRIGGER: drop and re-create them)."""
    async with factory() as session:
        if backend == "postgresql":
            await session.execute(text("ALTER TABLE audit_events DISABLE TRIGGER USER"))
        else:
            saved = (
                await session.execute(
                    text("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'audit_events'")
                )
            ).all()
            assert saved
            for name, _sql in saved:
                await session.execute(text(f"DROP TRIGGER {name}"))
        yield session
        if backend == "postgresql":
            await session.execute(text("ALTER TABLE audit_events ENABLE TRIGGER USER"))
        else:
            for _name, sql in saved:
                await session.execute(text(sql))
        await session.commit()


async def _rehash_from(session, seq: int) -> None:
    """Recompute the hash of event ``seq`` and of every later one, and the head."""
    events = list(await session.scalars(select(AuditEvent).where(AuditEvent.seq >= seq).order_by(AuditEvent.seq)))
    prev = events[0].prev_hash
    for ev in events:
        session.expunge(ev)  # a detached copy: only the statements below write
        ev.prev_hash = prev
        ev.hash = event_hash(ev)
        await session.execute(
            text("UPDATE audit_events SET prev_hash = :p, hash = :h WHERE seq = :s"),
            {"p": ev.prev_hash, "h": ev.hash, "s": ev.seq},
        )
        prev = ev.hash
    await session.execute(
        text("UPDATE audit_head SET seq = :s, hash = :h WHERE id = 1"), {"s": events[-1].seq, "h": prev}
    )


async def _rewrite(factory, backend: str, seq: int) -> None:
    """Edit event ``seq``, then recompute the hash of every later event and the head."""
    async with _as_owner_without_guards(factory, backend) as session:
        r = await session.execute(
            text("UPDATE audit_events SET data = replace(data, '审计', '改过') WHERE seq = :s"), {"s": seq}
        )
        assert r.rowcount == 1
        await _rehash_from(session, seq)


async def test_the_worker_anchors_every_hour_and_the_end_of_each_day(app, factory, settings):
    """A registered worker job: one anchor per hour however often it runs; the midnight one ends the day."""
    assert "audit.anchors" in worker.jobs
    await _record(factory, 3)
    with clock.frozen(T0):
        assert (await worker.run_once(factory, settings))["audit.anchors"] == 1
        assert (await worker.run_once(factory, settings))["audit.anchors"] == 0
        clock.advance(timedelta(minutes=39))  # 14:59
        assert (await worker.run_once(factory, settings))["audit.anchors"] == 0
        await _record(factory, 2)
        clock.advance(timedelta(minutes=1))  # 15:00
        assert (await worker.run_once(factory, settings))["audit.anchors"] == 1
        clock.freeze(datetime(2026, 12, 1, 0, 0, 3, tzinfo=LOCAL_TZ))
        assert (await worker.run_once(factory, settings))["audit.anchors"] == 1
    first, second, day_end = await _anchors(factory)
    assert (first.seq, second.seq, day_end.seq) == (3, 5, 5)
    assert [a.kind.value for a in (first, second, day_end)] == ["hour", "hour", "day"]
    async with factory() as session:
        assert second.hash == await session.scalar(select(AuditEvent.hash).where(AuditEvent.seq == 5))
    # anchors are append-only in the database itself
    async with factory() as session:
        for statement in ("UPDATE audit_anchors SET seq = 1", "DELETE FROM audit_anchors"):
            try:
                await session.execute(text(statement))
            except DBAPIError as exc:
                assert "append-only" in str(exc)
            else:
                raise AssertionError(f"{statement} was allowed")
            await session.rollback()


async def test_the_accelerator_shortens_the_anchors_hour(app, factory, settings):
    fast = settings.with_(accelerator=3600)  # an hour lasts a second
    with clock.frozen(T0):
        assert (await worker.run_once(factory, fast))["audit.anchors"] == 0  # an empty chain: nothing to anchor
    await _record(factory, 1)
    with clock.frozen(T0):
        assert (await worker.run_once(factory, fast))["audit.anchors"] == 1
        clock.advance(timedelta(seconds=1))
        assert (await worker.run_once(factory, fast))["audit.anchors"] == 1
    assert len(await _anchors(factory)) == 2


async def test_anchors_and_the_key_are_public(client, factory, settings):
    await _record(factory, 2)
    with clock.frozen(T0):
        await worker.run_once(factory, settings)
    r = await client.get("/api/v1/audit/anchors")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["algorithm"] == "Ed25519" and body["total"] == 1
    (anchor,) = body["anchors"]
    assert anchor["seq"] == 2 and anchor["at"] == "2026-11-30T06:20:00.000000Z" and anchor["kind"] == "hour"
    pem = (await client.get("/api/v1/audit/public-key")).text
    assert pem.startswith("-----BEGIN PUBLIC KEY-----") and pem == body["public_key"]
    message = signing.anchor_message(anchor["seq"], anchor["hash"], anchor["at"], anchor["kind"])
    for text_ in (pem, body["public_key_base64"]):
        assert signing.signature_ok(signing.public_key_from_text(text_), message, anchor["signature"])
    for lang, words in (("en", "Audit anchors"), ("zh", "审计锚点")):
        page = await client.get(f"/audit/anchors?lang={lang}")
        assert page.status_code == 200
        assert words in page.text and body["public_key_base64"] in page.text and anchor["hash"][:16] in page.text
    assert 'href="/audit/anchors"' in (await client.get("/")).text
    for query, field in (("limit=0", "limit"), ("limit=x", "limit"), (f"offset={10**20}", "offset")):
        bad = await client.get(f"/api/v1/audit/anchors?{query}")
        assert bad.status_code in (400, 422) and field in bad.text, (query, bad.text)
    assert (await client.get("/audit/anchors?page=99999999999999999999")).status_code == 200


async def test_a_rewritten_and_rehashed_history_is_caught_by_saved_anchors(
    client, factory, settings, backend, tmp_path
):
    await _record(factory, 6, "a")
    with clock.frozen(T0):
        await worker.run_once(factory, settings)
    await _record(factory, 3, "b")
    with clock.frozen(T0 + timedelta(hours=1)):
        await worker.run_once(factory, settings)
    saved = await _save(client, tmp_path / "anchors.json")
    first_seq, second_seq = sorted(a["seq"] for a in saved["anchors"])
    assert (first_seq, second_seq) == (6, 9)
    before = await _cli(settings, "audit", "verify", "--anchors", str(tmp_path / "anchors.json"))
    assert before.exit_code == 0, before.output
    assert json.loads(before.output)["anchors"] == {"ok": True, "checked": 2, "held": 2, "first_bad": None}

    await _rewrite(factory, backend, 4)  # an event before the first anchor

    plain = await _cli(settings, "audit", "verify")
    assert plain.exit_code == 0 and json.loads(plain.output)["ok"] is True  # the chain alone cannot tell
    caught = await _cli(settings, "audit", "verify", "--anchors", str(tmp_path / "anchors.json"))
    assert caught.exit_code != 0
    result = json.loads(caught.output)
    assert result["ok"] is False
    assert result["anchors"]["first_bad"]["seq"] == first_seq
    assert result["anchors"]["first_bad"]["reason"] == "the event at this seq no longer has the anchored hash"
    assert result["anchors"]["held"] == 0


async def test_an_edit_between_two_anchors_names_the_later_one(client, factory, settings, backend, tmp_path):
    await _record(factory, 3, "a")
    with clock.frozen(T0):
        await worker.run_once(factory, settings)
    await _record(factory, 3, "b")
    with clock.frozen(T0 + timedelta(hours=1)):
        await worker.run_once(factory, settings)
    await _save(client, tmp_path / "anchors.json")
    await _rewrite(factory, backend, 5)
    caught = await _cli(settings, "audit", "verify", "--anchors", str(tmp_path / "anchors.json"))
    assert caught.exit_code != 0
    anchors = json.loads(caught.output)["anchors"]
    assert anchors["held"] == 1 and anchors["first_bad"]["seq"] == 6


async def test_a_tampered_signature_or_anchor_or_key_is_refused(client, factory, settings, tmp_path):
    await _record(factory, 4)
    with clock.frozen(T0):
        await worker.run_once(factory, settings)
    saved = await _save(client, tmp_path / "anchors.json")
    (anchor,) = saved["anchors"]
    sig = anchor["signature"]
    flipped = ("A" if sig[0] != "A" else "B") + sig[1:]
    cases = {
        "signature": {**anchor, "signature": flipped},
        "hash": {**anchor, "hash": "f" * 64},  # a forged anchor for a forged history
        "seq": {**anchor, "seq": 3},
        "at": {**anchor, "at": "2026-11-30T07:20:00.000000Z"},
    }
    for name, forged in cases.items():
        path = tmp_path / f"{name}.json"
        path.write_text(json.dumps({**saved, "anchors": [forged]}), encoding="utf-8")
        r = await _cli(settings, "audit", "verify", "--anchors", str(path))
        assert r.exit_code != 0, name
        first_bad = json.loads(r.output)["anchors"]["first_bad"]
        assert first_bad["reason"] == "the signature does not verify", name
    # another key than the one that signed
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    other = tmp_path / "other.pem"
    other.write_text(signing.public_pem(Ed25519PrivateKey.generate().public_key()))
    r = await _cli(settings, "audit", "verify", "--anchors", str(tmp_path / "anchors.json"), "--public-key", str(other))
    assert r.exit_code != 0 and "signed by another key" in json.loads(r.output)["anchors"]["first_bad"]["reason"]
    # a file that is not a saved anchors document
    (tmp_path / "junk.json").write_text('{"items": []}')
    r = await _cli(settings, "audit", "verify", "--anchors", str(tmp_path / "junk.json"))
    assert r.exit_code == 1 and "anchors" in r.output
    # and the untouched copy still holds
    r = await _cli(settings, "audit", "verify", "--anchors", str(tmp_path / "anchors.json"))
    assert r.exit_code == 0, r.output
    async with factory() as session:
        assert await session.scalar(select(func.count()).select_from(AuditAnchor)) == 1


async def test_a_cut_tail_is_caught_by_saved_anchors(client, factory, settings, backend, tmp_path):
    """Events deleted from the end and the head set back: the chain verifies, the anchor does not."""
    await _record(factory, 5)
    with clock.frozen(T0):
        await worker.run_once(factory, settings)
    await _save(client, tmp_path / "anchors.json")
    async with _as_owner_without_guards(factory, backend) as session:
        await session.execute(text("DELETE FROM audit_events WHERE seq > 3"))
        await _rehash_from(session, 3)
    plain = await _cli(settings, "audit", "verify")
    assert plain.exit_code == 0 and json.loads(plain.output)["events"] == 3
    caught = await _cli(settings, "audit", "verify", "--anchors", str(tmp_path / "anchors.json"))
    assert caught.exit_code != 0
    first_bad = json.loads(caught.output)["anchors"]["first_bad"]
    assert first_bad["seq"] == 5 and first_bad["reason"] == "the anchored event is missing from the chain"


async def test_workers_running_at_once_take_one_anchor_per_slot(factory, settings):
    await _record(factory, 2)
    with clock.frozen(T0):
        taken = await asyncio.gather(*(anchor_tick(factory, settings, clock.now()) for _ in range(4)))
    assert sum(taken) == 1
    assert len(await _anchors(factory)) == 1
