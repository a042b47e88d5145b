"""Send times, rehearsals and the rotation's compare-and-set, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from amplifier.errors import StateMoved
from amplifier.guards import REHEARSAL_SENT, SENT
from amplifier.store import REHEARSAL_PREFIX, DeliveryDraft, RotationWrite, Store
from amplifier.store.migrations import MIGRATIONS

from .conftest import FakeClock

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


def test_a_lookups_read_cost_adds_to_the_delivery_and_the_months_spend(
    store: Store, clock: FakeClock
) -> None:
    """add_read_cost adds to a delivery's recorded cost, or records one where there was none
    (no post price configured); the month's X spend counts both."""
    priced = store.claim_slot(draft("priced"), worker_id="w", cost_micros=15_000)
    unpriced = store.claim_slot(draft("unpriced"), worker_id="w")
    assert priced is not None and unpriced is not None
    store.add_read_cost(priced, 5_000)
    store.add_read_cost(priced, 5_000)
    store.add_read_cost(unpriced, 10_000)
    store.add_read_cost(unpriced, 0)
    assert store.delivery_costs([priced.id, unpriced.id]) == {
        priced.id: 25_000, unpriced.id: 10_000,
    }  # fmt: skip
    start, end = T0 - timedelta(days=1), T0 + timedelta(days=1)
    assert store.spend_micros(start, end, statuses=SENT, network="x") == 35_000
