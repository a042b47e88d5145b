"""Where the pages read: on SQLite on the event loop, through the store that never waits
(no thread hop, which cost as much as the SQL); on PostgreSQL in a thread. When that store's
connection is in use, or SQLite would make it wait, the read is made again in a thread, by the
store that waits its turn, and the page is the same."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from amplifier.store import Store
from amplifier.web import Console
from amplifier.web.reads import LoopReads, read

from .conftest import START, each_statement
from .rows import published, unknown

PAGES = ("/history", "/review", "/status")


@contextmanager
def where_read(console: Console) -> Iterator[list[bool]]:
    """For each SELECT the console's engines run meanwhile: was it on a running event loop?"""
    seen: list[bool] = []

    def record(statement: str) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            try:
                asyncio.get_running_loop()
                seen.append(True)
            except RuntimeError:  # a worker thread runs no loop
                seen.append(False)

    with each_statement(console, record):
        yield seen


def test_pages_read_on_the_loop_on_sqlite_and_in_a_thread_on_postgresql(
    viewer: TestClient, console: Console
) -> None:
    """History, review and status: every statement on the loop (SQLite), none (PostgreSQL)."""
    published(console.store, "x1", START - timedelta(hours=2), post="cost")
    unknown(console.store, "m1", START - timedelta(hours=1))
    on_sqlite = console.store.engine.dialect.name == "sqlite"
    assert (console.loop_reads is not None) is on_sqlite
    for path in PAGES:
        with where_read(console) as seen:
            assert viewer.get(path).status_code == 200
        assert seen and all(on_loop is on_sqlite for on_loop in seen), (path, seen)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # PostgreSQL: no loop reads
def test_a_connection_in_use_sends_the_read_to_a_thread(
    viewer: TestClient, console: Console
) -> None:
    """Its one connection held elsewhere (a second event loop), each page reads in a thread
    and shows the same."""
    assert console.loop_reads is not None
    published(console.store, "x1", START - timedelta(hours=2), post="cost")
    unknown(console.store, "m1", START - timedelta(hours=1))
    on_loop = {path: viewer.get(path).text for path in PAGES}
    with console.loop_reads.held, where_read(console) as seen:
        in_thread = {path: viewer.get(path).text for path in PAGES}
    assert seen and not any(seen)
    assert in_thread == on_loop
    assert "cost" in on_loop["/history"] and "m1" in on_loop["/review"]


def test_a_locked_file_is_read_in_a_thread_once_the_lock_goes(tmp_path: Path) -> None:
    """Another connection holds the file exclusively: the read on the loop fails at once
    (StoreBusy), the store that waits reads it in a thread when the lock goes; meanwhile the
    loop is free (another task runs)."""
    url = f"sqlite:///{tmp_path / 'state.db'}"
    waiting = Store(url)
    waiting.migrate()
    waiting.heartbeat("w1")
    waiting.engine.dispose()  # exclusive locking mode needs the file to itself
    holder = sqlite3.connect(tmp_path / "state.db", isolation_level=None, timeout=0,
                             check_same_thread=False)  # fmt: skip
    holder.execute("PRAGMA locking_mode=EXCLUSIVE")
    holder.execute("BEGIN IMMEDIATE")
    holder.execute("UPDATE workers SET worker_id = 'w2'")
    holder.execute("COMMIT")
    quick = LoopReads(Store(url, never_wait=True))
    ticks: list[float] = []

    async def both() -> list[tuple[str, Any]]:
        async def tick() -> None:
            while len(ticks) < 5:
                ticks.append(time.monotonic())
                await asyncio.sleep(0.02)

        ticker = asyncio.create_task(tick())
        found = await read(quick, waiting, lambda store: store.heartbeats())
        await ticker
        return found

    threading.Timer(0.3, holder.close).start()
    started = time.monotonic()
    # A loop of its own, on a thread of its own: a browser test earlier in the run may leave
    # Playwright's loop set as running on this thread.
    with ThreadPoolExecutor(1) as pool:
        found = pool.submit(asyncio.run, both()).result()
    assert [name for name, _ in found] == ["w2"]
    assert time.monotonic() - started >= 0.25  # it waited for the lock, in a thread
    assert len(ticks) == 5 and ticks[-1] - started < 0.25  # the loop went on meanwhile
    quick.close()
    waiting.close()
