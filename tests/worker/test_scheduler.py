"""Scheduler jobs never wait for a pass: a waiting job would hold a thread the heartbeat needs."""

from __future__ import annotations

import threading
from pathlib import Path

from amplifier.check import load
from amplifier.networks.memory import MemoryNetwork
from amplifier.store import Store
from amplifier.worker import Worker

DATA = Path(__file__).parent.parent / "data"


def test_run_pending_if_idle_skips_while_a_pass_runs(tmp_path: Path) -> None:
    """While one thread is inside a pass, another's attempt returns at once with None."""
    settings, library = load(DATA / "test_config.toml", None)
    store = Store(f"sqlite:///{tmp_path / 'state.db'}")
    store.migrate()
    worker = Worker(
        settings, library, store, lambda account: MemoryNetwork(account.name, account.network)
    )
    inside, release = threading.Event(), threading.Event()

    def long_pass() -> None:
        with worker._pass_lock:  # stands for a pass busy publishing
            inside.set()
            release.wait(5)

    holder = threading.Thread(target=long_pass)
    holder.start()
    assert inside.wait(5)
    assert worker.run_pending_if_idle() is None
    release.set()
    holder.join(5)
    assert worker.run_pending_if_idle() is not None  # idle again: the pass runs
