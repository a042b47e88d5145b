"""Migration 0014: the console's sign-in failures and each account's last credentials check.

``sign_in_failures`` keeps failed sign-ins by client address for the throttle's window, so
two web processes (or one restarted) share one count. ``account_checks`` records when an
account's credentials were last confirmed (``amplifier accounts verify``), never a secret.
"""

from __future__ import annotations

from sqlalchemy import Connection

from amplifier.store.ddl import column_types, run_ddl


def sign_ins_and_checks(conn: Connection) -> None:
    ident, ts = column_types(conn)
    run_ddl(
        conn,
        f"""CREATE TABLE sign_in_failures (
            id {ident},
            client TEXT NOT NULL,
            failed_at {ts} NOT NULL
        )""",
        "CREATE INDEX ix_sign_in_failures_client_failed_at ON sign_in_failures (client, failed_at)",
        f"""CREATE TABLE account_checks (
            account TEXT PRIMARY KEY,
            verified_at {ts} NOT NULL,
            how TEXT NOT NULL
        )""",
    )
