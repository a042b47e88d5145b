"""Engines: URL checks, and SQLite set up so two processes writing one file queue up."""

from __future__ import annotations

import sqlite3
import time
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.pool import StaticPool

from amplifier.errors import StoreError

BUSY_TIMEOUT_S = 5.0  # how long a SQLite writer waits for another before giving up


def mask_url(url: str | URL) -> str:
    """The URL with its password replaced by ***, for messages."""
    return make_url(url).render_as_string(hide_password=True)


def normalise_url(url: str) -> URL:
    try:
        parsed = make_url(url)
    except ArgumentError:
        # The text may hold a password, so it is not repeated here.
        raise StoreError(
            "the database URL cannot be parsed (expected sqlite:///path or "
            "postgresql+psycopg://user:password@host/db)"
        ) from None
    if parsed.drivername in ("postgres", "postgresql"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() not in ("sqlite", "postgresql"):
        raise StoreError(f"unsupported database {mask_url(parsed)}: use SQLite or PostgreSQL")
    return parsed


def _enable_wal(cursor: Any) -> None:
    """Switch the file to WAL (readers never block the writer); a no-op once it is WAL.

    Switching needs an exclusive lock and SQLite answers "database is locked" at once instead
    of using busy_timeout, which happens when several processes open a new file together;
    whoever loses waits briefly and finds the file already switched.
    """
    deadline = time.monotonic() + BUSY_TIMEOUT_S
    while cursor.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) or time.monotonic() > deadline:
                raise
            time.sleep(0.01)


def sqlite_engine(url: URL, *, never_wait: bool = False) -> Engine:
    """A SQLite engine where two processes writing one file queue up instead of deadlocking.

    ``never_wait``: one connection (kept open, shared by whoever holds it: one caller at a
    time) whose busy_timeout is 0, so a statement meeting a lock fails at once with
    SQLITE_BUSY instead of sleeping; for reads on an event loop (``Store.never_waiting``).
    """
    if never_wait:
        engine = create_engine(url, poolclass=StaticPool, connect_args={"check_same_thread": False})
    else:
        engine = create_engine(url)
    busy_ms = 0 if never_wait else int(BUSY_TIMEOUT_S * 1000)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take BEGIN away from sqlite3 so _on_begin decides what kind of transaction starts.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout={busy_ms}")
        if never_wait:
            cursor.execute("PRAGMA query_only=ON")  # it reads, never writes, never switches
        else:
            _enable_wal(cursor)
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        # A deferred BEGIN that later writes must upgrade its lock, and two such upgrades
        # deadlock ("database is locked" at once, busy_timeout or not). IMMEDIATE takes the
        # write lock up front, so writers simply wait their turn. Reads (WAL) need no lock.
        if never_wait or conn.get_execution_options().get("amplifier_read_only"):
            conn.exec_driver_sql("BEGIN")
        else:
            conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine
