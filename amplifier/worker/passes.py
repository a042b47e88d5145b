"""The worker: every due slot of every account published exactly once, whatever happens.

``Worker.run_pending(now)`` is one full pass, and all the worker does: check in (heartbeat),
settle what crashed workers left, retry due deferred posts, then for each account look at its
slots in the lookback window:

    has a row already                   nothing (another pass or worker handled it)
    otherwise                           ``SlotFlow.settle`` (slot.py): skipped, missed, or
                                        planned, guarded, claimed and delivered

Accounts run in groups side by side in threads, each account's slots in order; each group
has one lock (turns.py), and a pass skips a group another pass holds, so passes overlap and a
hanging server holds up its own group only. ``scheduler.run_forever`` drives passes with
APScheduler 3: one job per account at its next slot, a housekeeping pass every
``tick_seconds``, a heartbeat on its own job so a long delivery never makes this worker look
dead. The database is the truth; the scheduler says when to look. Tests never sleep.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from uuid import uuid4

from amplifier.accounts import NetworkFactory
from amplifier.alerts import AlertRules, AlertSender
from amplifier.config import Account, Settings
from amplifier.content import Library
from amplifier.delivery import DeliveryContext, DeliveryPolicy, RecoveryRules, Settler, Sleep
from amplifier.errors import AmplifierError, StoreError
from amplifier.forecast import first_run, pause_reason, slot_key, start_scope, window_start
from amplifier.guards import to_micros
from amplifier.logs import log_event, log_exception
from amplifier.networks.base import Network
from amplifier.networks.dryrun import DryRunNetwork
from amplifier.results import RoundReport
from amplifier.schedule import Slot, next_slots, seed_key, slot_spec, slots_between
from amplifier.store import Delivery, Store
from amplifier.worker.alerting import Alerting
from amplifier.worker.collecting import Collecting
from amplifier.worker.manual import ManualPost
from amplifier.worker.slot import SlotFlow
from amplifier.worker.turns import Housework, Turn, Turns

LOGGER = logging.getLogger(__name__)

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


def make_worker_id() -> str:
    """Unique per process: host, pid, and a random part (pids repeat across dyno restarts)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid4().hex[:6]}"


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
        rehearsals: Mapping[str, str] | None = None,
        alerts: AlertRules | None = None,
        alert_sender: AlertSender | None = None,
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
        self._first_started: dict[str, datetime] = {}  # start_scope -> first run of that kind
        self._rehearsing: dict[str, bool] = {}
        # account -> why it only rehearses (forecast.rehearsals); None: ask each network.
        self._rehearsals = None if rehearsals is None else dict(rehearsals)
        # One lock per group of accounts: passes overlap, two never act for one group at once.
        self._turns = Turns()
        self._collecting: Collecting | None = None  # built on the first round
        self.context = DeliveryContext(
            store=store,
            worker_id=self.worker_id,
            policy=replace(
                DeliveryPolicy.from_settings(settings.worker),
                read_price_micros=to_micros(settings.guards.x_prices.post_read),
            ),
            clock=clock,
            # Waiting on the stop event makes every retry wait end the moment we stop.
            sleep=sleep or self.stop.wait,
            stop=self.stop,
            logger=logger,
            alerts=alerts or AlertRules.off(),
        )
        # Alerts: enqueued with each change (the context's rules), sent on a thread of their own.
        self.alerting = Alerting(
            settings,
            library,
            store,
            self.context.alerts,
            worker_id=self.worker_id,
            rehearsals=self._rehearsals,
            sender=alert_sender,
            logger=logger,
        )
        self.settler = Settler(
            self.context,
            self.network_for,
            RecoveryRules.from_settings(settings.worker),
            stop=self.stop,
            waits=self.rehearsing,
        )
        self.flow = SlotFlow(
            settings,
            library,
            self.context,
            self.network_for,
            grace=self.grace,
            rehearsal_note=self.rehearsal_note,
        )

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
        """The account's adapter, built once and reused (it may hold a session).

        Refuses (AmplifierError) an adapter that contradicts ``rehearsals``: a rehearsal must
        never reach a real network, nor a live post the dry-run one, which would record it
        published without sending it.
        """
        if name not in self._networks:
            network = self._build_network(self.account(name))
            prints = isinstance(network, DryRunNetwork)
            if self._rehearsals is not None and prints != (name in self._rehearsals):
                kind = "dry-run" if prints else "live"
                raise AmplifierError(
                    f"account {name!r} got a {kind} network but was "
                    f"{'not ' if prints else ''}meant to rehearse; nothing was sent"
                )
            self._networks[name] = network
        return self._networks[name]

    def turn(self, name: str) -> Turn:
        """The turn (group of accounts, one lock) the account ``name`` acts in."""
        for turn in self.turns():
            if name in turn.names:
                return turn
        return self._turns.leftovers

    def turns(self) -> list[Turn]:
        """The enabled accounts in groups that act one after another; groups may run side by
        side (``turns.group_accounts``)."""
        return self._turns.current(self.settings, self.accounts)

    @contextmanager
    def acting(self) -> Iterator[None]:
        """Counts a pass or post-now in flight, which ``wait_for_pass`` waits for."""
        with self._turns.running():
            yield

    def rehearsing(self, name: str) -> bool:
        """Whether the account only rehearses (a dry run: its network logs, never sends).

        Its slots are then decided over the rehearsal's own state and recorded 'rehearsed';
        its live rows (deferred, or left sending by a live worker) wait for it to be live.
        Told by ``rehearsals`` (``forecast.rehearsals``, the rule the network factory and
        the forecast share), else by the account's network being the dry-run one.
        """
        if self._rehearsals is not None:
            return name in self._rehearsals
        if name not in self._rehearsing:
            try:
                self._rehearsing[name] = isinstance(self.network_for(name), DryRunNetwork)
            except (KeyError, AmplifierError):  # unknown, or unbuildable: not a dry run
                return False
        return self._rehearsing[name]

    def rehearsal_note(self, name: str) -> str:
        """What a rehearsed row says about why it was logged and not sent."""
        return (self._rehearsals or {}).get(name, "dry run: logged, not sent")

    def heartbeat(self) -> None:
        self.store.heartbeat(self.worker_id)

    def watch(self, now: datetime | None = None) -> None:
        """Enqueue what the alerts' watch finds due: another worker gone silent, the digest."""
        self.alerting.check(now or self.clock())

    def close(self, *, settled: bool = True, stopped: str | None = None) -> None:
        """Clean exit: tell other workers we are gone, once every row we hold is recorded or
        handed back (``hand_back``). ``settled=False`` (rows still ours that could not be
        handed back): the heartbeat is left to go stale, then others settle them as orphans.
        ``stopped``: how a long-running worker stopped, kept for the no-worker alert."""
        if settled:
            self.store.forget_worker(self.worker_id, stopped=stopped)
        log_event(self.logger, "stopped", worker=self.worker_id, settled=settled, how=stopped)

    def pause_reason(self) -> str | None:
        return pause_reason(self.store)

    def wait_for_pass(self, timeout: float) -> bool:
        """Wait until no pass runs (True), or give up after ``timeout`` seconds.

        Checks in while it waits: the scheduler, heartbeat job included, is already stopped,
        and a silent worker's rows would be taken over while its post is still in flight.
        """
        if self._turns.wait_idle(timeout, self._beat_while_waiting):
            return True
        log_event(self.logger, "stop-timeout", logging.WARNING, worker=self.worker_id)
        return False

    def _beat_while_waiting(self) -> None:
        try:
            self.heartbeat()
        except StoreError as error:  # the shutdown goes on; the pass meets the same error
            log_event(self.logger, "heartbeat-failed", logging.WARNING, reason=str(error))

    def hand_back(self, reason: str) -> list[Delivery]:
        """Every row this worker still holds 'sending' -> deferred for the next worker (a
        request that hangs at shutdown); those with an attempt made are marked as may have
        landed, so whoever takes them looks first. One ``handed-back`` line each."""
        rows = self.store.hand_back(self.worker_id, reason)
        for row in rows:
            since = row.ambiguous_since
            log_event(self.logger, "handed-back", logging.WARNING, account=row.account,
                      slot=row.slot_key, id=row.id, attempts=row.attempts, reason=reason,
                      ambiguous_since=since.isoformat(timespec="seconds") if since else None,
                      )  # fmt: skip
        return rows

    def run_pending_if_idle(self) -> list[Delivery]:
        """A pass now, for every group no other pass holds: a busy group is skipped, never
        waited on (that pass, or the next tick, covers it). Scheduler jobs use this so none
        holds a thread waiting for a lock: a pool of waiting jobs would starve the heartbeat.
        """
        return self.run_pending()

    def run_pending(self, now: datetime | None = None) -> list[Delivery]:
        """One pass at ``now`` over every group no other pass holds; returns every row this
        pass created or changed."""
        with self.acting():
            now = now or self.clock()
            self.heartbeat()
            paused = self.pause_reason()
            self._record_starts(now)
            # Read once for the pass; each row is taken (compare-and-set) only under its turn.
            stuck = self.settler.orphans(now) if paused is None else []
            waiting = self.store.due_deferred(now) if paused is None else []
            work = Housework(now, paused, stuck, waiting, self._threads(paused))
            turns = self.turns()
            enabled = frozenset(account.name for account in self.accounts)
            done = self._take_turn(self._turns.leftovers, work.outside(enabled))
            width = min(self.settings.worker.parallel_accounts, len(turns))
            if not self.store.threads_share_it:
                width = 1
            if width <= 1:
                for turn in turns:
                    done += self._take_turn(turn, work.within(turn.names))
                return done
            # Threads only wait on the network: one slow server no longer holds up the rest.
            with ThreadPoolExecutor(width, thread_name_prefix="amplifier-pass") as pool:
                for rows in pool.map(
                    lambda turn: self._take_turn(turn, work.within(turn.names)), turns
                ):
                    done += rows
            return done

    def _take_turn(self, turn: Turn, work: Housework) -> list[Delivery]:
        """The turn's settling, then its slots, if no other pass holds it (else skipped)."""
        done: list[Delivery] = []
        with turn.taken(wait=False) as mine:
            if not mine:
                return done
            try:
                done += self.settler.settle_orphans(work.now, work.stuck)
                done += self.settler.retry_deferred(work.now, work.waiting)
                done += self.settler.continue_threads(work.threads)
            except Exception:
                # As for an account below: the rest of the pass goes on, the next one retries.
                log_exception(self.logger, "pass-failed", turn=turn.name or "leftovers")
            for account in turn.accounts:
                if self.stop.is_set():
                    break
                try:
                    done += self._account_pass(account, work.now, work.paused)
                except Exception:
                    # One account's trouble (a database hiccup) must not starve the others; a
                    # row it left 'sending' is settled at the start of the next pass.
                    log_exception(self.logger, "pass-failed", account=account.name)
        return done

    def _account_pass(self, account: Account, now: datetime, paused: str | None) -> list[Delivery]:
        rehearsal = self.rehearsing(account.name)
        spec = slot_spec(self.settings, account)
        # slots_between is half-open: the end just past now includes a slot due exactly now.
        end = now + timedelta(microseconds=1)
        begin = self._window_start(account, rehearsal, now)
        due = slots_between(spec, seed_key(self.settings, account), begin, end)
        # A slot that has a row keeps it for good, so each is looked up until it has one.
        keys = {slot.key: slot_key(slot.key, rehearsal=rehearsal) for slot in due}
        known = self._recorded.setdefault(account.name, set())
        known &= set(keys.values())
        done: list[Delivery] = []
        for slot in due:
            if self.stop.is_set():
                break
            key = keys[slot.key]
            if key in known or self.store.get(account.name, key) is not None:
                known.add(key)
                continue
            if not rehearsal and self.store.open_thread(account.name):
                break  # nothing else between two parts of a thread: the slot waits for it
            row = self.flow.settle(account, slot, now, paused, rehearsal=rehearsal)
            if row is not None:
                done.append(row)
        return done

    def _threads(self, paused: str | None) -> list[Delivery]:
        return self.store.threads_to_continue() if paused is None else []

    def _record_starts(self, now: datetime) -> None:
        """Record when each account's run of its kind (live, rehearsal) began, once.

        One read and at most one write for all accounts, on this worker's first pass (and when
        an account changes kind): ``forecast.first_run`` says what each start is.
        """
        missing = {start_scope(a.name, rehearsal=self.rehearsing(a.name)): a for a in self.accounts}
        missing = {scope: a for scope, a in missing.items() if scope not in self._first_started}
        if not missing:
            return
        self.store.first_started()  # the deployment's first worker, recorded once
        starts = self.store.starts()
        wanted = {
            scope: first_run(starts, a.name, rehearsal=self.rehearsing(a.name)) or now
            for scope, a in missing.items()
            if scope not in starts
        }
        if wanted:
            starts = self.store.record_starts(wanted)
        self._first_started.update({scope: starts[scope] for scope in missing})

    def _window_start(self, account: Account, rehearsal: bool, now: datetime) -> datetime:
        """How far back to look: the lookback, but never before this account's first run of
        this kind (live, or rehearsal) less the grace window (``forecast.window_start``)."""
        started = self._first_started.get(start_scope(account.name, rehearsal=rehearsal))
        return window_start(started, now, grace=self.grace, lookback=self.lookback)

    def next_slot(self, account: Account, after: datetime) -> Slot | None:
        found = next_slots(
            slot_spec(self.settings, account), seed_key(self.settings, account), after, 1
        )
        return found[0] if found else None

    def collect_results(self, now: datetime | None = None) -> RoundReport:
        """One round of results collection (``collecting.py``), yielding to publishing."""
        if self._collecting is None:
            self._collecting = Collecting(self)
        return self._collecting.round(now)

    def post_now(self, name: str, post_id: str | None = None) -> Delivery:
        """Publish one post for ``name`` right away, claimed like any slot.

        Its slot key is ``manual-<UTC time to the microsecond>-<random>``, its own for each
        call: two calls never share one, while every retry of this one (the network's, a
        restart's) reuses its row and idempotency key, so it still goes out at most once.
        A dry-run account rehearses it instead (recorded 'rehearsed', logged, not sent).
        """
        return ManualPost(self, name, post_id).run()
