"""The state database as one object: ``Store``, every read and write the flow makes.

Its parts, each over ``StoreBase`` (base.py: engine, transactions, errors):

- ``Deliveries`` (deliveries.py): claims and compare-and-set state moves, over
  ``DeliveryReads`` (reads.py): one row, history, orphans, the guards' window, costs;
- ``SharedState`` (state.py): rotation, rate limits, sessions, the pause switch, workers;
- ``InstanceLimitsState`` (instances.py): each Mastodon instance's limits as last read;
- ``ConsoleReads`` (console.py): the console's pages, by keyset and by index;
- ``AccessState`` (access.py): the console's sign-in failures, credentials checks;
- ``StatusReads`` (status_reads.py): the status page's reads, in one connection;
- ``SnapshotState`` (snapshots.py): each published post's counts at fixed ages (results);
- ``LinkCardsState`` (cards.py): each link's card as last read, or why it has none;
- ``AlertOutbox`` (outbox.py): alerts enqueued with their change, claimed with a lease;
- ``Reviews`` (review.py): an operator's verdict on a delivery whose outcome was unknown.

The schema and its named migrations are in migrations.py.
"""

from __future__ import annotations

from amplifier.store.access import AccessState
from amplifier.store.cards import LinkCardsState
from amplifier.store.console import ConsoleReads
from amplifier.store.deliveries import Deliveries
from amplifier.store.instances import InstanceLimitsState
from amplifier.store.outbox import AlertOutbox
from amplifier.store.review import Reviews
from amplifier.store.snapshots import SnapshotState
from amplifier.store.state import SharedState
from amplifier.store.status_reads import StatusReads
from amplifier.store.threads import ThreadParts


class Store(
    Deliveries,
    ThreadParts,
    ConsoleReads,
    StatusReads,
    SharedState,
    InstanceLimitsState,
    AccessState,
    SnapshotState,
    LinkCardsState,
    AlertOutbox,
    Reviews,
):
    """Every read and compare-and-set write the worker and the CLI make on the state database."""
