"""Migration 0012: snapshots, the public counts of each published post at fixed ages.

One row per (delivery, age): ``age`` is the label of the target age it was taken for ('1h',
'24h', '7d' ...), or 'gone' for a post found deleted or unreachable, recorded once and never
asked about again. Each count is what the network gave, NULL where it gives none (Mastodon
has no impressions, Bluesky no bookmarks). ``cost_micros`` is what the read cost (X bills
each post read; the others are free), counted in the month of ``taken_at`` with the posts'
spend. Nothing else in the store changes meaning.
"""

from __future__ import annotations

from sqlalchemy import Connection

from amplifier.store.ddl import column_types, run_ddl


def snapshots(conn: Connection) -> None:
    ident, ts = column_types(conn)
    run_ddl(
        conn,
        f"""CREATE TABLE snapshots (
            id {ident},
            delivery_id BIGINT NOT NULL,
            account TEXT NOT NULL,
            network TEXT NOT NULL,
            age TEXT NOT NULL,
            age_seconds BIGINT NOT NULL,
            taken_at {ts} NOT NULL,
            likes BIGINT,
            reposts BIGINT,
            replies BIGINT,
            quotes BIGINT,
            bookmarks BIGINT,
            impressions BIGINT,
            cost_micros BIGINT NOT NULL,
            UNIQUE (delivery_id, age)
        )""",
        "CREATE INDEX ix_snapshots_network_taken_at ON snapshots (network, taken_at)",
    )
