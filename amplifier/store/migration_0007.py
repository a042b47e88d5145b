"""Migration 0007: a send time per delivery, dry runs in a state of their own, account starts.

Its own module for the SQLite table rebuild it needs (a CHECK constraint cannot be altered).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, bindparam, text

from amplifier.store.ddl import STATUSES, column_types, run_ddl
from amplifier.store.schema import UTCDateTime
from amplifier.store.types import REHEARSAL_PREFIX, idempotency_key

STATUSES_0007 = (*STATUSES, "rehearsed")

# The deliveries table as 0007 leaves it (SQLite rebuilds it to change the status CHECK).
_DELIVERY_COLUMNS = (
    "id", "account", "network", "slot_key", "due_at", "template_id", "campaign", "text",
    "language", "link", "content_warning", "media", "idempotency_key", "status", "attempts",
    "remote_id", "url", "last_error", "retry_at", "claimed_by", "claimed_at", "created_at",
    "updated_at", "ambiguous_since",
)  # fmt: skip
_DELIVERY_INDEXES = (
    "CREATE INDEX ix_deliveries_status_retry_at ON deliveries (status, retry_at)",
    "CREATE INDEX ix_deliveries_account_due_at ON deliveries (account, due_at)",
    "CREATE INDEX ix_deliveries_network_due_at ON deliveries (network, due_at)",
)
_SENT_AT_INDEXES = (
    "CREATE INDEX ix_deliveries_account_sent_at ON deliveries (account, sent_at)",
    "CREATE INDEX ix_deliveries_network_sent_at ON deliveries (network, sent_at)",
)
# What only a dry run ever answered: DryRunNetwork's receipts are "dry-run-<n>".
_DRY_RUN_REMOTE_ID = "dry-run-%"


def _rebuild_sqlite_deliveries(conn: Connection, allowed: str) -> None:
    """SQLite cannot change a CHECK constraint: a new table, the rows copied, then renamed.

    Foreign keys must be off (the store's engine never turns them on), or dropping the old
    table would delete the costs that reference it. The AUTOINCREMENT counter is carried over,
    so no id is ever handed out twice.
    """
    if conn.exec_driver_sql("PRAGMA foreign_keys").scalar_one():
        raise RuntimeError("0007 rebuilds deliveries on SQLite and needs foreign_keys off")
    ident, ts = column_types(conn)
    seq = conn.exec_driver_sql(
        "SELECT seq FROM sqlite_sequence WHERE name = 'deliveries'"
    ).scalar_one_or_none()
    run_ddl(
        conn,
        f"""CREATE TABLE deliveries_0007 (
            id {ident},
            account TEXT NOT NULL,
            network TEXT NOT NULL,
            slot_key TEXT NOT NULL,
            due_at {ts} NOT NULL,
            template_id TEXT NOT NULL,
            campaign TEXT NOT NULL,
            text TEXT NOT NULL,
            language TEXT,
            link TEXT,
            content_warning TEXT,
            media TEXT NOT NULL DEFAULT '[]',
            idempotency_key TEXT NOT NULL,
            status TEXT NOT NULL,
            attempts INTEGER NOT NULL DEFAULT 0,
            remote_id TEXT,
            url TEXT,
            last_error TEXT,
            retry_at {ts},
            claimed_by TEXT,
            claimed_at {ts},
            created_at {ts} NOT NULL,
            updated_at {ts} NOT NULL,
            ambiguous_since {ts},
            sent_at {ts},
            CONSTRAINT uq_deliveries_account_slot UNIQUE (account, slot_key),
            CONSTRAINT uq_deliveries_idempotency_key UNIQUE (idempotency_key),
            CONSTRAINT ck_deliveries_status CHECK (status IN ({allowed}))
        )""",
        f"INSERT INTO deliveries_0007 ({', '.join(_DELIVERY_COLUMNS)}) "
        f"SELECT {', '.join(_DELIVERY_COLUMNS)} FROM deliveries",
        "DROP TABLE deliveries",
        "ALTER TABLE deliveries_0007 RENAME TO deliveries",
        *_DELIVERY_INDEXES,
    )
    if seq is not None:
        conn.execute(
            text("UPDATE sqlite_sequence SET seq = max(seq, :seq) WHERE name = 'deliveries'"),
            {"seq": seq},
        )


def sent_at_and_rehearsals(conn: Connection) -> None:
    """A send time per delivery, a state of its own for dry runs, and where each account began.

    - ``sent_at``: when a delivery went out (set when it is marked published), so the guards'
      windows run between send times, not due times. Published rows take their
      ``updated_at``, the moment they were marked published (or resolved: later than the
      send, which only makes a window look shorter by the guards' count, never longer).
    - ``rehearsed``: a dry run's post, printed and never sent. Rows published by the dry-run
      network before (remote id ``dry-run-<n>``) become rehearsals, under the rehearsal
      prefix of the slot key with their idempotency key to match, so no count, guard, spend
      or "last post" takes them for real posts any more.
    - ``first_started:live:<account>`` / ``first_started:rehearsal:<account>`` flags: when a
      worker first ran the account live or as a rehearsal (its earliest row of that kind), so
      an account going live later does not record its rehearsal days as missed.
    """
    allowed = ", ".join(f"'{status}'" for status in STATUSES_0007)
    if conn.dialect.name == "sqlite":
        _rebuild_sqlite_deliveries(conn, allowed)
    else:
        _, ts = column_types(conn)
        run_ddl(
            conn,
            f"ALTER TABLE deliveries ADD COLUMN sent_at {ts}",
            "ALTER TABLE deliveries DROP CONSTRAINT ck_deliveries_status",
            "ALTER TABLE deliveries ADD CONSTRAINT ck_deliveries_status "
            f"CHECK (status IN ({allowed}))",
        )
    run_ddl(conn, *_SENT_AT_INDEXES)
    dry_runs = conn.execute(
        text(
            "SELECT id, account, slot_key FROM deliveries "
            "WHERE status = 'published' AND remote_id LIKE :dry"
        ),
        {"dry": _DRY_RUN_REMOTE_ID},
    ).all()
    rehearse = text(
        "UPDATE deliveries SET status = 'rehearsed', slot_key = :slot, idempotency_key = :key, "
        "remote_id = NULL, last_error = :note WHERE id = :id"
    )
    note = "dry run: logged, not sent (recorded as published before migration 0007)"
    for row_id, account, slot_key in dry_runs:
        key = REHEARSAL_PREFIX + slot_key
        conn.execute(
            rehearse,
            {"slot": key, "key": idempotency_key(account, key), "note": note, "id": row_id},
        )
    run_ddl(
        conn,
        "UPDATE deliveries SET sent_at = updated_at "
        "WHERE status IN ('published', 'rehearsed') AND sent_at IS NULL",
    )
    starts = conn.exec_driver_sql(
        "SELECT account, status = 'rehearsed' AS rehearsal, min(created_at) FROM deliveries "
        "GROUP BY account, status = 'rehearsed'"
    ).all()
    begun: dict[str, datetime] = {}
    read = UTCDateTime()
    for account, rehearsal, first in starts:
        name = f"first_started:{'rehearsal' if rehearsal else 'live'}:{account}"
        moment = first if isinstance(first, datetime) else datetime.fromisoformat(str(first))
        moment = read.process_result_value(moment, conn.dialect) or moment
        begun[name] = min(moment, begun.get(name, moment))
    flag = text(
        'INSERT INTO flags (name, value, "by", updated_at) VALUES (:name, :value, :by, :at)'
    ).bindparams(bindparam("at", type_=UTCDateTime))
    for name, moment in sorted(begun.items()):
        conn.execute(flag, {"name": name, "value": "", "by": "migration", "at": moment})
