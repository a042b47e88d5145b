"""The console's reads: history by keyset (ties in due time included), counts by state,
heartbeats, the health ping; and migration 0010's indexes, which answer them at any size."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import inspect, text

from amplifier.errors import StoreError
from amplifier.store import DeliveryDraft, HistoryQuery, Store
from amplifier.store.migrations import MIGRATIONS, applied_migrations, migrate

from .conftest import FakeClock, claim_on_old_schema

NAMES = [migration.name for migration in MIGRATIONS]
T0 = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)


def _draft(n: int, due: datetime, account: str = "a", campaign: str = "c") -> DeliveryDraft:
    return DeliveryDraft(account, "mastodon", f"s{n}", due, f"post-{n % 3}", campaign, f"t{n}")


def test_history_pages_by_keyset_with_ties_and_filters(store: Store) -> None:
    """Pages of 4 over 10 rows, three of them due at the same moment, come back in order
    (newest due, then newest id) with every row once; filters narrow each page."""
    rows = []
    for n in range(10):
        due = T0 + timedelta(hours=min(n, 6))  # rows 6..9 share one due time
        row = store.record_skipped(_draft(n, due, "a" if n % 2 else "b"), "held back")
        assert row is not None
        rows.append(row)
    expected = sorted(rows, key=lambda r: (r.due_at, r.id), reverse=True)
    seen = []
    before = None
    while True:
        page = store.history_page(HistoryQuery(before=before, limit=4))
        seen += page
        if len(page) < 4:
            break
        before = (page[-1].due_at, page[-1].id)
    assert [r.id for r in seen] == [r.id for r in expected]
    only_a = store.history_page(HistoryQuery(account="a", limit=100))
    assert {r.account for r in only_a} == {"a"} and len(only_a) == 5
    assert store.history_page(HistoryQuery(status="published", limit=100)) == []
    window = store.history_page(
        HistoryQuery(since=T0 + timedelta(hours=1), until=T0 + timedelta(hours=3), limit=100)
    )
    assert [r.due_at for r in window] == [T0 + timedelta(hours=2), T0 + timedelta(hours=1)]
    posts = store.history_page(HistoryQuery(post="post-1", campaign="c", limit=100))
    assert {r.template_id for r in posts} == {"post-1"} and len(posts) == 3


def test_counts_heartbeats_and_ping(store: Store, clock: FakeClock) -> None:
    """Counts by (account, state) of the states asked; heartbeats newest first; a ping."""
    for n in range(3):
        store.record_skipped(_draft(n, T0 + timedelta(hours=n), "a"), "x")
    assert store.count_by_status(["skipped", "unknown"]) == {("a", "skipped"): 3}
    store.heartbeat("w1")
    clock.advance(timedelta(seconds=5))
    store.heartbeat("w2")
    assert [w for w, _ in store.heartbeats()] == ["w2", "w1"]
    store.ping()


def test_ping_of_an_unreachable_database_is_a_store_error() -> None:
    """The health check's ping raises StoreError (no password in it) when nothing answers."""
    gone = Store("postgresql+psycopg://u:secret-pw@127.0.0.1:1/x?connect_timeout=1")
    with pytest.raises(StoreError) as raised:
        gone.ping()
    gone.close()
    assert "secret-pw" not in str(raised.value)


def test_0010_upgrade_from_0009_keeps_rows_and_adds_the_indexes(
    make_store: Callable[[], Store], clock: FakeClock
) -> None:
    """A database at 0009 holding a row upgrades: the row reads the same, the indexes exist."""
    store = make_store()
    assert migrate(store.engine, clock, MIGRATIONS[:9]) == NAMES[:9]
    row = claim_on_old_schema(store, _draft(1, T0), worker_id="old", now=T0)
    assert migrate(store.engine, clock, MIGRATIONS[:10]) == ["0010_console_indexes"]
    assert applied_migrations(store.engine) == NAMES[:10]
    names = {index["name"] for index in inspect(store.engine).get_indexes("deliveries")}
    assert {"ix_deliveries_due_at_id", "ix_deliveries_status_due_at_id"} <= names
    store.migrate()  # today's store reads columns of later steps too
    assert store.get_by_id(row.id) == row


def test_sqlite_answers_every_history_filter_from_an_index(tmp_path: object) -> None:
    """EXPLAIN QUERY PLAN: each page's query searches an index, never scans the table."""
    store = Store(f"sqlite:///{tmp_path}/plan.db")
    store.migrate()
    cases = [
        "",
        "WHERE status = 'published'",
        "WHERE campaign = 'c'",
        "WHERE template_id = 'p'",
        "WHERE account = 'a' AND status = 'unknown'",
        "WHERE account = 'a'",
    ]
    with store.engine.connect() as conn:
        for where in cases:
            plan = " ".join(
                str(row[-1])
                for row in conn.execute(
                    text(
                        f"EXPLAIN QUERY PLAN SELECT * FROM deliveries {where} "
                        "ORDER BY due_at DESC, id DESC LIMIT 51"
                    )
                )
            )
            assert "USING INDEX" in plan and "TEMP B-TREE" not in plan, (where, plan)
        # The guards' pending rows of a network (counted_since), once per predicted slot.
        pending = "WHERE network = 'x' AND status IN ('sending', 'deferred')"
        plan = str(
            conn.execute(text(f"EXPLAIN QUERY PLAN SELECT * FROM deliveries {pending}")).all()
        )
        assert "(network=? AND status=?)" in plan, plan
    store.close()


def test_sqlite_moments_read_back_as_utc_whatever_their_text(tmp_path: Path) -> None:
    """SQLite keeps moments as text; each reads back as the same aware UTC moment, whether
    written as the store writes it (naive UTC, with or without its fraction) or by hand with
    an offset, a 'T' or a 'Z', or as a bare date. A wrong parse here shifts every time shown."""
    store = Store(f"sqlite:///{tmp_path / 'moments.db'}")
    store.migrate()
    written = {
        "stored": ("2026-12-05 06:00:00.250000", datetime(2026, 12, 5, 6, 0, 0, 250000, UTC)),
        "whole": ("2026-12-05 06:00:00", datetime(2026, 12, 5, 6, tzinfo=UTC)),
        "offset": ("2026-12-05T07:30:00+01:00", datetime(2026, 12, 5, 6, 30, tzinfo=UTC)),
        "zulu": ("2026-12-05T06:00:00Z", datetime(2026, 12, 5, 6, tzinfo=UTC)),
        "date": ("2026-12-05", datetime(2026, 12, 5, tzinfo=UTC)),
    }
    with store.engine.begin() as conn:
        for name, (stamp, _) in written.items():
            conn.execute(text("INSERT INTO workers VALUES (:n, :s)"), {"n": name, "s": stamp})
    read = dict(store.heartbeats())
    store.close()
    for name, (_, moment) in written.items():
        assert read[name] == moment and read[name].tzinfo is UTC, name
