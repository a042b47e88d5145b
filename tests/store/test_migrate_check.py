"""The check every command makes at start: a migrated database answers with one read."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, Engine, event

from amplifier.errors import StoreError
from amplifier.store import Store
from amplifier.store.migrations import MIGRATIONS, Migration, applied_migrations, migrate

from .conftest import FakeClock

TRANSACTION_CONTROL = ("BEGIN", "COMMIT", "ROLLBACK")


@contextmanager
def statements_run(engine: Engine) -> Iterator[list[str]]:
    """Every SQL statement ``engine`` sends while inside, transaction control left out."""
    seen: list[str] = []

    def record(_conn: Connection, _cursor: Any, statement: str, *_args: Any) -> None:
        if not statement.strip().upper().startswith(TRANSACTION_CONTROL):
            seen.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def test_migrated_database_is_checked_with_one_query(store: Store) -> None:
    """Nothing pending: one SELECT of the recorded names, no lock, no DDL, no write."""
    with statements_run(store.engine) as seen:
        assert store.migrate() == []
    assert len(seen) == 1, seen
    assert seen[0].strip().upper().startswith("SELECT")
    assert "lock" not in seen[0].lower()


def test_pending_step_takes_the_locked_path(
    make_store: Callable[[], Store], clock: FakeClock
) -> None:
    """A step not yet recorded is applied under the lock and recorded, once."""
    store = make_store()
    store.migrate()
    extra = Migration("0999_extra", lambda conn: conn.exec_driver_sql("CREATE TABLE extra (a INT)"))
    with statements_run(store.engine) as seen:
        assert migrate(store.engine, clock, [*MIGRATIONS, extra]) == ["0999_extra"]
    assert any("CREATE TABLE extra" in statement for statement in seen)
    assert any("CREATE TABLE IF NOT EXISTS schema_migrations" in s for s in seen)  # locked path
    if store.engine.dialect.name == "postgresql":
        assert any("pg_advisory_xact_lock" in statement for statement in seen)
    assert applied_migrations(store.engine)[-1] == "0999_extra"
    assert migrate(store.engine, clock, [*MIGRATIONS, extra]) == []


def test_fresh_database_is_migrated_whole(make_store: Callable[[], Store]) -> None:
    """No schema_migrations table yet: the first read fails quietly and every step runs."""
    store = make_store()
    assert store.migrate() == [migration.name for migration in MIGRATIONS]
    assert store.migrate() == []


def test_unreadable_database_is_still_a_store_error(tmp_path: Path) -> None:
    """A file that is not a database is a StoreError, as before the one-read check."""
    broken = tmp_path / "state.db"
    broken.write_bytes(b"this is not a SQLite database, only text " * 200)
    store = Store(f"sqlite:///{broken}")
    try:
        with pytest.raises(StoreError, match="migrate failed"):
            store.migrate()
    finally:
        store.close()
