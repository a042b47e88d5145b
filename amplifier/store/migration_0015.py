"""Migration 0015: threads. A post written in parts goes out as a chain of self-replies, each
part a delivery row of its own, claimed only once the part before it has been published.

``thread_key`` is the first part's slot key (shared by every part), ``thread_part`` the
part's number from 1 and ``thread_size`` how many parts the thread has; the first part's
``thread_rest`` holds the later parts as rendered (JSON), so each is claimed as decided.
``reply_to`` and ``reply_root`` are what a part answers: the part before it and the first
part, by the network's own ids. Every row made before is a post alone (all of them NULL).
"""

from __future__ import annotations

from sqlalchemy import Connection

from amplifier.store.ddl import run_ddl


def threads(conn: Connection) -> None:
    run_ddl(
        conn,
        "ALTER TABLE deliveries ADD COLUMN thread_key TEXT",
        "ALTER TABLE deliveries ADD COLUMN thread_part INTEGER",
        "ALTER TABLE deliveries ADD COLUMN thread_size INTEGER",
        "ALTER TABLE deliveries ADD COLUMN thread_rest TEXT",
        "ALTER TABLE deliveries ADD COLUMN reply_to TEXT",
        "ALTER TABLE deliveries ADD COLUMN reply_root TEXT",
        # The worker asks, every pass, which threads wait for their next part.
        "CREATE INDEX ix_deliveries_thread ON deliveries (account, thread_key, thread_part)",
    )
