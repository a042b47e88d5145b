"""Ordered, named schema migrations, recorded in the table ``schema_migrations``.

Each step is plain DDL written out for the dialect at hand, never derived from the live
``Table`` objects of schema.py (``deliveries``, ``rotation_state`` ...): those describe the
newest schema for the store's queries, and an old step must keep producing the old schema
when a later step changes a table. A test checks that the two agree.

``migrate()`` applies the missing steps in order, one transaction per step, and is safe when
two processes run it at once (Heroku starts the new dyno before the old one stops):
PostgreSQL serialises on a transaction-scoped advisory lock, SQLite on ``BEGIN IMMEDIATE``
(which the store's engine emits for every write transaction).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import (
    Connection,
    Engine,
    bindparam,
    text,
)
from sqlalchemy.exc import DBAPIError

from amplifier.store.ddl import STATUSES
from amplifier.store.ddl import column_types as _types
from amplifier.store.ddl import run_ddl as _run
from amplifier.store.migration_0007 import sent_at_and_rehearsals
from amplifier.store.migration_0008 import instance_limits
from amplifier.store.migration_0009 import attempt_at
from amplifier.store.migration_0010 import console_indexes
from amplifier.store.migration_0011 import alert_outbox
from amplifier.store.migration_0012 import snapshots
from amplifier.store.migration_0013 import native_posts
from amplifier.store.migration_0014 import sign_ins_and_checks
from amplifier.store.migration_0015 import threads
from amplifier.store.schema import UTCDateTime


@dataclass(frozen=True)
class Migration:
    """One named schema step; ``apply`` runs inside the transaction that records it."""

    name: str
    apply: Callable[[Connection], None]


def _initial(conn: Connection) -> None:
    """Deliveries (one row per account and slot), rotation state and stored sessions."""
    ident, ts = _types(conn)
    allowed = ", ".join(f"'{status}'" for status in STATUSES)
    _run(
        conn,
        f"""CREATE TABLE deliveries (
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
            CONSTRAINT uq_deliveries_account_slot UNIQUE (account, slot_key),
            CONSTRAINT uq_deliveries_idempotency_key UNIQUE (idempotency_key),
            CONSTRAINT ck_deliveries_status CHECK (status IN ({allowed}))
        )""",
        "CREATE INDEX ix_deliveries_status_retry_at ON deliveries (status, retry_at)",
        "CREATE INDEX ix_deliveries_account_due_at ON deliveries (account, due_at)",
        f"""CREATE TABLE rotation_state (
            account TEXT PRIMARY KEY,
            state TEXT NOT NULL,
            updated_at {ts} NOT NULL
        )""",
        f"""CREATE TABLE sessions (
            account TEXT PRIMARY KEY,
            value TEXT NOT NULL,
            updated_at {ts} NOT NULL
        )""",
    )


def _rate_limits(conn: Connection) -> None:
    """Rate-limit windows per account, as the platforms last reported them."""
    _, ts = _types(conn)
    _run(
        conn,
        f"""CREATE TABLE rate_limits (
            account TEXT NOT NULL,
            "window" TEXT NOT NULL,
            limit_ INTEGER,
            remaining INTEGER,
            reset_at {ts},
            updated_at {ts} NOT NULL,
            PRIMARY KEY (account, "window")
        )""",
    )


def _flags_and_workers(conn: Connection) -> None:
    """The pause switch (a named flag) and worker heartbeats (to spot orphaned claims)."""
    _, ts = _types(conn)
    _run(
        conn,
        f"""CREATE TABLE flags (
            name TEXT PRIMARY KEY,
            value TEXT NOT NULL,
            "by" TEXT,
            updated_at {ts} NOT NULL
        )""",
        f"""CREATE TABLE workers (
            worker_id TEXT PRIMARY KEY,
            seen_at {ts} NOT NULL
        )""",
    )


def _delivery_costs(conn: Connection) -> None:
    """What each X delivery costs (micro-dollars), written with its claim; the month's spend."""
    _, ts = _types(conn)
    _run(
        conn,
        f"""CREATE TABLE delivery_costs (
            delivery_id BIGINT PRIMARY KEY REFERENCES deliveries (id) ON DELETE CASCADE,
            account TEXT NOT NULL,
            network TEXT NOT NULL,
            due_at {ts} NOT NULL,
            cost_micros BIGINT NOT NULL,
            created_at {ts} NOT NULL
        )""",
        "CREATE INDEX ix_delivery_costs_due_at ON delivery_costs (due_at)",
    )


def _guard_indexes(conn: Connection) -> None:
    """Indexes for the guards' reads, so a pass costs the same with years of history.

    Found by bench/bench_history.py: with 1,000,000 rows, SQLite read the 7-day window of a
    network (distinct-text rule) and the month's spend of an account by scanning, 140x and
    450x slower than with 1,000 rows.
    """
    _run(
        conn,
        "CREATE INDEX ix_deliveries_network_due_at ON deliveries (network, due_at)",
        "CREATE INDEX ix_delivery_costs_account_due_at ON delivery_costs (account, due_at)",
        "CREATE INDEX ix_delivery_costs_network_due_at ON delivery_costs (network, due_at)",
    )


# How 0001-0005 carried the ambiguity: a marker at the end of last_error, with an ISO time.
_AMBIGUITY_MARKER = re.compile(r" ?\[ambiguous since (\S+)\]")


def _marker_time(value: str) -> datetime | None:
    try:
        found = datetime.fromisoformat(value)
    except ValueError:
        return None
    return found if found.tzinfo else found.replace(tzinfo=UTC)


def _ambiguous_since(conn: Connection) -> None:
    """The start of the earliest attempt that may have landed, in a column of its own.

    Until now a ``[ambiguous since <ISO time>]`` marker at the end of ``last_error`` carried
    it, read back with a regex. Each row's first readable marker moves into the column (as the
    old reader took the first) and every readable marker leaves the message; a marker whose
    time does not parse stays in the text, so nothing is lost.
    """
    _, ts = _types(conn)
    _run(conn, f"ALTER TABLE deliveries ADD COLUMN ambiguous_since {ts}")
    marked = text("SELECT id, last_error FROM deliveries WHERE last_error LIKE :marker")
    rows = conn.execute(marked, {"marker": "%[ambiguous since %"}).all()
    move = text(
        "UPDATE deliveries SET ambiguous_since = :since, last_error = :message WHERE id = :id"
    ).bindparams(bindparam("since", type_=UTCDateTime))
    for row_id, message in rows:
        found = [
            (marker, when)
            for marker in _AMBIGUITY_MARKER.finditer(message)
            if (when := _marker_time(marker.group(1))) is not None
        ]
        if not found:
            continue
        kept = message
        for marker, _ in found:
            kept = kept.replace(marker.group(0), "", 1)
        conn.execute(move, {"since": found[0][1], "message": kept, "id": row_id})


MIGRATIONS: tuple[Migration, ...] = (
    Migration("0001_initial", _initial),
    Migration("0002_rate_limits", _rate_limits),
    Migration("0003_flags_and_workers", _flags_and_workers),
    Migration("0004_delivery_costs", _delivery_costs),
    Migration("0005_guard_indexes", _guard_indexes),
    Migration("0006_ambiguous_since", _ambiguous_since),
    Migration("0007_sent_at_and_rehearsals", sent_at_and_rehearsals),
    Migration("0008_instance_limits", instance_limits),
    Migration("0009_attempt_at", attempt_at),
    Migration("0010_console_indexes", console_indexes),
    Migration("0011_alert_outbox", alert_outbox),
    Migration("0012_snapshots", snapshots),
    Migration("0013_native_posts", native_posts),
    Migration("0014_sign_ins_and_checks", sign_ins_and_checks),
    Migration("0015_threads", threads),
)


# -- applying the steps ------------------------------------------------------------------------

# Any fixed 64-bit number works; this one spells "amplifie" so it is recognisable in pg_locks.
_ADVISORY_LOCK_KEY = 0x616D706C69666965


def _lock_and_prepare(conn: Connection) -> set[str]:
    """Take the migration lock, make sure schema_migrations exists, return applied names."""
    if conn.dialect.name == "postgresql":
        # Held until this transaction ends; a second migrate() waits here, then sees our rows.
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _ADVISORY_LOCK_KEY})
    _, ts = _types(conn)
    conn.exec_driver_sql(
        f"CREATE TABLE IF NOT EXISTS schema_migrations "
        f"(name TEXT PRIMARY KEY, applied_at {ts} NOT NULL)"
    )
    return {row[0] for row in conn.exec_driver_sql("SELECT name FROM schema_migrations")}


def applied_migrations(engine: Engine) -> list[str]:
    """Names recorded in schema_migrations, in name order ([] before the first migrate)."""
    with engine.begin() as conn:
        return sorted(_lock_and_prepare(conn))


def _recorded_without_lock(engine: Engine) -> set[str] | None:
    """Names in schema_migrations, read once; None when that cannot be read (no table yet).

    A database that cannot be read at all is not reported here: the locked path that follows
    meets the same error and raises it.
    """
    try:
        with engine.execution_options(amplifier_read_only=True).connect() as conn:
            return {row[0] for row in conn.exec_driver_sql("SELECT name FROM schema_migrations")}
    except DBAPIError:
        return None


def migrate(
    engine: Engine,
    now: Callable[[], datetime],
    migrations: Sequence[Migration] = MIGRATIONS,
) -> list[str]:
    """Apply the steps of ``migrations`` that are not recorded yet; return the names applied.

    ``engine`` must begin write transactions with ``BEGIN IMMEDIATE`` on SQLite (the store's
    engine does), so the check-then-apply below is serialised between processes. When every
    step is recorded already, one read without the lock answers; a step found pending is
    checked again under the lock, since another process may be applying it.
    """
    recorded = _recorded_without_lock(engine)
    if recorded is not None and all(m.name in recorded for m in migrations):
        return []  # the common case, every start of every command: one read, no lock, no DDL
    applied_now: list[str] = []
    for migration in migrations:
        with engine.begin() as conn:
            if migration.name in _lock_and_prepare(conn):
                continue
            migration.apply(conn)
            conn.execute(
                text(
                    "INSERT INTO schema_migrations (name, applied_at) VALUES (:name, :at)"
                ).bindparams(bindparam("at", type_=UTCDateTime)),
                {"name": migration.name, "at": now()},
            )
            applied_now.append(migration.name)
    return applied_now
