"""Migration 0011: the alert outbox, written in the transaction of the change it reports.

One row per alert, unique by ``dedup_key`` (an event is enqueued once, whoever enqueues it);
``sent_to`` holds the short fingerprints of the channels that have it, ``claimed_by`` and
``lease_until`` the sender draining it (a killed sender's lease runs out, another takes it).
"""

from __future__ import annotations

from sqlalchemy import Connection

from amplifier.store.ddl import column_types, run_ddl


def alert_outbox(conn: Connection) -> None:
    ident, ts = column_types(conn)
    run_ddl(
        conn,
        f"""CREATE TABLE alert_outbox (
            id {ident},
            dedup_key TEXT NOT NULL,
            event TEXT NOT NULL,
            account TEXT,
            subject TEXT NOT NULL,
            body TEXT NOT NULL,
            urgent INTEGER NOT NULL DEFAULT 0,
            created_at {ts} NOT NULL,
            next_try_at {ts} NOT NULL,
            attempts INTEGER NOT NULL DEFAULT 0,
            sent_to TEXT NOT NULL DEFAULT '',
            claimed_by TEXT,
            lease_until {ts},
            sent_at {ts},
            last_error TEXT,
            CONSTRAINT uq_alert_outbox_dedup_key UNIQUE (dedup_key)
        )""",
        "CREATE INDEX ix_alert_outbox_sent_at_next_try_at ON alert_outbox (sent_at, next_try_at)",
    )
