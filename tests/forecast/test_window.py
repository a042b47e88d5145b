"""A prediction reads the stored state once, and answers each slot as the store would.

``PredictionWindow`` reads the guards' rows once for all of a prediction's slots and
``WindowedView`` filters them in memory; here every question a slot asks (what counts since a
moment, of an account or a network, for either kind of run; the month's spend; a shut window)
is asked of it and of a ``StoreView`` reading the database per question, over a day of real
history, and the answers must be equal; and a 14-day prediction reads the window once.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import event

from amplifier.forecast import StoreView, predict
from amplifier.forecast.window import PredictionWindow, WindowedView
from amplifier.guards import month_bounds
from amplifier.networks.base import RateLimitWindow
from amplifier.store import DeliveryDraft, Store

from .test_agreement import NY, REHEARSAL, Deployment, _history


@contextmanager
def statements(store: Store) -> Iterator[list[str]]:
    """Every SELECT run meanwhile, with its parameters."""
    seen: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, parameters: Any, *args: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            seen.append(f"{statement} {parameters!r}")

    event.listen(store.engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(store.engine, "before_cursor_execute", record)


def _deployment(tmp_path: Path) -> Deployment:
    deployment = Deployment(tmp_path, datetime(2026, 11, 23, 0, 5, tzinfo=NY).astimezone(UTC))
    _history(deployment)
    reset = datetime(2026, 11, 24, 9, 20, tzinfo=NY).astimezone(UTC)
    deployment.store.save_rate_limits(
        "b1", [RateLimitWindow("1h", 100, 0, reset), RateLimitWindow("24h", 900, 0, reset)]
    )
    # A row still deferred (counted whatever its age) and one unknown (from when it became so).
    store, clock = deployment.store, deployment.clock
    now = clock.now
    for n, (account, network) in enumerate([("x2", "x"), ("m1", "mastodon")]):
        due = clock.now = now - timedelta(hours=30 + n)  # marked then, a day before now
        draft = DeliveryDraft(account, network, f"extra-{n}", due, "cost", "c", f"Text {n}")
        row = store.claim_slot(draft, worker_id="w")
        assert row is not None and store.begin_attempt(row.id, worker_id="w") is not None
        if n == 0:
            assert store.mark_deferred(row.id, worker_id="w", retry_at=now + timedelta(
                hours=1), reason="429")  # fmt: skip
        else:
            assert store.mark_unknown(row.id, worker_id="w", reason="no answer")
    clock.now = now
    return deployment


def test_every_answer_equals_the_stores_own(tmp_path: Path) -> None:
    deployment = _deployment(tmp_path)
    store, library, now = deployment.store, deployment.library, deployment.clock.now
    window = PredictionWindow(store, library, now, None)
    accounts = [None, *(a.name for a in deployment.settings.accounts)]
    asked = 0
    for rehearsal in (False, True):
        direct = StoreView(store, library, rehearsal=rehearsal, now=now)
        windowed = WindowedView(window, library, rehearsal=rehearsal, now=now)
        # Latest first, so the window is read again when a question looks further back.
        for hours in range(0, 24 * 4, 3):
            since = now - timedelta(hours=hours)
            for account in accounts:
                assert windowed.counted(since, account=account) == direct.counted(
                    since, account=account
                ), (rehearsal, since, account)
                asked += 1
            for network in ("x", "mastodon", "bluesky"):
                assert windowed.counted(since, network=network) == direct.counted(
                    since, network=network
                ), (rehearsal, since, network)
        start, end = month_bounds(now)
        for account in accounts:
            assert windowed.spent(start, end, account) == direct.spent(start, end, account)
        for account in accounts[1:]:
            for minutes in (-60, 0, 60, 200, 24 * 60):
                moment = now + timedelta(minutes=minutes)
                assert windowed.blocked(account, moment) == direct.blocked(account, moment)
    assert asked > 100 and window.reads > 1  # each further look back read the window again
    statuses = {sent.status for sent in StoreView(store, library, rehearsal=True, now=now)
                .counted(now - timedelta(days=2))}  # fmt: skip
    assert {"published", "rehearsed", "deferred", "unknown"} <= statuses, statuses


def test_a_two_week_prediction_reads_each_guards_window_once(tmp_path: Path) -> None:
    """Each account's own window and each network's, once for the whole prediction: the same
    statement is never run twice, however many slots ask."""
    deployment = _deployment(tmp_path)
    with statements(deployment.store) as seen:
        forecast = predict(
            deployment.settings, deployment.library, deployment.store, deployment.clock.now,
            rehearsals=REHEARSAL, count=None, days=14,
        )  # fmt: skip
    slots = sum(len(a.slots) for a in forecast.accounts)
    window = [s for s in seen if "deliveries.sent_at >=" in s]
    accounts = len(deployment.settings.accounts)
    assert slots > 100
    assert len(window) == len(set(window)) <= accounts + 3, window  # + x, mastodon, bluesky
    # The rate-limit windows once per account, the spend once per month and account asked.
    assert sum("FROM rate_limits" in s for s in seen) <= len(deployment.settings.accounts)
    assert len(seen) < 60, len(seen)
