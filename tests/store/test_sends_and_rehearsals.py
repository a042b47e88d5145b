"""Send times, rehearsals and the rotation's compare-and-set, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import inspect

from amplifier.errors import StateMoved
from amplifier.guards import REHEARSAL_SENT, SENT
from amplifier.store import REHEARSAL_PREFIX, DeliveryDraft, RotationWrite, Store
from amplifier.store.migrations import MIGRATIONS, applied_migrations, migrate
from amplifier.store.types import idempotency_key

from .conftest import FakeClock, claim_on_old_schema

NAMES = [migration.name for migration in MIGRATIONS]
T0 = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)


def draft(
    slot_key: str, *, account: str = "x1", text: str = "Families belong together"
) -> DeliveryDraft:
    return DeliveryDraft(account, "x", slot_key, T0, "tpl", "fbt", text)


def test_published_rows_carry_their_send_time(store: Store, clock: FakeClock) -> None:
    """mark_published stamps sent_at with the store's clock, not the slot's due time; a
    resolved 'unknown' row found published takes the moment it became unknown."""
    row = store.claim_slot(draft("a"), worker_id="w")
    assert row is not None and row.sent_at is None
    clock.advance(timedelta(minutes=25))  # a late pass
    assert store.mark_published(row.id, worker_id="w", remote_id="1", url=None)
    published = store.get_by_id(row.id)
    assert published is not None and published.sent_at == clock.now != published.due_at

    lost = store.claim_slot(draft("b"), worker_id="w")
    assert lost is not None
    clock.advance(timedelta(hours=1))
    store.mark_unknown(lost.id, worker_id="w", reason="timed out")
    gave_up = clock.now
    clock.advance(timedelta(days=2))
    assert store.resolve(lost.id, status="published", by="ana", note="seen")
    resolved = store.get_by_id(lost.id)
    assert resolved is not None and resolved.sent_at == gave_up


def test_counted_since_reads_send_times_and_every_pending_row(
    store: Store, clock: FakeClock
) -> None:
    """The guards' read: published rows by sent_at (a row due long ago but sent late is in,
    one due recently but sent before ``since`` is out), every sending or deferred row
    whatever its age, unknown rows by when they became unknown; rehearsals only on request."""
    late = store.claim_slot(draft("late"), worker_id="w")  # due T0, sent 14 h later
    assert late is not None
    clock.now = T0 + timedelta(hours=14)
    store.mark_published(late.id, worker_id="w", remote_id="1", url=None)
    waiting = store.claim_slot(draft("waiting"), worker_id="w")  # deferred a week
    assert waiting is not None
    store.mark_deferred(waiting.id, worker_id="w", retry_at=T0 + timedelta(days=7), reason="429")
    printed = store.record_rehearsed(draft(REHEARSAL_PREFIX + "r"), "dry run")
    assert printed is not None and printed.sent_at == clock.now
    since = T0 + timedelta(hours=12)
    assert {r.slot_key for r in store.counted_since(since, statuses=SENT, account="x1")} == {
        "late",
        "waiting",
    }
    rehearsal = store.counted_since(since, statuses=REHEARSAL_SENT, account="x1")
    assert {r.slot_key for r in rehearsal} == {"late", "waiting", REHEARSAL_PREFIX + "r"}
    after = T0 + timedelta(hours=15)
    assert [r.slot_key for r in store.counted_since(after, statuses=SENT, network="x")] == [
        "waiting"
    ]


def test_rehearsals_count_nowhere_live(store: Store, clock: FakeClock) -> None:
    """A rehearsed row (with a cost) is no published row, no last post, no spend, no count."""
    printed = store.record_rehearsed(draft(REHEARSAL_PREFIX + "a"), "dry run", cost_micros=15_000)
    assert printed is not None and printed.status == "rehearsed"
    start, end = T0 - timedelta(days=1), T0 + timedelta(days=30)
    assert store.spend_micros(start, end, statuses=SENT, account="x1") == 0
    assert store.spend_micros(start, end, statuses=REHEARSAL_SENT, account="x1") == 15_000
    assert store.last_published("x1") is None
    assert store.published_count("x1", T0 - timedelta(days=1)) == 0
    assert store.history(statuses=["published"]) == []
    assert store.counted_since(start, statuses=SENT) == []
    # The live slot of the same name is free: a rehearsal never takes a live slot.
    assert store.claim_slot(draft("a"), worker_id="w") is not None


def test_rotation_compare_and_set(store: Store) -> None:
    """A claim saves its rotation only over the state its decision read; otherwise StateMoved
    and nothing is recorded (first save included: another claim saved one meanwhile)."""
    first = RotationWrite("x1", {"cycle": 1}, None)
    assert store.claim_slot(draft("a"), worker_id="w", rotation=first) is not None
    with pytest.raises(StateMoved):
        store.claim_slot(draft("b"), worker_id="w", rotation=RotationWrite("x1", {"c": 2}, None))
    stale = RotationWrite("x1", {"cycle": 2}, {"cycle": 0})
    with pytest.raises(StateMoved):
        store.claim_slot(draft("b"), worker_id="w", rotation=stale)
    assert store.get("x1", "b") is None and store.load_rotation("x1") == {"cycle": 1}
    fresh = RotationWrite("x1", {"cycle": 2}, {"cycle": 1})
    assert store.claim_slot(draft("b"), worker_id="w", rotation=fresh) is not None
    assert store.load_rotation("x1") == {"cycle": 2}
    with pytest.raises(StateMoved):
        store.record_rehearsed(draft(REHEARSAL_PREFIX + "c"), "dry run", rotation=fresh)


def test_first_starts_per_account_and_kind(store: Store, clock: FakeClock) -> None:
    """record_starts keeps the first moment recorded for each scope; starts() reads them all,
    the deployment's own first start under ''."""
    assert store.starts() == {}
    later = T0 + timedelta(hours=1)
    assert store.record_starts({"live:x1": T0}) == {"live:x1": T0}
    assert store.record_starts({"live:x1": later, "rehearsal:x1": later}) == {
        "live:x1": T0,
        "rehearsal:x1": later,
    }
    assert store.first_started() == clock.now
    assert store.starts()[""] == clock.now


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
        store, draft("2025-03-01T09:00"), worker_id="old", now=T0, status="published",
        remote_id="1890", claimed_by=None,
    )  # fmt: skip
    later = T0 + timedelta(hours=3)
    dry = claim_on_old_schema(
        store, draft("2025-03-01T12:00", account="x2"), worker_id="old", now=later,
        status="published", remote_id="dry-run-1", claimed_by=None,
    )  # fmt: skip
    waiting = claim_on_old_schema(store, draft("2025-03-01T13:00"), worker_id="old", now=later)
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
    again = store.claim_slot(draft("2025-03-01T12:00", account="x2"), worker_id="new")
    assert again is not None and again.id > waiting.id
    assert store.record_rehearsed(draft(REHEARSAL_PREFIX + "x"), "dry run") is not None
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
    row = store.record_rehearsed(draft(REHEARSAL_PREFIX + "a"), "dry run")
    assert row is not None and row.id == 1
