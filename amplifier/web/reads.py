"""Reading for a page: on the event loop when SQLite answers without waiting, else in a thread.

A read handed to a thread costs two thread switches (~0.1 ms, more on a busy machine), as
much as the SQL of a history page on SQLite; on PostgreSQL the network round trip must stay
off the loop, so there every read goes to a thread, as it always did.

On SQLite the console's pages read through ``Store.never_waiting``: one connection, query
only, busy_timeout 0, over a file in WAL mode. Such a read never sleeps on a lock: in WAL
mode a reader takes no lock that writers (our own actions, the worker, a checkpoint) hold,
and the rare moments SQLite would make a reader wait (recovery after a crash, a connection
holding the file in exclusive locking mode) raise ``StoreBusy`` at once; that read is then
made again in a thread by the store that waits (busy_timeout), as before. What is left on
the loop is the statement's own work, bounded: every page's statement is answered from an
index with a LIMIT (keyset pages of 51 rows, 200 rows to review, index probes for status;
``tests/web/test_statements.py`` holds the count, ``bench/bench_web.py`` the time at a
million rows). One caller at a time holds the connection; another (a second event loop)
reads in a thread meanwhile.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar

from starlette.concurrency import run_in_threadpool

from amplifier.errors import StoreBusy
from amplifier.store import Store

T = TypeVar("T")


class LoopReads:
    """The store that never waits, and a lock on its one connection (never waited for)."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.held = threading.Lock()

    def close(self) -> None:
        self.store.close()


async def read(loop_reads: LoopReads | None, store: Store, call: Callable[[Store], T]) -> T:
    """What ``call`` reads: on the loop through ``loop_reads`` when its connection is free
    and the file is not locked, else from ``store`` in a thread (where waiting is allowed)."""
    if loop_reads is not None and loop_reads.held.acquire(blocking=False):
        try:
            return call(loop_reads.store)
        except StoreBusy:
            pass  # nothing was read: read it again below
        finally:
            loop_reads.held.release()
    return await run_in_threadpool(call, store)
