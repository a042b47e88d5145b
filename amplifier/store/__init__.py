"""The state database: one row per (account, slot) recorded before anything is sent.

See ``amplifier.store.sql`` for the store itself, ``amplifier.store.migrations`` for the
schema and ``amplifier.store.sessions`` for how Bluesky sessions are kept sealed.
"""

from __future__ import annotations

from amplifier.store.sessions import SealedSessions
from amplifier.store.sql import Store
from amplifier.store.types import Delivery, DeliveryDraft, DeliveryStatus

__all__ = ["Delivery", "DeliveryDraft", "DeliveryStatus", "SealedSessions", "Store"]
