"""Snapshots (0012) on SQLite and PostgreSQL: the upgrade, what is due at which age, one row per
(post, age), 'gone' once, X read costs in the month's spend, the report's rows."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy import inspect

from amplifier.guards import SENT
from amplifier.store import GONE, Delivery, DeliveryDraft, Snapshot, Store
from amplifier.store.migrations import MIGRATIONS, migrate

from .conftest import FakeClock, claim_on_old_schema

AGES = [("1h", 3600), ("24h", 86400), ("7d", 604800)]


def sent(
    store: Store, clock: FakeClock, account: str, key: str, network: str = "mastodon"
) -> Delivery:
    draft = DeliveryDraft(account, network, key, clock.now, "tpl", "fbt", f"text {key} #Vigil")
    row = store.claim_slot(draft, worker_id="w")
    assert row is not None
    assert store.mark_published(row.id, worker_id="w", remote_id=f"r-{key}", url=None)
    found = store.get_by_id(row.id)
    assert found is not None
    return found


def snap(
    row: Delivery, age: str, seconds: int, at: datetime, likes: int, cost: int = 0
) -> Snapshot:
    return Snapshot(row.id, row.account, row.network, age, seconds, at, {"likes": likes}, cost)


def test_0012_upgrades_a_database_holding_rows(
    make_store: Callable[[], Store], clock: FakeClock
) -> None:
    store = make_store()
    before = [m for m in MIGRATIONS if m.name < "0012"]
    migrate(store.engine, clock, before)
    assert "snapshots" not in inspect(store.engine).get_table_names()
    draft = DeliveryDraft("m1", "mastodon", "2025-03-01T09:00", clock.now, "p", "c", "t")
    # Written in SQL: today's store also writes columns of later steps.
    row = claim_on_old_schema(
        store,
        draft,
        worker_id="old",
        now=clock.now,
        status="published",
        remote_id="1",
        sent_at=clock.now,
    )
    assert "0012_snapshots" in store.migrate()
    assert store.get_by_id(row.id) == row
    unique = {
        tuple(c["column_names"]) for c in inspect(store.engine).get_unique_constraints("snapshots")
    }
    assert ("delivery_id", "age") in unique
    assert store.snapshots_due(clock.now + timedelta(hours=1), AGES, accounts=["m1"], limit=10)


def test_what_is_due_at_each_age(store: Store, clock: FakeClock) -> None:
    row = sent(store, clock, "m1", "a")
    t0 = clock.now

    def due(at: datetime) -> list[str]:
        return [r.age for r in store.snapshots_due(at, AGES, accounts=["m1"], limit=10)]

    assert due(t0 + timedelta(minutes=59)) == []
    assert due(t0 + timedelta(hours=1)) == ["1h"]
    assert store.record_snapshots([snap(row, "1h", 3600, t0 + timedelta(hours=1), 2)]) == 1
    assert due(t0 + timedelta(hours=2)) == []
    assert due(t0 + timedelta(hours=23, minutes=59)) == []
    assert due(t0 + timedelta(hours=24)) == ["24h"]
    assert due(t0 + timedelta(days=8)) == ["7d"]  # 24 h missed: never taken late
    assert due(t0 + timedelta(days=14)) == []  # past twice the last age: never read
    assert store.snapshots_due(t0 + timedelta(hours=1), AGES, accounts=["other"], limit=9) == []


def test_a_post_is_gone_once_and_never_due_again(store: Store, clock: FakeClock) -> None:
    row = sent(store, clock, "m1", "a")
    t1 = clock.now + timedelta(hours=1)
    gone = Snapshot(row.id, "m1", "mastodon", GONE, 0, t1, {})
    assert store.record_snapshots([gone]) == 1
    assert store.record_snapshots([gone]) == 0  # recorded once
    assert store.snapshots_due(t1 + timedelta(days=1), AGES, accounts=["m1"], limit=9) == []
    assert store.gone_deliveries() == {row.id}


def test_x_reads_count_in_the_month_spend(store: Store, clock: FakeClock) -> None:
    row = sent(store, clock, "x1", "a", network="x")
    start, end = clock.now - timedelta(days=1), clock.now + timedelta(days=20)
    before = store.spend_micros(start, end, statuses=SENT, network="x")
    store.record_snapshots([snap(row, "1h", 3600, clock.now + timedelta(hours=1), 1, 5000)])
    assert store.spend_micros(start, end, statuses=SENT, network="x") == before + 5000
    assert store.spend_micros(start, end, statuses=SENT, account="x1", network="x") == 5000
    assert store.spend_micros(start, end, statuses=SENT, account="other", network="x") == 0
    assert store.spend_micros(start, end, statuses=SENT, network="mastodon") == 0
    assert store.read_spend_micros(start, end) == 5000


def test_results_rows_give_each_post_its_latest_snapshot(store: Store, clock: FakeClock) -> None:
    a = sent(store, clock, "m1", "a")
    b = sent(store, clock, "m1", "b")
    sent(store, clock, "m1", "c")  # no snapshot yet
    t = clock.now
    store.record_snapshots(
        [
            snap(a, "1h", 3600, t + timedelta(hours=1), 2),
            snap(a, "24h", 86400, t + timedelta(hours=24), 9),
            snap(b, "1h", 3600, t + timedelta(hours=1), 4),
            Snapshot(b.id, "m1", "mastodon", GONE, 0, t + timedelta(hours=24), {}),
        ]
    )
    rows = store.results_rows(campaign=None, since=None, age=None)
    latest = {d["slot_key"]: (s.age, s.counts["likes"]) if s else None for d, s in rows}
    assert latest == {"a": ("24h", 9), "b": ("1h", 4), "c": None}
    at_1h = store.results_rows(campaign=None, since=None, age="1h")
    assert {d["slot_key"]: s.counts["likes"] if s else None for d, s in at_1h} == {
        "a": 2,
        "b": 4,
        "c": None,
    }
    assert store.results_rows(campaign="other", since=None, age=None) == []
    assert store.results_rows(campaign=None, since=t + timedelta(seconds=1), age=None) == []


_ = UTC
