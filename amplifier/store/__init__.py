"""Store: the state database, where claim and record happen.

One row per (account, slot) is recorded before anything is sent, and every later state move
is a compare-and-set, so two workers never both own a row. SQLAlchemy Core over SQLite or
PostgreSQL. ``Store`` (sql.py) is the one class the other stages use; migrations.py holds the
schema and its named migrations, sessions.py keeps Bluesky sessions sealed, instances.py
each Mastodon instance's limits (``stored_instance_limits`` reads them without creating a
database), snapshots.py each published post's counts at fixed ages, outbox.py the alert
outbox, cards.py each link's card, types.py the rows.
"""

from __future__ import annotations

from amplifier.store.access import credentials_confirmed
from amplifier.store.cards import StoredCard
from amplifier.store.console import HistoryLine, HistoryQuery, ReviewLine
from amplifier.store.instances import stored_instance_limits
from amplifier.store.one_sender import STALE_AFTER
from amplifier.store.outbox import AlertDraft, OutboxRow
from amplifier.store.sessions import SealedSessions
from amplifier.store.snapshots import COUNTS, GONE, DueRead, Snapshot
from amplifier.store.sql import Store
from amplifier.store.status_reads import LastPost, StatusSnapshot
from amplifier.store.types import (
    REHEARSAL_PREFIX,
    Delivery,
    DeliveryDraft,
    DeliveryStatus,
    PartDraft,
    RotationWrite,
    WorkerStop,
    part_slot_key,
)

__all__ = [
    "COUNTS",
    "GONE",
    "REHEARSAL_PREFIX",
    "STALE_AFTER",
    "AlertDraft",
    "Delivery",
    "DeliveryDraft",
    "DeliveryStatus",
    "DueRead",
    "HistoryLine",
    "HistoryQuery",
    "LastPost",
    "OutboxRow",
    "PartDraft",
    "ReviewLine",
    "RotationWrite",
    "SealedSessions",
    "Snapshot",
    "StatusSnapshot",
    "Store",
    "StoredCard",
    "WorkerStop",
    "credentials_confirmed",
    "part_slot_key",
    "stored_instance_limits",
]
