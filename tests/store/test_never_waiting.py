"""The store that never waits (``Store.never_waiting``), which the console reads with on its
event loop: in WAL mode it reads beside a writer at once; where SQLite would make it wait it
fails at once (``StoreBusy``) instead; it only ever reads."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from amplifier.errors import StoreBusy, StoreError
from amplifier.store import HistoryQuery, Store


@pytest.fixture
def url(tmp_path: Path) -> Iterator[str]:
    """A migrated SQLite file holding one heartbeat, its waiting store's connections closed."""
    found = f"sqlite:///{tmp_path / 'state.db'}"
    store = Store(found)
    store.migrate()
    store.heartbeat("w1")
    store.close()
    yield found


def _exclusive(path: str) -> sqlite3.Connection:
    """Another connection holding the file in exclusive locking mode (a write takes it)."""
    holder = sqlite3.connect(path, isolation_level=None, timeout=0)
    holder.execute("PRAGMA locking_mode=EXCLUSIVE")
    holder.execute("BEGIN IMMEDIATE")
    holder.execute("UPDATE workers SET worker_id = 'w2'")
    holder.execute("COMMIT")
    return holder


def test_it_reads_beside_a_writer_at_once(url: str) -> None:
    """A writer holds its write lock, a change not yet committed: the read does not wait for
    it and sees what was committed before."""
    quick = Store.never_waiting(url)
    assert quick is not None
    writer = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")
    writer.execute("UPDATE workers SET worker_id = 'w2'")
    started = time.monotonic()
    assert [name for name, _ in quick.heartbeats()] == ["w1"]
    assert time.monotonic() - started < 1.0  # a waiting read would sit out the transaction
    writer.execute("COMMIT")
    assert [name for name, _ in quick.heartbeats()] == ["w2"]
    writer.close()
    quick.close()


READS: dict[str, Callable[[Store], object]] = {
    "heartbeats": Store.heartbeats,
    # The pages' prepared reads (store/prepared.py): the driver's own error, made StoreBusy too.
    "history": lambda store: store.history_page(HistoryQuery()),
    "review": lambda store: store.awaiting_review(200),
    "status": lambda store: store.status_snapshot(["a"], None),
}


@pytest.mark.parametrize("read", READS)
def test_a_locked_file_fails_at_once_instead_of_waiting(url: str, read: str) -> None:
    """Another connection holds the file exclusively: the read fails with StoreBusy in far
    less than the waiting store's busy_timeout (5 s); none is opened over such a file."""
    holder = _exclusive(url.removeprefix("sqlite:///"))
    assert Store.never_waiting(url) is None
    quick = Store(url, never_wait=True)
    started = time.monotonic()
    with pytest.raises(StoreBusy, match="database is locked"):
        READS[read](quick)
    assert time.monotonic() - started < 1.0
    holder.close()
    assert [name for name, _ in quick.heartbeats()] == ["w2"]
    quick.close()


def test_it_only_reads(url: str) -> None:
    """A write through it is refused by SQLite (query_only); the row stays as it was."""
    quick = Store.never_waiting(url)
    assert quick is not None
    with pytest.raises(StoreError, match="readonly"):
        quick.heartbeat("w3")
    assert [name for name, _ in quick.heartbeats()] == ["w1"]
    quick.close()


def test_only_a_sqlite_file_in_wal_mode_has_one(tmp_path: Path) -> None:
    """PostgreSQL (network reads stay off the loop), in-memory SQLite (one database per
    connection) and a file not in WAL mode (a reader there waits for writers) have none."""
    assert Store.never_waiting("postgresql+psycopg://nobody@127.0.0.1:1/none") is None
    assert Store.never_waiting("sqlite://") is None
    assert Store.never_waiting("sqlite:///:memory:") is None
    plain = tmp_path / "plain.db"
    sqlite3.connect(plain).execute("CREATE TABLE t (x)").connection.close()
    assert Store.never_waiting(f"sqlite:///{plain}") is None
    with pytest.raises(StoreError, match="only a SQLite store"):
        Store("postgresql+psycopg://nobody@127.0.0.1:1/none", never_wait=True)
