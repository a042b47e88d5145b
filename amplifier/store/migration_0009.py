"""Migration 0009: indexes for the console's pages, so each stays fast at a million rows.

History pages walk ``(due_at, id)`` by keyset, whole or narrowed by state, campaign, post or
account and state; the status page counts deferred and unknown rows by state.
"""

from __future__ import annotations

from sqlalchemy import Connection

from amplifier.store.ddl import run_ddl

CONSOLE_INDEXES = (
    "CREATE INDEX ix_deliveries_due_at_id ON deliveries (due_at, id)",
    "CREATE INDEX ix_deliveries_status_due_at_id ON deliveries (status, due_at, id)",
    "CREATE INDEX ix_deliveries_campaign_due_at_id ON deliveries (campaign, due_at, id)",
    "CREATE INDEX ix_deliveries_template_due_at_id ON deliveries (template_id, due_at, id)",
    "CREATE INDEX ix_deliveries_account_status_due_at_id "
    "ON deliveries (account, status, due_at, id)",
)


def console_indexes(conn: Connection) -> None:
    run_ddl(conn, *CONSOLE_INDEXES)
