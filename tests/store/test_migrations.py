"""Migrations on both backends: upgrades from an older schema, concurrency, atomic steps."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Connection, inspect

from amplifier.networks.base import RateLimitWindow
from amplifier.store import DeliveryDraft, Store
from amplifier.store.migrations import MIGRATIONS, Migration, applied_migrations, metadata, migrate

from .conftest import FakeClock

NAMES = [migration.name for migration in MIGRATIONS]
DRAFT = DeliveryDraft(
    account="m1",
    network="mastodon",
    slot_key="2025-03-01T09:00",
    due_at=datetime(2025, 3, 1, 9, tzinfo=UTC),
    template_id="tpl",
    campaign="fbt",
    text="hello",
)


def test_database_at_first_migration_upgrades(
    make_store: Callable[[], Store], clock: FakeClock
) -> None:
    """A database made by the first step only keeps its rows and gains the later tables."""
    store = make_store()
    assert migrate(store.engine, clock, MIGRATIONS[:1]) == NAMES[:1]
    old_row = store.claim_slot(DRAFT, worker_id="old-worker")
    assert old_row is not None
    assert applied_migrations(store.engine) == NAMES[:1]

    assert store.migrate() == NAMES[1:]
    assert applied_migrations(store.engine) == NAMES
    assert store.get_by_id(old_row.id) == old_row
    store.heartbeat("new-worker")
    store.set_paused(True, by="ana")
    store.save_rate_limits("m1", [RateLimitWindow("5m", 30, 0, clock.now + timedelta(minutes=5))])
    assert store.paused()[0] is True
    assert store.blocked_until("m1", clock.now) == clock.now + timedelta(minutes=5)


def test_concurrent_migrate_applies_each_step_once(make_store: Callable[[], Store]) -> None:
    """Four stores (separate engines) migrating one empty database at once all succeed."""
    stores = [make_store() for _ in range(4)]
    barrier = threading.Barrier(len(stores))

    def run(store: Store) -> list[str]:
        barrier.wait()
        return store.migrate()

    with ThreadPoolExecutor(len(stores)) as pool:
        results = list(pool.map(run, stores))
    applied = [name for result in results for name in result]
    assert sorted(applied) == NAMES  # every step applied, none twice
    with stores[0].engine.connect() as conn:
        count = conn.exec_driver_sql("SELECT count(*) FROM schema_migrations").scalar_one()
    assert count == len(NAMES)


def test_live_tables_match_the_migrated_schema(store: Store) -> None:
    """The Table objects the queries use name exactly the columns the migrations create."""
    inspector = inspect(store.engine)
    assert set(inspector.get_table_names()) == {*metadata.tables, "schema_migrations"}
    for name, table in metadata.tables.items():
        columns = {column["name"] for column in inspector.get_columns(name)}
        assert columns == set(table.columns.keys()), name
    unique = {tuple(c["column_names"]) for c in inspector.get_unique_constraints("deliveries")}
    assert {("account", "slot_key"), ("idempotency_key",)} <= unique


def test_failing_step_leaves_no_trace(make_store: Callable[[], Store], clock: FakeClock) -> None:
    """A step that fails halfway is rolled back whole and not recorded; earlier steps stay."""

    def broken(conn: Connection) -> None:
        conn.exec_driver_sql("CREATE TABLE half_done (id INTEGER)")
        raise RuntimeError("step failed after its first statement")

    store = make_store()
    with pytest.raises(RuntimeError):
        migrate(store.engine, clock, [*MIGRATIONS, Migration("0099_broken", broken)])
    assert applied_migrations(store.engine) == NAMES
    assert "half_done" not in inspect(store.engine).get_table_names()
