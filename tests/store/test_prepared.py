"""The console's prepared reads (``amplifier/store/prepared.py``) give exactly the rows
``Connection.execute`` gives for the same statement and values, on SQLite and PostgreSQL:
every statement the console runs that way, each history filter, with NULLs, UTC moments,
costs, a LIMIT, an IN list and a UNION among them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import combinations
from typing import Any

from sqlalchemy import Select

from amplifier.networks.base import RateLimitWindow
from amplifier.store import DeliveryDraft, HistoryQuery, Store, status_reads
from amplifier.store import console as console_reads
from amplifier.store.prepared import Prepared

from .conftest import FakeClock

T0 = datetime(2025, 3, 1, 6, 0, tzinfo=UTC)


def _draft(n: int, account: str, network: str = "mastodon") -> DeliveryDraft:
    due = T0 - timedelta(hours=n // 2)  # two rows share each due moment
    return DeliveryDraft(account, network, f"s{n}", due, f"post-{n % 3}", "c", f"text {n} <&>")


def _fill(store: Store, clock: FakeClock) -> None:
    """Rows in every state the console shows, a cost, windows, a pause, checks, heartbeats."""
    for n in range(12):
        account, network = ("x1", "x") if n % 3 == 0 else ("m1", "mastodon")
        draft = _draft(n, account, network)
        if n % 4 == 3:
            assert store.record_skipped(draft, "held back: 'quoted' & <marked>") is not None
            continue
        row = store.claim_slot(draft, worker_id="w", cost_micros=15_000 if network == "x" else None)
        assert row is not None
        if n % 4 == 0:
            assert store.mark_published(
                row.id, worker_id="w", remote_id=f"r{n}", url=f"https://e.org/{n}"
            )
        elif n % 4 == 1:
            assert store.begin_attempt(row.id, worker_id="w") is not None
            assert store.mark_unknown(row.id, worker_id="w", reason="no answer")
        else:
            assert store.begin_attempt(row.id, worker_id="w") is not None
            assert store.mark_deferred(
                row.id, worker_id="w", retry_at=clock.now + timedelta(minutes=5), reason="429",
                ambiguous_since=clock.now,
            )  # fmt: skip
    store.save_rate_limits("m1", [RateLimitWindow("5m", 300, 0, clock.now + timedelta(minutes=3))])
    store.save_rate_limits("x1", [RateLimitWindow("24h-user", 17, 16, None)])
    store.set_paused(True, by="organizer")
    store.record_credentials_check("m1", clock.now, "verify_credentials")
    store.heartbeat("w1")


def _both(store: Store, statement: Select[Any], values: dict[str, Any] | None = None) -> None:
    with store.engine.connect() as conn:
        expected = [tuple(row) for row in conn.execute(statement, values or {})]
        found = Prepared(statement, store.engine.dialect).rows(conn, values)
    assert found == expected


def test_every_console_statement_reads_as_sqlalchemy_does(store: Store, clock: FakeClock) -> None:
    _fill(store, clock)
    cursor = {"p_due": T0 - timedelta(hours=2), "p_id": 6}  # ids 5 and 6 are due then
    filters = {
        "p_account": "m1", "p_status": "deferred", "p_campaign": "c", "p_post": "post-1",
        "p_since": T0 - timedelta(hours=4), "p_until": T0,
    }  # fmt: skip
    for size in range(len(filters) + 1):
        for names in combinations(filters, size):
            for before in ({}, cursor):
                values = {**{n: filters[n] for n in names}, **before, "p_limit": 51}
                _both(store, console_reads._page_statement(frozenset(values)), values)
    _both(store, console_reads._REVIEW, {"p_limit": 200})
    for statement in (
        status_reads._COUNTS,  # an IN over a literal list
        status_reads._WINDOWS,
        status_reads._HEARTBEATS,
        status_reads._PAUSED,
        status_reads._CHECKS,
    ):
        _both(store, statement)
    _both(store, status_reads._last_statement(1), {"a0": "x1"})
    _both(store, status_reads._last_statement(3), {"a0": "x1", "a1": "m1", "a2": "gone"})
    _both(
        store,
        status_reads._SPEND,
        {"start": T0 - timedelta(days=30), "end": T0 + timedelta(days=1)},
    )


def test_the_pages_reads_hold_what_was_stored(store: Store, clock: FakeClock) -> None:
    """Through the store's own methods: the moments UTC-aware, costs and NULLs in place."""
    _fill(store, clock)
    rows = store.history_page(HistoryQuery(limit=100))
    assert len(rows) == 12 and all(r.due_at.tzinfo is UTC for r in rows)
    assert [r.due_at for r in rows] == sorted((r.due_at for r in rows), reverse=True)
    deferred = [r for r in rows if r.status == "deferred"]
    assert deferred and all(r.retry_at == clock.now + timedelta(minutes=5) for r in deferred)
    assert {r.cost_micros for r in rows if r.account == "x1" and r.status != "skipped"} == {15_000}
    assert {r.cost_micros for r in rows if r.account == "m1"} == {None}
    assert [r.id for r in store.awaiting_review(200)] == [
        r.id for r in rows if r.status == "unknown"
    ]
    snapshot = store.status_snapshot(
        ["x1", "m1"], (T0 - timedelta(days=30), T0 + timedelta(days=1))
    )
    assert snapshot.paused[0] is True and snapshot.paused[1] == "organizer"
    assert snapshot.windows["m1"] == [
        RateLimitWindow("5m", 300, 0, clock.now + timedelta(minutes=3))
    ]
    assert (
        snapshot.counts[("m1", "deferred")] >= 1
        and snapshot.checks["m1"][1] == "verify_credentials"
    )
    assert set(snapshot.last) == {r.account for r in rows if r.status == "published"} and [
        w for w, _ in snapshot.heartbeats
    ] == ["w1"]
    assert snapshot.spent("x1", ["published"]) == 15_000 * len(
        [r for r in rows if r.account == "x1" and r.status == "published"]
    )
