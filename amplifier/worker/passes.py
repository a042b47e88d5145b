"""The worker: every due slot of every account published exactly once, whatever happens.

``Worker.run_pending(now)`` is one full pass, and all the worker does: check in (heartbeat),
settle what crashed workers left, retry due deferred posts, then for each account look at its
slots in the lookback window:

    has a row already                   nothing (another pass or worker handled it)
    otherwise                           ``SlotFlow.settle`` (slot.py): skipped, missed, or
                                        planned, guarded, claimed and delivered

Accounts run side by side in threads, each account's slots in order (``_turns``).
``scheduler.run_forever`` drives passes with APScheduler 3: one job per account at its next
slot, a housekeeping pass every ``tick_seconds``, a heartbeat on its own job so a long
delivery never makes this worker look dead. The database is the source of truth; the
scheduler only says when to look. Tests call ``run_pending`` with a fake clock and never sleep.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from uuid import uuid4

from amplifier.accounts import NetworkFactory
from amplifier.config import Account, Settings
from amplifier.content import Library
from amplifier.delivery import DeliveryContext, DeliveryPolicy, RecoveryRules, Settler, Sleep
from amplifier.errors import AmplifierError, StoreError
from amplifier.logs import log_event, log_exception
from amplifier.networks.base import Network
from amplifier.schedule import (
    NothingToPost,
    Slot,
    candidates,
    next_slots,
    plan_slot,
    seed_key,
    slot_spec,
    slots_between,
)
from amplifier.store import Delivery, Store
from amplifier.worker.slot import SlotFlow, draft_for

LOGGER = logging.getLogger(__name__)

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


def make_worker_id() -> str:
    """Unique per process: host, pid, and a random part (pids repeat across dyno restarts)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid4().hex[:6]}"


def manual_slot_key(now: datetime) -> str:
    return "manual-" + now.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


class Worker:
    """One worker process's logic, with its store, networks, clock and sleep injected."""

    def __init__(
        self,
        settings: Settings,
        library: Library,
        store: Store,
        networks: NetworkFactory,
        *,
        worker_id: str | None = None,
        clock: Clock = utc_now,
        sleep: Sleep | None = None,
        stop: threading.Event | None = None,
        logger: logging.Logger = LOGGER,
    ) -> None:
        self.settings = settings
        self.library = library
        self.store = store
        self.worker_id = worker_id or make_worker_id()
        self.clock = clock
        self.stop = stop or threading.Event()
        self.logger = logger
        self.grace = timedelta(minutes=settings.worker.grace_minutes)
        self.lookback = timedelta(hours=settings.worker.lookback_hours)
        self._build_network = networks
        self._networks: dict[str, Network] = {}
        self._recorded: dict[str, set[str]] = {}  # account -> slot keys known to have a row
        self._first_started: datetime | None = None
        # Slot jobs and the housekeeping job never overlap; re-entrant for run_pending_if_idle.
        self._pass_lock = threading.RLock()
        self.context = DeliveryContext(
            store=store,
            worker_id=self.worker_id,
            policy=DeliveryPolicy.from_settings(settings.worker),
            clock=clock,
            # Waiting on the stop event makes every retry wait end the moment we stop.
            sleep=sleep or self.stop.wait,
            stop=self.stop,
            logger=logger,
        )
        self.settler = Settler(
            self.context,
            self.network_for,
            RecoveryRules.from_settings(settings.worker),
            stop=self.stop,
        )
        self.flow = SlotFlow(settings, library, self.context, self.network_for, grace=self.grace)

    @property
    def accounts(self) -> list[Account]:
        return [account for account in self.settings.accounts if account.enabled]

    def account(self, name: str) -> Account:
        for account in self.accounts:
            if account.name == name:
                return account
        enabled = ", ".join(a.name for a in self.accounts) or "(none)"
        raise KeyError(f"no enabled account {name!r}; enabled accounts: {enabled}")

    def network_for(self, name: str) -> Network:
        """The account's adapter, built once and reused (it may hold a session)."""
        if name not in self._networks:
            self._networks[name] = self._build_network(self.account(name))
        return self._networks[name]

    def heartbeat(self) -> None:
        self.store.heartbeat(self.worker_id)

    def close(self, *, settled: bool = True) -> None:
        """Clean exit: tell other workers we are gone, once every row we hold is recorded.

        ``settled=False`` (a pass still in flight): the heartbeat is left to go stale instead,
        so no other worker settles our post before its request has had its read timeout.
        """
        if settled:
            self.store.forget_worker(self.worker_id)
        log_event(self.logger, "stopped", worker=self.worker_id, settled=settled)

    def pause_reason(self) -> str | None:
        paused, by, since = self.store.paused()
        if not paused:
            return None
        when = since.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC") if since else "unknown time"
        return f"paused by {by or 'someone'} since {when}"

    def wait_for_pass(self, timeout: float) -> bool:
        """Wait until no pass is running (True), or give up after ``timeout`` seconds.

        Checks in while it waits: the scheduler, heartbeat job included, is already stopped,
        and a silent worker's rows would be taken over while its post is still in flight.
        """
        deadline = time.monotonic() + timeout
        while not self._pass_lock.acquire(timeout=min(5.0, max(0.0, deadline - time.monotonic()))):
            if time.monotonic() >= deadline:
                log_event(self.logger, "stop-timeout", logging.WARNING, worker=self.worker_id)
                return False
            try:
                self.heartbeat()
            except StoreError as error:  # the shutdown goes on; the pass meets the same error
                log_event(self.logger, "heartbeat-failed", logging.WARNING, reason=str(error))
        self._pass_lock.release()
        return True

    def run_pending_if_idle(self) -> list[Delivery] | None:
        """A pass now, unless one is under way (None): that pass, or the next tick, covers it.

        Scheduler jobs use this so none of them holds a thread waiting for the lock; a pool
        full of waiting jobs would starve the heartbeat and make a live worker look dead.
        """
        if not self._pass_lock.acquire(blocking=False):
            return None
        try:
            return self.run_pending()
        finally:
            self._pass_lock.release()

    def run_pending(self, now: datetime | None = None) -> list[Delivery]:
        """One full pass at ``now``; returns every row this pass created or changed."""
        with self._pass_lock:
            now = now or self.clock()
            self.heartbeat()
            paused = self.pause_reason()
            done: list[Delivery] = []
            if paused is None:  # while paused nothing goes out, not even a retry
                done += self.settler.settle_orphans(now)
                done += self.settler.retry_deferred(now)
            turns = self._turns()
            width = min(self.settings.worker.parallel_accounts, len(turns))
            if not self.store.threads_share_it:
                width = 1
            if width <= 1:
                for turn in turns:
                    done += self._take_turn(turn, now, paused)
                return done
            # Threads only wait on the network: one slow server no longer holds up the rest.
            with ThreadPoolExecutor(width, thread_name_prefix="amplifier-pass") as pool:
                for rows in pool.map(lambda turn: self._take_turn(turn, now, paused), turns):
                    done += rows
            return done

    def _turns(self) -> list[list[Account]]:
        """The accounts in groups that run one after another; groups may run side by side.

        Accounts whose guards read each other's posts take turns in one group, so each sees
        what the others just sent: the networks under the distinct-text rule, and X (its
        deployment-wide budget). Every other account is a group of its own.
        """
        rules = self.settings.guards
        shared = {"x"} | (set(rules.distinct_text_networks) if rules.distinct_text_days else set())
        by_network: dict[str, list[Account]] = {}
        turns: list[list[Account]] = []
        for account in self.accounts:
            if account.network in shared:
                if account.network not in by_network:
                    by_network[account.network] = []
                    turns.append(by_network[account.network])
                by_network[account.network].append(account)
            else:
                turns.append([account])
        return turns

    def _take_turn(
        self, accounts: list[Account], now: datetime, paused: str | None
    ) -> list[Delivery]:
        done: list[Delivery] = []
        for account in accounts:
            if self.stop.is_set():
                break
            try:
                done += self._account_pass(account, now, paused)
            except Exception:
                # One account's trouble (a database hiccup) must not starve the others; a
                # row it left 'sending' is settled at the start of the next pass.
                log_exception(self.logger, "pass-failed", account=account.name)
        return done

    def _account_pass(self, account: Account, now: datetime, paused: str | None) -> list[Delivery]:
        spec = slot_spec(self.settings, account)
        # slots_between is half-open: the end just past now includes a slot due exactly now.
        end = now + timedelta(microseconds=1)
        due = slots_between(spec, seed_key(self.settings, account), self._window_start(now), end)
        # A slot that has a row keeps it for good, so each is looked up until it has one.
        known = self._recorded.setdefault(account.name, set())
        known &= {slot.key for slot in due}
        done: list[Delivery] = []
        for slot in due:
            if self.stop.is_set():
                break
            if slot.key in known or self.store.get(account.name, slot.key) is not None:
                known.add(slot.key)
                continue
            row = self.flow.settle(account, slot, now, paused)
            if row is not None:
                done.append(row)
        return done

    def _window_start(self, now: datetime) -> datetime:
        """How far back to look: the lookback, but never before this database's first worker."""
        if self._first_started is None:
            self._first_started = self.store.first_started()
        return max(now - self.lookback, self._first_started - self.grace)

    def next_slot(self, account: Account, after: datetime) -> Slot | None:
        found = next_slots(
            slot_spec(self.settings, account), seed_key(self.settings, account), after, 1
        )
        return found[0] if found else None

    def post_now(self, name: str, post_id: str | None = None) -> Delivery:
        """Publish one post for ``name`` right away, claimed like any slot (key manual-<time>)."""
        paused = self.pause_reason()
        if paused is not None:
            raise AmplifierError(f"{paused}; run amplifier resume first")
        account = self.account(name)
        now = self.clock()
        zone = slot_spec(self.settings, account).zone
        slot = Slot(due_at=now, nominal=now.astimezone(zone), key=manual_slot_key(now))
        state = self.flow.rotation(account)
        exclude: frozenset[str] = frozenset()
        if post_id is not None:
            pool = candidates(self.settings, self.library, account, slot.nominal.date())
            wanted = [key for key, t in pool.items() if post_id in (key, t.id)]
            if not wanted:
                raise AmplifierError(
                    f"post {post_id!r} cannot go out on {name} today; eligible: "
                    + (", ".join(sorted(pool)) or "(none)")
                )
            exclude = frozenset(pool) - set(wanted)
        planned, new_state = plan_slot(
            self.settings, self.library, account, slot, state, exclude=exclude
        )
        if isinstance(planned, NothingToPost):
            raise AmplifierError(f"nothing to post on {name}: {planned.reason}")
        with self._pass_lock:
            self.heartbeat()
            decision = self.flow.guard(account, slot, (planned, new_state), state, exclude)
            if decision.planned is None or decision.state is None:
                raise AmplifierError(f"not posted on {name}: {decision.skip_reason}")
            draft = draft_for(account, slot, decision.planned)
            row = self.flow.claim_and_deliver(account, draft, decision.state, now, decision.cost)
        if row is None:
            raise AmplifierError(f"slot {slot.key} of {name} was claimed by another worker")
        return row
