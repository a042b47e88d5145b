"""What every part of the store shares: the engine, transactions, errors, upserts.

SQLAlchemy Core over a SQLite file (the default) or PostgreSQL (Heroku's DATABASE_URL). Driver
errors become ``StoreError`` with no password in the message; every write is one transaction.
On Heroku the URL host is remote and SSL is required: give ``?sslmode=require`` in the URL
(Heroku's DATABASE_URL works once ``postgres://`` becomes ``postgresql+psycopg://``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any, Self

from sqlalchemy import Connection, Engine, Select, Table, create_engine
from sqlalchemy.exc import SQLAlchemyError

from amplifier.errors import StoreBusy, StoreError
from amplifier.store import migrations
from amplifier.store.engine import mask_url, normalise_url, sqlite_engine
from amplifier.store.prepared import Prepared


def aware(name: str, value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise StoreError(f"{name} must be a timezone-aware datetime, got naive {value.isoformat()}")
    return value.astimezone(UTC)


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _sqlite_busy(cause: object) -> bool:
    """SQLITE_BUSY or SQLITE_LOCKED (any extended code): a lock was in the way."""
    code = getattr(cause, "sqlite_errorcode", None)
    return isinstance(code, int) and code & 0xFF in (5, 6)


class StoreBase:
    """The engine and the helpers the store's parts build on; ``Store`` is the class to use."""

    def __init__(
        self, url: str, *, clock: Callable[[], datetime] = _utc_now, never_wait: bool = False
    ) -> None:
        self._url = normalise_url(url)
        self._clock = clock
        if self._url.get_backend_name() == "sqlite":
            self._engine = sqlite_engine(self._url, never_wait=never_wait)
        elif never_wait:
            raise StoreError("only a SQLite store reads without waiting")
        else:
            self._engine = create_engine(self._url, pool_pre_ping=True)
        self._reader = self._engine.execution_options(amplifier_read_only=True)
        # Errors a Prepared statement's driver raises as they are (not wrapped by SQLAlchemy).
        self._driver_error: type[Exception] = self._engine.dialect.loaded_dbapi.Error
        self._prepared: dict[int, Prepared] = {}

    @classmethod
    def never_waiting(cls, url: str, *, clock: Callable[[], datetime] = _utc_now) -> Self | None:
        """A store over the same SQLite file whose reads never wait for a lock, for reads on
        an event loop; None unless the database is a SQLite file in WAL mode.

        In WAL mode a read takes no lock a writer holds: it reads the last committed state
        beside the writer (the store's own writers, another process's, a checkpoint). The
        few moments a reader must still wait (the recovery after a crash, a connection
        holding the file in exclusive locking mode) raise ``StoreBusy`` at once instead of
        sleeping, as busy_timeout 0 answers; nothing was read, and the caller reads again
        where waiting is allowed. Its one connection is opened here, not at the first read;
        it refuses writes (``query_only``). One caller at a time: the caller serializes.
        """
        parsed = normalise_url(url)
        if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
            return None
        opened = cls(url, clock=clock, never_wait=True)
        try:
            with opened._read("open") as conn:
                mode = conn.exec_driver_sql("PRAGMA journal_mode").scalar()
        except StoreError:
            opened.close()
            return None
        if str(mode).lower() != "wal":
            opened.close()
            return None
        return opened

    @property
    def engine(self) -> Engine:
        """The SQLAlchemy engine (for migrations tooling and tests)."""
        return self._engine

    @property
    def threads_share_it(self) -> bool:
        """Whether threads see one database: not so for in-memory SQLite (one per connection)."""
        return not (
            self._url.get_backend_name() == "sqlite"
            and self._url.database in (None, "", ":memory:")
        )

    def __repr__(self) -> str:
        return f"Store({mask_url(self._url)!r})"

    def _now(self) -> datetime:
        return aware("clock()", self._clock())

    @contextmanager
    def _guard(self, action: str) -> Iterator[None]:
        """Turn driver errors into StoreError, with no password in the message."""
        try:
            yield
        except (SQLAlchemyError, self._driver_error) as error:
            cause = getattr(error, "orig", None) or error
            detail = str(cause).strip().splitlines()[0] if str(cause).strip() else ""
            if self._url.password:
                detail = detail.replace(str(self._url.password), "***")
            kind = StoreBusy if _sqlite_busy(cause) else StoreError
            raise kind(
                f"{action} failed on {mask_url(self._url)}: {type(cause).__name__}: {detail}"
            ) from None

    @contextmanager
    def _write(self, action: str) -> Iterator[Connection]:
        with self._guard(action), self._engine.begin() as conn:
            yield conn

    @contextmanager
    def _read(self, action: str) -> Iterator[Connection]:
        with self._guard(action), self._reader.connect() as conn:
            yield conn

    def _rows(
        self, conn: Connection, statement: Select[Any], values: Mapping[str, Any] | None = None
    ) -> list[tuple[Any, ...]]:
        """``statement``'s rows through its ``Prepared`` form (compiled on first use): for the
        console's reads on every request. Call it inside ``_read``, whose guard turns the
        driver's errors into the store's."""
        prepared = self._prepared.get(id(statement))
        if prepared is None or prepared.statement is not statement:
            prepared = self._prepared[id(statement)] = Prepared(statement, self._engine.dialect)
        return prepared.rows(conn, values)

    def migrate(self) -> list[str]:
        """Apply pending migrations and return their names; safe from two processes at once."""
        with self._guard("migrate"):
            return migrations.migrate(self._engine, self._now)

    def close(self) -> None:
        """Close every pooled connection."""
        self._engine.dispose()


def dialect_insert(dialect: str) -> Any:
    """The dialect's ``insert`` (it has ON CONFLICT); PostgreSQL's is imported only for it,
    so a SQLite deployment never loads the PostgreSQL dialect (~16 ms, a few MiB)."""
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert


def upsert(
    conn: Connection, table: Table, values: Mapping[str, object], keys: Sequence[str]
) -> None:
    """INSERT, or UPDATE the row with the same ``keys``, in the caller's transaction."""
    statement = _upsert_statement(conn.dialect.name, table, tuple(values), tuple(keys))
    conn.execute(statement, dict(values))


@lru_cache(maxsize=64)
def _upsert_statement(
    dialect: str, table: Table, names: tuple[str, ...], keys: tuple[str, ...]
) -> Any:
    """INSERT ... ON CONFLICT (keys) DO UPDATE the other named columns; values bound later."""
    statement = dialect_insert(dialect)(table)
    changes = {name: statement.excluded[name] for name in names if name not in keys}
    return statement.on_conflict_do_update(index_elements=list(keys), set_=changes)
