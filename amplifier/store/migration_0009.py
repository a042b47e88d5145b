"""Migration 0009: when the attempt in flight began, so one account has one sender at a time."""

from __future__ import annotations

from sqlalchemy import Connection

from amplifier.store.ddl import column_types, run_ddl


def attempt_at(conn: Connection) -> None:
    """``deliveries.attempt_at``: set when an attempt begins, cleared when the row is taken
    over; while its row is 'sending' and its worker alive, no other worker begins one for the
    account (``Store.begin_attempt``). The index finds an account's 'sending' rows without
    walking its history (SQLite otherwise took an index led by the account alone)."""
    _, ts = column_types(conn)
    run_ddl(
        conn,
        f"ALTER TABLE deliveries ADD COLUMN attempt_at {ts}",
        "CREATE INDEX ix_deliveries_account_status ON deliveries (account, status)",
    )
