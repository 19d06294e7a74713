"""The schema comes only from migrations, and the migrations match the models exactly; every
downgrade works; the frozen-row guards freeze exactly what :mod:`market.migrations.guards`
declares, on both databases."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Column, create_engine, delete, insert, select, text, update
from sqlalchemy.exc import DBAPIError, IntegrityError

from market import clock, migrations
from market.db import sync_url
from market.migrations.guards import GUARDED, GUARDS, Guard
from market.migrations.models import metadata
from tests.integration.helpers import make_parties, signed_contract


def _schema_diff(database_url: str) -> list[Any]:
    engine = create_engine(sync_url(database_url))
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            return list(compare_metadata(context, metadata))
    finally:
        engine.dispose()


def _objects(database_url: str) -> dict[str, list[str]]:
    """Tables, triggers (with their SQL) and functions of the database, by kind."""
    engine = create_engine(sync_url(database_url))
    try:
        with engine.connect() as conn:
            if conn.dialect.name == "sqlite":
                rows = conn.execute(text("SELECT type, name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'"))
                found: dict[str, list[str]] = {"table": [], "trigger": [], "function": []}
                for kind, name, sql in rows:
                    if kind == "table":
                        found["table"].append(name)
                    elif kind == "trigger":
                        found["trigger"].append(f"{name}: {sql}")
                return {k: sorted(v) for k, v in found.items()}
            tables = conn.execute(text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")).scalars()
            triggers = conn.execute(
                text(
                    "SELECT t.tgname || ': ' || pg_get_triggerdef(t.oid) FROM pg_trigger t "
                    "JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace "
                    "WHERE NOT t.tgisinternal AND n.nspname = 'public'"
                )
            ).scalars()
            functions = conn.execute(
                text(
                    "SELECT p.proname || ': ' || p.prosrc FROM pg_proc p "
                    "JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = 'public'"
                )
            ).scalars()
            return {"table": sorted(tables), "trigger": sorted(triggers), "function": sorted(functions)}
    finally:
        engine.dispose()


def test_migrated_schema_matches_models(database_url):
    assert _schema_diff(database_url) == []


def test_upgrade_downgrade_to_base_and_upgrade_again(database_url):
    """Every downgrade works, down to an empty database; upgrading again gives the same schema,
    triggers and functions, which match the models. Data the last migration moved comes back."""
    migrated = _objects(database_url)
    assert "purchases" in migrated["table"] and any(
        t.startswith("contracts_frozen_update") for t in migrated["trigger"]
    )
    engine = create_engine(sync_url(database_url))
    try:
        with engine.begin() as conn:
            conn.execute(
                text("INSERT INTO number_counters (series, scope, year, value) VALUES ('purchase', '-', 2026, 7)")
            )
        migrations.downgrade(database_url, "0004")  # 0005 gives the purchase counter its own table back
        with engine.connect() as conn:
            assert conn.execute(text("SELECT year, last FROM purchase_ref_counters")).all() == [(2026, 7)]
            assert conn.execute(text("SELECT count(*) FROM number_counters")).scalar_one() == 0
    finally:
        engine.dispose()

    migrations.downgrade(database_url, "base")
    assert migrations.current(database_url) is None
    assert _objects(database_url) == {"table": ["alembic_version"], "trigger": [], "function": []}

    migrations.upgrade(database_url)
    assert _objects(database_url) == migrated
    assert _schema_diff(database_url) == []


# --- the frozen-row guards ---------------------------------------------------------------------


def test_every_column_of_a_guarded_table_is_frozen_or_allowed():
    """Adding a column to a guarded table without deciding whether it is frozen fails here."""
    for guard in GUARDS:
        columns = [c.name for c in metadata.tables[guard.table].columns]
        undecided = [c for c in columns if c not in guard.frozen and c not in guard.allowed]
        assert undecided == [], f"{guard.table}: decide in market/migrations/guards.py: {undecided}"
        assert not set(guard.frozen) & set(guard.allowed), guard.table
        assert len(set(guard.frozen)) == len(guard.frozen) and len(set(guard.allowed)) == len(guard.allowed)
        assert set(guard.frozen) | set(guard.allowed) == set(columns), f"{guard.table}: no such column"
        if guard.whole_row:
            assert guard.allowed == (), f"{guard.table}: its trigger refuses every change"
    # the model module's own declaration agrees
    from invoices.models import CONTRACT_PROGRESS_COLUMNS

    assert set(GUARDED["contracts"].allowed) == set(CONTRACT_PROGRESS_COLUMNS)


def test_the_registry_names_every_guarded_table(database_url):
    found = _objects(database_url)["trigger"]
    guarded = {t.split(":")[0].removesuffix("_frozen_update") for t in found if "_frozen_update:" in t}
    assert guarded == set(GUARDED)


# coded columns: a changed value their CHECK accepts (so that the allowed change is made)
VALID_CHANGE = {
    ("purchases", "status"): "awarded",
    ("bids", "status"): "withdrawn",
    ("selections", "status"): "overturned",
    ("contracts", "status"): "delivered",
}
# allowed columns that cannot change alone: a CHECK ties them to another column
CHECKED_TOGETHER = {("contracts", "paid_total")}  # paid_total <= invoiced_total


def _changed(column: Column[Any], value: Any) -> Any:
    """A value of the column's type other than ``value`` (and no longer than it, so that the
    database's type check cannot answer before the guard does)."""
    if (column.table.name, column.name) in VALID_CHANGE:
        return VALID_CHANGE[column.table.name, column.name]
    kind = type(value) if value is not None else getattr(column.type, "impl_instance", column.type).python_type
    if issubclass(kind, bool):
        return not value
    if issubclass(kind, uuid.UUID):
        return uuid.uuid4()
    if issubclass(kind, datetime):
        return (value or clock.now()) + timedelta(days=1)
    if issubclass(kind, date):
        return (value or date(2026, 1, 1)) + timedelta(days=1)
    if issubclass(kind, Decimal):
        return (value or Decimal("1.00")) + Decimal("1.00")
    if issubclass(kind, int):
        return (value or 0) + 1
    if issubclass(kind, str):
        return value[:-1] + ("y" if value.endswith("x") else "x") if value else "x"
    raise AssertionError(f"no changed value for {column} of type {kind}")


async def _insert(session, table: str, **values: Any) -> uuid.UUID:
    row_id = uuid.uuid4()
    await session.execute(insert(metadata.tables[table]).values({**values, "id": row_id}))
    return row_id


async def _world(factory, settings) -> dict[str, list[tuple[uuid.UUID, bool]]]:
    """Rows of every guarded table, each with whether the guard's condition holds for it: a
    contracted purchase with its bid and selection, its signed contract, a signed and a withdrawn
    agreement, an accepted delivery; and rows the guards do not hold yet (a draft purchase, a
    draft contract, a proposed agreement, a submitted delivery)."""
    owner, provider = await make_parties(factory)
    contract = await signed_contract(factory, settings, owner, provider)
    t = {name: metadata.tables[name] for name in GUARDED}
    now = clock.now()
    async with factory() as session:
        purchase = (
            await session.execute(select(t["purchases"]).where(t["purchases"].c.id == contract.purchase_id))
        ).one()
        bid = await session.scalar(select(t["bids"].c.id).where(t["bids"].c.purchase_id == purchase.id))
        selection = await session.scalar(
            select(t["selections"].c.id).where(t["selections"].c.purchase_id == purchase.id)
        )
        draft_purchase = await _insert(
            session,
            "purchases",
            **{
                **purchase._asdict(),
                "ref": None,
                "status": "draft",
                "published_at": None,
                "contract_id": None,
                "previous_id": None,
            },
        )
        signed = (await session.execute(select(t["contracts"]).where(t["contracts"].c.id == contract.id))).one()
        draft = {
            **signed._asdict(),
            "purchase_id": draft_purchase,
            "number": "HT-TEST-DRAFT",
            "status": "draft",
            "signed_at": None,
            "owner_signed_at": None,
            "provider_signed_at": None,
        }
        draft_contract = await _insert(session, "contracts", **draft)

        def agreement(seq: int, **state: Any) -> dict[str, Any]:
            return {
                "contract_id": contract.id,
                "seq": seq,
                "number": f"{contract.number}-BC{seq}",
                "text": "服务期限顺延五个工作日。",
                "extra_days": 5,
                "proposed_at": now,
                "proposed_by": owner.id,
                "proposed_by_org": owner.org_id,
                "status": "proposed",
                **state,
            }

        signed_agreement = await _insert(
            session,
            "contract_agreements",
            **agreement(
                1,
                status="signed",
                owner_signed_at=now,
                owner_signed_by=owner.id,
                provider_signed_at=now,
                provider_signed_by=provider.id,
                signed_at=now,
            ),
        )
        withdrawn_agreement = await _insert(
            session,
            "contract_agreements",
            **agreement(2, status="withdrawn", withdrawn_at=now, withdrawn_by=owner.id, withdraw_reason="双方协商撤回"),
        )
        proposed_agreement = await _insert(session, "contract_agreements", **agreement(3))

        def delivery(seq: int, **state: Any) -> dict[str, Any]:
            return {
                "contract_id": contract.id,
                "seq": seq,
                "note": "成果报告一份。",
                "submitted_at": now,
                "submitted_by": provider.id,
                "status": "submitted",
                **state,
            }

        accepted = await _insert(
            session, "deliveries", **delivery(1, status="accepted", decided_at=now, decided_by=owner.id)
        )
        submitted = await _insert(session, "deliveries", **delivery(2))
        await session.commit()
    return {
        "purchases": [(purchase.id, True), (draft_purchase, False)],
        "bids": [(bid, True)],
        "selections": [(selection, True)],
        "contracts": [(contract.id, True), (draft_contract, False)],
        "contract_agreements": [(signed_agreement, True), (withdrawn_agreement, True), (proposed_agreement, False)],
        "deliveries": [(accepted, True), (submitted, False)],
    }


async def _attempt(factory, guard: Guard, statement: Any) -> tuple[str, int]:
    """Run ``statement`` and roll it back: ("refused", 0) when the guard refused it, ("other", 0)
    when another constraint did (a changed status may break a CHECK), ("done", rows) otherwise."""
    async with factory() as session:
        try:
            result = await session.execute(statement)
        except IntegrityError as exc:
            return ("refused" if f"{guard.table}: {guard.message}" in str(exc.orig) else "other"), 0
        except DBAPIError as exc:  # the guard answers with an IntegrityError on both databases
            raise AssertionError(f"{guard.table}: unexpected error {exc}") from exc
        finally:
            await session.rollback()
        return "done", result.rowcount


async def test_the_database_freezes_exactly_the_declared_columns(factory, settings):
    """Each frozen column of a frozen row is refused, each allowed column is not; rows the
    guard's condition does not hold for yet change freely; frozen rows cannot be deleted."""
    rows = await _world(factory, settings)
    assert set(rows) == set(GUARDED)
    wrongly_changed: list[str] = []
    wrongly_refused: list[str] = []
    for guard in GUARDS:
        table = metadata.tables[guard.table]
        for row_id, holds in rows[guard.table]:
            async with factory() as session:
                frozen_now = await session.scalar(
                    select(text("1"))
                    .select_from(table)
                    .where(table.c.id == row_id, text(f"({guard.condition.replace('OLD.', '')})"))
                )
                current = (await session.execute(select(table).where(table.c.id == row_id))).one()._asdict()
            assert bool(frozen_now) == holds, (guard.table, row_id)
            for column in table.columns:
                new_value = _changed(column, current[column.name])
                outcome, count = await _attempt(
                    factory, guard, update(table).where(table.c.id == row_id).values({column.name: new_value})
                )
                label = f"{guard.table}.{column.name} ({'frozen' if holds else 'not yet frozen'} row)"
                if holds and column.name in guard.frozen:
                    if outcome != "refused":
                        wrongly_changed.append(label)
                elif outcome == "refused":
                    wrongly_refused.append(label)
                elif holds and (guard.table, column.name) not in CHECKED_TOGETHER:
                    assert (outcome, count) == ("done", 1), label  # the allowed change is made
            outcome, count = await _attempt(factory, guard, delete(table).where(table.c.id == row_id))
            if holds:
                assert outcome == "refused", f"{guard.table}: a frozen row was deleted"
            else:
                assert outcome != "refused", f"{guard.table}: a row not frozen yet could not be deleted"
    # the database lets no frozen column change, and refuses no column declared allowed
    assert {"changed though frozen": wrongly_changed, "refused though allowed": wrongly_refused} == {
        "changed though frozen": [],
        "refused though allowed": [],
    }
