"""Migration 0008: each Mastodon instance's limits as last read, the adapter's limits cache."""

from __future__ import annotations

from sqlalchemy import Connection

from amplifier.store.ddl import column_types, run_ddl


def instance_limits(conn: Connection) -> None:
    """One row per instance (scheme and host): its limits as a JSON document, and when read."""
    _, ts = column_types(conn)
    run_ddl(
        conn,
        f"""CREATE TABLE instance_limits (
            instance TEXT PRIMARY KEY,
            limits TEXT NOT NULL,
            fetched_at {ts},
            updated_at {ts} NOT NULL
        )""",
    )
