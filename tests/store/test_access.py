"""Migration 0014's tables: sign-in failures shared between processes, credentials checks."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy import inspect

from amplifier.store import DeliveryDraft, Store, credentials_confirmed
from amplifier.store.migrations import MIGRATIONS, applied_migrations, migrate

from .conftest import FakeClock, claim_on_old_schema

T0 = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
NAMES = [migration.name for migration in MIGRATIONS]


def test_sign_in_failures_are_seen_by_another_process_and_forgotten(
    make_store: Callable[[], Store],
) -> None:
    """One store records, another (its own engine, like another process) reads; old ones go
    when a new failure is recorded; a success clears the client's."""
    one, two = make_store(), make_store()
    one.migrate()
    one.record_sign_in_failure("1.2.3.4", T0, forget_before=T0 - timedelta(minutes=15))
    one.record_sign_in_failure("5.6.7.8", T0, forget_before=T0 - timedelta(minutes=15))
    later = T0 + timedelta(minutes=20)
    two.record_sign_in_failure("1.2.3.4", later, forget_before=later - timedelta(minutes=15))
    assert two.sign_in_failures("1.2.3.4", T0 - timedelta(days=1)) == [later]  # T0's forgotten
    assert one.sign_in_failures("5.6.7.8", T0 - timedelta(days=1)) == []
    one.clear_sign_in_failures("1.2.3.4")
    assert two.sign_in_failures("1.2.3.4", T0 - timedelta(days=1)) == []


def test_credentials_checks_keep_the_latest_and_a_post_counts(store: Store) -> None:
    """The latest check per account (upsert); a later published post confirms them too."""
    store.record_credentials_check("a", T0, "amplifier accounts verify")
    store.record_credentials_check("a", T0 + timedelta(hours=1), "amplifier accounts verify")
    checks = store.credentials_checks()
    assert checks == {"a": (T0 + timedelta(hours=1), "amplifier accounts verify")}
    assert credentials_confirmed(checks["a"], T0) == checks["a"]
    assert credentials_confirmed(checks["a"], T0 + timedelta(hours=2)) == (
        T0 + timedelta(hours=2),
        "a post published",
    )
    assert credentials_confirmed(None, None) is None


def test_0014_upgrade_from_0010_keeps_rows_and_adds_the_tables(
    make_store: Callable[[], Store], clock: FakeClock
) -> None:
    """A database at 0010 holding a row upgrades: the row reads the same, the tables exist."""
    store = make_store()
    assert migrate(store.engine, clock, MIGRATIONS[:10]) == NAMES[:10]
    draft = DeliveryDraft("a", "mastodon", "s1", T0, "p", "c", "t")
    # Written in SQL: today's store also writes columns of later steps.
    row = claim_on_old_schema(store, draft, worker_id="old", now=T0)
    assert "0014_sign_ins_and_checks" in store.migrate()
    assert applied_migrations(store.engine) == NAMES
    assert store.get_by_id(row.id) == row
    tables = set(inspect(store.engine).get_table_names())
    assert {"sign_in_failures", "account_checks"} <= tables
