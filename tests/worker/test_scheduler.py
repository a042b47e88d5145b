"""Scheduler jobs never wait for a pass: a waiting job would hold a thread the heartbeat needs,
and a busy group of accounts (a hanging server) must not hold up the others' slots."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from amplifier.check import load
from amplifier.networks.memory import MemoryNetwork
from amplifier.store import Store
from amplifier.worker import Worker

DATA = Path(__file__).parent.parent / "data"
# 09:00 in New York: a slot of every account of test_config.toml is due.
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=ZoneInfo("America/New_York")).astimezone(UTC)


def test_run_pending_if_idle_never_waits_for_a_busy_turn(tmp_path: Path) -> None:
    """While another thread holds one account's turn, a pass acts at once for the others and
    skips that one; once the turn is free, the next pass acts for it too."""
    settings, library = load(DATA / "test_config.toml", None)
    store = Store(f"sqlite:///{tmp_path / 'state.db'}", clock=lambda: NOW)
    store.migrate()
    worker = Worker(
        settings,
        library,
        store,
        lambda account: MemoryNetwork(account.name, account.network),
        clock=lambda: NOW,
    )
    inside, release = threading.Event(), threading.Event()

    def long_pass() -> None:
        with worker.turn("t-x").taken(wait=True):  # stands for a pass busy publishing on X
            inside.set()
            release.wait(10)

    holder = threading.Thread(target=long_pass)
    holder.start()
    try:
        assert inside.wait(5)
        started = time.monotonic()
        done = worker.run_pending_if_idle()
        took = time.monotonic() - started
        assert took < 3, f"the pass waited {took:.1f} s for a busy turn"
        assert {row.account for row in done} == {"t-mastodon", "t-bluesky-es"}
        assert all(row.status == "published" for row in done)
    finally:
        release.set()
        holder.join(5)
    later = worker.run_pending_if_idle()  # the turn is free again: X's slot goes out now
    assert [(row.account, row.status) for row in later] == [("t-x", "published")]
