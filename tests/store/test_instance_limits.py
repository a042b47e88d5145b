"""0008: each Mastodon instance's limits kept in the store, the adapter's limits cache."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import inspect

from amplifier.networks.mastodon_limits import InstanceLimits, instance_key
from amplifier.store import DeliveryDraft, Store, stored_instance_limits
from amplifier.store.migrations import MIGRATIONS, applied_migrations, migrate

from .conftest import FakeClock, claim_on_old_schema

NAMES = [migration.name for migration in MIGRATIONS]
READ_AT = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
SMALL = InstanceLimits(
    max_characters=150,
    characters_reserved_per_url=23,
    max_media_attachments=2,
    image_size_limit=200_000,
    description_limit=1500,
    supported_mime_types=("image/png", "image/jpeg"),
    version="4.3.0",
    source="v2",
    fetched_at=READ_AT,
)


def test_store_keeps_an_instances_limits_between_stores(
    make_store: Callable[[], Store], clock: FakeClock
) -> None:
    """Limits saved through one Store are read back whole (fetch time included) by another,
    as a later worker or command would; a second save replaces the first."""
    key = instance_key("https://Small.Example:8443/")
    first = make_store()
    first.migrate()
    assert first.load_instance_limits(key) is None
    first.save_instance_limits(key, SMALL)
    again = make_store()
    loaded = again.load_instance_limits(key)
    assert loaded == SMALL and loaded is not None and loaded.fetched_at == READ_AT
    assert again.all_instance_limits() == {"https://small.example:8443": SMALL}
    later = InstanceLimits(max_characters=5000, source="v1", fetched_at=clock.now)
    again.save_instance_limits(key, later)
    assert first.load_instance_limits(key) == later
    assert first.load_instance_limits("https://other.example") is None


def test_0008_upgrade_from_0007_keeps_rows_and_adds_the_cache(
    make_store: Callable[[], Store], clock: FakeClock
) -> None:
    """A database at 0007 upgrades: its deliveries stay as they were and the cache is there,
    empty until the first read of an instance."""
    store = make_store()
    assert migrate(store.engine, clock, MIGRATIONS[:7]) == NAMES[:7]
    draft = DeliveryDraft(
        "m1", "mastodon", "2026-11-23T09:00", READ_AT, "tpl", "fbt", "Families belong together"
    )
    row = claim_on_old_schema(store, draft, worker_id="old", now=READ_AT)
    assert "instance_limits" not in inspect(store.engine).get_table_names()

    assert store.migrate() == NAMES[7:]
    assert applied_migrations(store.engine) == NAMES
    assert store.get_by_id(row.id) == row
    assert store.all_instance_limits() == {}
    store.save_instance_limits("https://small.example", SMALL)
    assert store.load_instance_limits("https://small.example") == SMALL


def test_stored_limits_are_read_without_creating_a_database(tmp_path: Path) -> None:
    """``check``'s read: a missing SQLite file stays missing; one before 0008 reads empty."""
    missing = tmp_path / "none.db"
    assert stored_instance_limits(f"sqlite:///{missing}") == {}
    assert not missing.exists()
    old = tmp_path / "old.db"
    store = Store(f"sqlite:///{old}")
    migrate(store.engine, lambda: READ_AT, MIGRATIONS[:7])
    assert stored_instance_limits(f"sqlite:///{old}") == {}
    store.migrate()
    store.save_instance_limits("https://small.example", SMALL)
    store.close()
    assert stored_instance_limits(f"sqlite:///{old}") == {"https://small.example": SMALL}
    assert stored_instance_limits("postgresql://nobody@127.0.0.1:1/none") == {}
