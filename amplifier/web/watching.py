"""The console watches too: a worker gone silent is noticed while the console runs.

``ConsoleWatch`` runs, on a thread of its own (never a request's), every ``every`` seconds:
the workers' checks a worker's watch runs (``AlertWatch.workers``: a silent worker, keyed by
its last heartbeat, and no worker at all since a clean stop, keyed by the stop; so a worker
and a console watching together enqueue each once), then one drain of the outbox with the
deployment's sender (claims with a lease, so two senders never send one row). The app's
lifespan starts it and, at shutdown, stops it and waits (bounded) for a drain in flight to
record what it sent. The digest stays the workers' (its "tomorrow" is the worker's forecast).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime

from amplifier.alerts import AlertRules, AlertSender, AlertWatch
from amplifier.logs import log_exception
from amplifier.store import Store

LOGGER = logging.getLogger("amplifier.web")
Clock = Callable[[], datetime]


class ConsoleWatch:
    """The silent-worker watch and the outbox's sender, ticking on a daemon thread."""

    def __init__(
        self,
        store: Store,
        rules: AlertRules,
        sender: AlertSender,
        *,
        clock: Clock,
        every: float = 30.0,
        logger: logging.Logger = LOGGER,
    ) -> None:
        self.watch = AlertWatch(store, rules)  # no worker id: every worker is another's
        self.rules = rules
        self.sender = sender
        self.clock = clock
        self.every = every
        self.logger = logger
        self.stop = threading.Event()
        self.ticks = 0  # ticks completed (tests wait on it, never on time)
        self.ticked = threading.Condition()
        self.thread: threading.Thread | None = None

    def tick(self) -> None:
        """One look: enqueue each silence once, then send what waits; never raises."""
        try:
            if self.rules.settings.events:
                self.store_silent(self.clock())
            self.sender.drain()
        except Exception:  # the database or a channel's bug: the next tick tries again
            log_exception(self.logger, "alert-watch-failed", logging.WARNING)
        with self.ticked:
            self.ticks += 1
            self.ticked.notify_all()

    def store_silent(self, now: datetime) -> None:
        """A silent worker, or none running at all: enqueued once each."""
        self.watch.store.enqueue_alerts(self.watch.workers(now))

    def start(self) -> threading.Thread:
        """The thread, ticking at once and then every ``every`` seconds until ``close``."""

        def loop() -> None:
            while not self.stop.is_set():
                self.tick()
                self.stop.wait(self.every)

        self.thread = threading.Thread(target=loop, name="amplifier-console-alerts", daemon=True)
        self.thread.start()
        return self.thread

    def wait_for_ticks(self, count: int, timeout: float = 30.0) -> bool:
        """Block until ``count`` ticks in all have completed (False if the thread stopped)."""
        with self.ticked:
            return self.ticked.wait_for(lambda: self.ticks >= count, timeout)

    def close(self, timeout: float = 10.0) -> None:
        """Stop ticking; wait (bounded) for a tick in flight, so its drain records what went."""
        self.stop.set()
        if self.thread is not None:
            self.thread.join(timeout)
