"""Turns: the groups of accounts a pass acts for, one lock each, so a slow one holds up no other.

Accounts whose guards read each other's posts take turns in one group, so each sees what the
others just sent: the networks under the distinct-text rule, and X (its deployment-wide
budget). Every other account is a group of its own. A pass acts for a group only while it holds
the group's lock, and skips a group another pass (or a post-now) holds: that one is already at
work there, and the next pass or tick covers what it leaves. So an account whose server hangs
keeps its own group busy, and nothing else: another account's slot job, firing meanwhile, runs
a pass for the groups that are free.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime

from amplifier.config import Account, Settings
from amplifier.store import Delivery

# Rows of accounts no longer configured or enabled are settled under a turn of this name.
LEFTOVERS = ""


@dataclass
class Turn:
    """One group of accounts and its lock (re-entrant: a pass inside a post-now's turn)."""

    name: str
    accounts: list[Account]
    lock: threading.RLock = field(default_factory=threading.RLock)

    @property
    def names(self) -> frozenset[str]:
        return frozenset(account.name for account in self.accounts)

    @contextmanager
    def taken(self, *, wait: bool) -> Iterator[bool]:
        """Hold the turn (True), or, when ``wait`` is False and another holds it, not (False)."""
        got = self.lock.acquire(blocking=wait)
        try:
            yield got
        finally:
            if got:
                self.lock.release()


def group_accounts(settings: Settings, accounts: list[Account]) -> list[tuple[str, list[Account]]]:
    """(group name, accounts) in config order: shared networks by network, else one each."""
    rules = settings.guards
    shared = {"x"} | (set(rules.distinct_text_networks) if rules.distinct_text_days else set())
    by_network: dict[str, list[Account]] = {}
    groups: list[tuple[str, list[Account]]] = []
    for account in accounts:
        if account.network in shared:
            if account.network not in by_network:
                by_network[account.network] = []
                groups.append((f"network:{account.network}", by_network[account.network]))
            by_network[account.network].append(account)
        else:
            groups.append((f"account:{account.name}", [account]))
    return groups


class Turns:
    """Every group's turn, kept across passes (its lock must be one object), and the passes in
    flight, which a stopping worker waits for."""

    def __init__(self) -> None:
        self._turns: dict[str, Turn] = {LEFTOVERS: Turn(LEFTOVERS, [])}
        self._guard = threading.Lock()
        self._idle = threading.Condition()
        self._running = 0

    def current(self, settings: Settings, accounts: list[Account]) -> list[Turn]:
        """The groups for these accounts, each with its one lock (groups follow the config)."""
        with self._guard:
            turns = []
            for name, members in group_accounts(settings, accounts):
                turn = self._turns.setdefault(name, Turn(name, members))
                turn.accounts = members
                turns.append(turn)
            return turns

    @property
    def leftovers(self) -> Turn:
        return self._turns[LEFTOVERS]

    @contextmanager
    def running(self) -> Iterator[None]:
        """Counts a pass (or a post-now) in flight while inside."""
        with self._idle:
            self._running += 1
        try:
            yield
        finally:
            with self._idle:
                self._running -= 1
                self._idle.notify_all()

    @property
    def busy(self) -> bool:
        with self._idle:
            return self._running > 0

    def wait_idle(self, timeout: float, between: Callable[[], None]) -> bool:
        """Until no pass runs (True) or ``timeout`` seconds pass (False); ``between`` is called
        every few seconds while waiting (a heartbeat)."""
        deadline = time.monotonic() + timeout
        with self._idle:
            while self._running > 0:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                if not self._idle.wait(timeout=min(5.0, left)):
                    self._idle.release()
                    try:
                        between()
                    finally:
                        self._idle.acquire()
            return True


@dataclass(frozen=True)
class Housework:
    """What a pass settles besides new slots, read once: orphans and due deferred rows."""

    now: datetime
    paused: str | None
    stuck: list[Delivery]
    waiting: list[Delivery]
    threads: list[Delivery] = field(default_factory=list)  # threads waiting for a next part

    def within(self, names: Collection[str]) -> Housework:
        """The rows of these accounts only."""
        return Housework(
            self.now,
            self.paused,
            [row for row in self.stuck if row.account in names],
            [row for row in self.waiting if row.account in names],
            [row for row in self.threads if row.account in names],
        )

    def outside(self, names: Collection[str]) -> Housework:
        """The rows of accounts not among these (no longer configured or enabled)."""
        return Housework(
            self.now,
            self.paused,
            [row for row in self.stuck if row.account not in names],
            [row for row in self.waiting if row.account not in names],
            [row for row in self.threads if row.account not in names],
        )
