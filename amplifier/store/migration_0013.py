"""Migration 0013: link cards as last read, one row per link (cards/, Bluesky's embed)."""

from __future__ import annotations

from sqlalchemy import Connection

from amplifier.store.ddl import column_types, run_ddl


def link_cards(conn: Connection) -> None:
    """A link's card (title, description, re-encoded thumbnail) or why there is none."""
    _, ts = column_types(conn)
    blob = "BYTEA" if conn.dialect.name == "postgresql" else "BLOB"
    run_ddl(
        conn,
        f"""CREATE TABLE link_cards (
            url TEXT PRIMARY KEY,
            title TEXT,
            description TEXT,
            thumb {blob},
            failure TEXT,
            fetched_at {ts} NOT NULL
        )""",
    )
