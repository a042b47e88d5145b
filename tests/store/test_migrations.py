"""Migrations on both backends: upgrades from an older schema, concurrency, atomic steps."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Connection, inspect

from amplifier.guards import SENT
from amplifier.networks.base import RateLimitWindow
from amplifier.store import REHEARSAL_PREFIX, DeliveryDraft, Store
from amplifier.store.migrations import MIGRATIONS, Migration, applied_migrations, migrate
from amplifier.store.schema import metadata
from amplifier.store.types import idempotency_key

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


def _x_draft(slot_key: str, *, account: str = "x1") -> DeliveryDraft:
    return DeliveryDraft(account, "x", slot_key, T0, "tpl", "fbt", "Families belong together")


T0 = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)


def test_0007_upgrade_keeps_rows_and_moves_dry_runs(
    make_store: Callable[[], Store], clock: FakeClock
) -> None:
    """A database at 0006 upgrades: published rows take their updated_at as send time; rows
    the dry-run network "published" become rehearsals under the rehearsal prefix (their
    idempotency key to match, cost no longer spent); each account's first run of each kind
    is recorded; ids are never reused; 'rehearsed' is an allowed state from then on."""
    store = make_store()
    assert migrate(store.engine, clock, MIGRATIONS[:6]) == NAMES[:6]
    sent = claim_on_old_schema(
        store, _x_draft("2025-03-01T09:00"), worker_id="old", now=T0, status="published",
        remote_id="1890", claimed_by=None,
    )  # fmt: skip
    later = T0 + timedelta(hours=3)
    dry = claim_on_old_schema(
        store, _x_draft("2025-03-01T12:00", account="x2"), worker_id="old", now=later,
        status="published", remote_id="dry-run-1", claimed_by=None,
    )  # fmt: skip
    waiting = claim_on_old_schema(store, _x_draft("2025-03-01T13:00"), worker_id="old", now=later)
    with store.engine.begin() as conn:  # the cost the old worker recorded with its claim
        conn.exec_driver_sql(
            "INSERT INTO delivery_costs (delivery_id, account, network, due_at, cost_micros, "
            f"created_at) VALUES ({dry.id}, 'x2', 'x', '2025-03-01 09:00:00', 15000, "
            "'2025-03-01 12:00:00')"
        )
        conn.exec_driver_sql(f"DELETE FROM deliveries WHERE id = {waiting.id}")

    assert store.migrate() == NAMES[6:]
    assert applied_migrations(store.engine) == NAMES
    assert store.get_by_id(sent.id) == replace(sent, sent_at=T0)
    moved = store.get_by_id(dry.id)
    assert moved is not None
    assert (moved.status, moved.slot_key, moved.remote_id, moved.sent_at) == (
        "rehearsed", REHEARSAL_PREFIX + "2025-03-01T12:00", None, later,
    )  # fmt: skip
    assert moved.idempotency_key == idempotency_key("x2", REHEARSAL_PREFIX + "2025-03-01T12:00")
    month = (T0 - timedelta(days=1), T0 + timedelta(days=30))
    assert store.spend_micros(*month, statuses=SENT, account="x2") == 0
    assert store.last_published("x2") is None
    assert store.starts() == {"live:x1": T0, "rehearsal:x2": later}
    # The live slot the dry run held is free again; ids go on past the deleted one.
    again = store.claim_slot(_x_draft("2025-03-01T12:00", account="x2"), worker_id="new")
    assert again is not None and again.id > waiting.id
    assert store.record_rehearsed(_x_draft(REHEARSAL_PREFIX + "x"), "dry run") is not None
    names = {index["name"] for index in inspect(store.engine).get_indexes("deliveries")}
    assert {"ix_deliveries_account_sent_at", "ix_deliveries_network_sent_at",
            "ix_deliveries_status_retry_at", "ix_deliveries_account_due_at",
            "ix_deliveries_network_due_at"} <= names  # fmt: skip
    foreign = inspect(store.engine).get_foreign_keys("delivery_costs")
    assert [key["referred_table"] for key in foreign] == ["deliveries"]


def test_0007_on_an_empty_database(make_store: Callable[[], Store], clock: FakeClock) -> None:
    """With no rows 0007 only changes the schema and records no account start."""
    store = make_store()
    migrate(store.engine, clock, MIGRATIONS[:6])
    assert store.migrate() == NAMES[6:]
    assert store.starts() == {}
    row = store.record_rehearsed(_x_draft(REHEARSAL_PREFIX + "a"), "dry run")
    assert row is not None and row.id == 1
