"""Migration 0013: network-native posts. Link cards as last read, one row per link (cards/,
Bluesky's embed); a delivery's sensitive-media mark (Mastodon's flag, Bluesky's label) and its
reply and quote controls (X reply_settings, Bluesky's threadgate and postgate)."""

from __future__ import annotations

from sqlalchemy import Connection

from amplifier.store.ddl import column_types, run_ddl


def native_posts(conn: Connection) -> None:
    """A link's card (title, description, re-encoded thumbnail) or why there is none; whether
    a delivery's media are sensitive, who may reply, whether it may be quoted (every row made
    before: not sensitive, everyone, quotes allowed)."""
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
        "ALTER TABLE deliveries ADD COLUMN sensitive BOOLEAN NOT NULL DEFAULT FALSE",
        "ALTER TABLE deliveries ADD COLUMN replies TEXT NOT NULL DEFAULT 'everyone'",
        "ALTER TABLE deliveries ADD COLUMN quotes BOOLEAN NOT NULL DEFAULT TRUE",
    )
