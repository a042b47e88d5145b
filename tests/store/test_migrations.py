"""Migrations on both backends: upgrades from an older schema, concurrency, atomic steps."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Connection, inspect

from amplifier.networks.base import RateLimitWindow
from amplifier.store import DeliveryDraft, Store
from amplifier.store.migrations import MIGRATIONS, Migration, applied_migrations, migrate
from amplifier.store.schema import metadata

from .conftest import FakeClock, claim_on_old_schema

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
    old_row = claim_on_old_schema(store, DRAFT, worker_id="old-worker", now=clock.now)
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


MARKED = "2026-03-08T07:30:05Z"
SINCE = datetime(2026, 3, 8, 7, 30, 5, tzinfo=UTC)


def test_0006_moves_ambiguity_markers_into_their_column(
    make_store: Callable[[], Store], clock: FakeClock
) -> None:
    """A database at 0005 whose messages carry [ambiguous since ...] markers upgrades: each
    time moves to ambiguous_since and leaves last_error, which keeps the rest of its words."""
    store = make_store()
    assert migrate(store.engine, clock, MIGRATIONS[:5]) == NAMES[:5]
    review = "it may have been published: check the account, then run amplifier review"
    rows = {  # slot -> (status, last_error at 0005, last_error after, ambiguous_since after)
        "deferred": ("deferred", f"network error, retrying later: 503 [ambiguous since {MARKED}]",
                     "network error, retrying later: 503", SINCE),
        "unknown": ("unknown", f"gave up after 8 attempts; {review} [ambiguous since {MARKED}]",
                    f"gave up after 8 attempts; {review}", SINCE),
        "resolved": ("published",
                     f"resolved as published by ana: found (was: interrupted; {review} "
                     "[ambiguous since 2026-03-08T06:00:00Z])",
                     f"resolved as published by ana: found (was: interrupted; {review})",
                     datetime(2026, 3, 8, 6, tzinfo=UTC)),
        "naive": ("deferred", "rate limit window until 2026-03-08T09:00:00Z "
                  "[ambiguous since 2026-03-08T07:30:05]",
                  "rate limit window until 2026-03-08T09:00:00Z", SINCE),
        "plain": ("deferred", "rate limited (15m) until 2026-03-08T09:00:00+00:00",
                  "rate limited (15m) until 2026-03-08T09:00:00+00:00", None),
        "unreadable": ("unknown", "gave up [ambiguous since yesterday]",
                       "gave up [ambiguous since yesterday]", None),
    }  # fmt: skip
    ids = {}
    for slot, (status, message, _, _) in rows.items():
        draft = replace(DRAFT, slot_key=slot)
        retry_at = clock.now if status == "deferred" else None
        old = claim_on_old_schema(
            store,
            draft,
            worker_id="old",
            now=clock.now,
            status=status,
            last_error=message,
            retry_at=retry_at,
            claimed_by=None if status == "deferred" else "old",
        )
        ids[slot] = old.id

    assert store.migrate() == NAMES[5:]
    assert applied_migrations(store.engine) == NAMES
    for slot, (status, _, message, since) in rows.items():
        row = store.get_by_id(ids[slot])
        assert row is not None
        assert (row.status, row.last_error, row.ambiguous_since) == (status, message, since), slot
    # The store and the worker read the moved time like one they wrote themselves.
    due = store.due_deferred(datetime(2026, 3, 9, tzinfo=UTC))
    assert {row.slot_key: row.ambiguous_since for row in due} == {
        "deferred": SINCE,
        "naive": SINCE,
        "plain": None,
    }


def test_0006_on_a_database_without_markers_adds_an_empty_column(
    make_store: Callable[[], Store], clock: FakeClock
) -> None:
    """Rows whose messages carry no marker come through 0006 unchanged, with no time."""
    store = make_store()
    migrate(store.engine, clock, MIGRATIONS[:5])
    old = claim_on_old_schema(store, DRAFT, worker_id="old", now=clock.now)
    assert store.migrate() == NAMES[5:]
    assert store.get_by_id(old.id) == old
    assert "ambiguous_since" in {c["name"] for c in inspect(store.engine).get_columns("deliveries")}
