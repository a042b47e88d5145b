"""Collection of results inside the worker: a low-priority job that never holds up a post.

``Collecting.round()`` runs one ``results.Collector`` round with the worker's clock. It reads
through adapters of its own (built by the same factory, never the ones publishing uses, which
are not for use from two threads), and before every batch asks ``yield_reason``: a pass at
work, a slot due within ``[results] yield_seconds`` that has no row yet, or a deferred post
due by then, each stops the round; the next round goes on where it stopped (what is due is
read from the store each time).
"""

from __future__ import annotations

import threading
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from amplifier.config import Account
from amplifier.forecast import slot_key
from amplifier.networks.metrics import MetricsReader
from amplifier.results import Collector, RoundReport
from amplifier.schedule import seed_key, slot_spec, slots_between

if TYPE_CHECKING:
    from amplifier.worker.passes import Worker


class Collecting:
    """The worker's collector, its own adapters, and the check that yields to publishing."""

    def __init__(self, worker: Worker) -> None:
        self.worker = worker
        self._readers: dict[str, MetricsReader | None] = {}
        self._lock = threading.Lock()  # one round at a time
        self.collector = Collector(
            worker.settings,
            worker.library,
            worker.store,
            self.reader_for,
            may_run=self.yield_reason,
            logger=worker.logger,
        )

    def reader_for(self, account: Account) -> MetricsReader | None:
        """An adapter of the account's own for reads; None for a dry run (nothing to read)."""
        if account.name not in self._readers:
            reader: MetricsReader | None = None
            if not self.worker.rehearsing(account.name):
                network = self.worker._build_network(account)
                reader = network if isinstance(network, MetricsReader) else None
            self._readers[account.name] = reader
        return self._readers[account.name]

    def yield_reason(self, now: datetime) -> str | None:
        """Why no batch may start at ``now`` (publishing comes first), or None."""
        worker = self.worker
        if worker.stop.is_set():
            return "the worker is stopping"
        if worker._turns.busy:
            return "a pass is publishing"
        soon = now + timedelta(seconds=worker.settings.results.yield_seconds)
        live = {a.name for a in worker.accounts if not worker.rehearsing(a.name)}
        if any(row.account in live for row in worker.store.due_deferred(soon)):
            return "a deferred post is due"
        for account in worker.accounts:
            rehearsal = worker.rehearsing(account.name)
            spec = slot_spec(worker.settings, account)
            for slot in slots_between(
                spec, seed_key(worker.settings, account), now - worker.grace, soon
            ):
                if worker.store.get(account.name, slot_key(slot.key, rehearsal=rehearsal)) is None:
                    return f"slot {slot.key} of {account.name} is due"
        return None

    def round(self, now: datetime | None = None) -> RoundReport:
        """One round (none if another is still running)."""
        if not self._lock.acquire(blocking=False):
            return RoundReport(yielded="a round is already running")
        try:
            worker = self.worker
            return self.collector.run_round(now or worker.clock(), worker.clock)
        finally:
            self._lock.release()
