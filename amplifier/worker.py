"""The worker: every due slot of every account published exactly once, whatever happens.

``Worker.run_pending(now)`` is one full pass, and all the worker does: check in (heartbeat),
settle what crashed workers left, retry due deferred posts, then for each account look at its
slots in the lookback window:

    has a row already                   nothing (another pass or worker handled it)
    older than the grace window         recorded 'missed', never sent: no flood after downtime
    paused                              recorded 'skipped' ("paused by X since T")
    nothing to post                     recorded 'skipped' with the planner's reason
    otherwise                           plan (rotation state from the store), claim (row and new
                                        rotation state in one transaction; None means another
                                        worker has it), then deliver; while the account's
                                        rate-limit window is exhausted the claimed post is
                                        deferred to its reset without calling the network

``amplifier.scheduler.run_forever`` drives passes with APScheduler 3: one job per account at
its next slot, a housekeeping pass every ``tick_seconds``, a heartbeat on its own job so a long
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
from amplifier.guards import (
    SENT,
    Cost,
    Decision,
    budgets,
    by_rule,
    decide,
    guard_context,
    month_bounds,
    others_since,
    own_since,
)
from amplifier.logs import log_event
from amplifier.networks.base import Network
from amplifier.schedule import (
    AccountState,
    NothingToPost,
    PlannedPost,
    Slot,
    candidates,
    next_slots,
    plan_slot,
    seed_key,
    slot_spec,
    slots_between,
)
from amplifier.store import Delivery, DeliveryDraft, Store

LOGGER = logging.getLogger(__name__)

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


def make_worker_id() -> str:
    """Unique per process: host, pid, and a random part (pids repeat across dyno restarts)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid4().hex[:6]}"


def manual_slot_key(now: datetime) -> str:
    return "manual-" + now.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def _duration(span: timedelta) -> str:
    minutes = int(span.total_seconds() // 60)
    return f"{minutes} min" if minutes < 120 else f"{minutes // 60} h {minutes % 60} min"


def draft_for(account: Account, slot: Slot, planned: PlannedPost | None) -> DeliveryDraft:
    """The row to record for a slot; without a planned post (nothing to post) the text is empty."""
    if planned is None:
        return DeliveryDraft(
            account=account.name,
            network=account.network,
            slot_key=slot.key,
            due_at=slot.due_at,
            template_id="",
            campaign=account.campaigns[0],
            text="",
        )
    template = planned.template
    return DeliveryDraft(
        account=account.name,
        network=account.network,
        slot_key=slot.key,
        due_at=slot.due_at,
        template_id=template.id,
        campaign=template.campaign,
        text=planned.rendered.text,
        language=template.language,
        link=planned.rendered.link,
        content_warning=template.content_warning,
        media=tuple((str(item.path), item.alt) for item in template.media),
    )


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
                self.logger.exception("event=pass-failed account=%s", account.name)
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
            row = self._settle_slot(account, slot, now, paused)
            if row is not None:
                done.append(row)
        return done

    def _window_start(self, now: datetime) -> datetime:
        """How far back to look: the lookback, but never before this database's first worker."""
        if self._first_started is None:
            self._first_started = self.store.first_started()
        return max(now - self.lookback, self._first_started - self.grace)

    def _settle_slot(
        self, account: Account, slot: Slot, now: datetime, paused: str | None
    ) -> Delivery | None:
        state = self._rotation(account)
        planned, new_state = plan_slot(self.settings, self.library, account, slot, state)
        late = now - slot.due_at
        where = {"account": account.name, "slot": slot.key}
        if isinstance(planned, NothingToPost):
            log_event(self.logger, "skipped", **where, reason=planned.reason)
            return self.store.record_skipped(draft_for(account, slot, None), planned.reason)
        draft = draft_for(account, slot, planned)
        if late > self.grace:
            reason = f"no worker ran at its time; {_duration(late)} late is past the grace window"
            log_event(self.logger, "missed", logging.WARNING, **where, reason=reason)
            return self.store.record_missed(draft, reason)
        if paused is not None:
            log_event(self.logger, "skipped", **where, reason=paused)
            return self.store.record_skipped(draft, paused)
        decision = self._guard(account, slot, (planned, new_state), state)
        if decision.planned is None or decision.state is None:
            reason = decision.skip_reason or "refused by the guards"
            log_event(self.logger, "skipped", **where, rule=decision.rule, reason=reason)
            return self.store.record_skipped(draft, reason)
        draft = draft_for(account, slot, decision.planned)
        return self._claim_and_deliver(account, draft, decision.state, now, decision.cost)

    def _guard(
        self,
        account: Account,
        slot: Slot,
        first: tuple[PlannedPost | NothingToPost, AccountState],
        state: AccountState,
        exclude: frozenset[str] = frozenset(),
    ) -> Decision[AccountState]:
        """The guard step: the compliance rules over what the store knows, each refusal logged."""
        rules, store = self.settings.guards, self.store
        own = store.deliveries_since(own_since(slot, rules), account=account.name, statuses=SENT)
        others: list[Delivery] = []
        if rules.distinct_text_days and account.network in rules.distinct_text_networks:
            since = others_since(slot, rules)
            others = store.deliveries_since(since, network=account.network, statuses=SENT)
        start, end = month_bounds(slot.due_at)

        def spent(name: str | None) -> int:
            return store.spend_micros(start, end, statuses=SENT, account=name, network="x")

        limits = budgets(self.settings, account, spent)
        context = guard_context(account, own, others, limits, self.library)
        decision = decide(
            first,
            lambda refused: plan_slot(
                self.settings, self.library, account, slot, state, exclude=exclude | refused
            ),
            account,
            slot,
            context,
            self.settings,
        )
        for rule, group in by_rule(decision.refused).items():  # one line per rule
            posts = ",".join(refusal.post for refusal in group if refusal.post) or None
            where = {"account": account.name, "slot": slot.key, "rule": rule}
            log_event(self.logger, "guard", **where, posts=posts, reason=group[0].detail)
        return decision

    def _rotation(self, account: Account) -> AccountState:
        stored = self.store.load_rotation(account.name)
        try:
            return AccountState.from_dict(stored or {})
        except ValueError as error:
            log_event(
                self.logger,
                "rotation-reset",
                logging.WARNING,
                account=account.name,
                reason=str(error),
            )
            return AccountState()

    def _claim_and_deliver(
        self,
        account: Account,
        draft: DeliveryDraft,
        state: AccountState,
        now: datetime,
        cost: Cost | None = None,
    ) -> Delivery | None:
        row = self.store.claim_slot(
            draft,
            worker_id=self.worker_id,
            rotation=(account.name, state.to_dict()),
            cost_micros=cost.micros if cost is not None and cost.micros else None,
        )
        if row is None:
            log_event(self.logger, "claimed-elsewhere", account=account.name, slot=draft.slot_key)
            return None
        log_event(
            self.logger,
            "claimed",
            account=account.name,
            slot=draft.slot_key,
            post=draft.template_id,
            id=row.id,
            cost=cost.describe() if cost is not None and cost.micros else None,
        )
        blocked = self.store.blocked_until(account.name, now)
        if blocked is not None:
            # Never send before the platform's reset: hand the post to that time.
            windows = [
                w.window
                for w in self.store.rate_limits(account.name)
                if w.remaining == 0 and w.reset_at == blocked
            ]
            at = blocked.astimezone(UTC).isoformat(timespec="seconds")
            reason = f"rate limit window {', '.join(windows) or 'unknown'} until {at}"
            self.store.mark_deferred(
                row.id, worker_id=self.worker_id, retry_at=blocked, reason=reason
            )
            log_event(
                self.logger,
                "deferred",
                logging.WARNING,
                account=account.name,
                slot=draft.slot_key,
                retry_at=at,
                reason=reason,
            )
            return self.store.get_by_id(row.id) or row
        try:
            network = self.network_for(account.name)
        except AmplifierError as error:
            self.store.mark_failed(row.id, worker_id=self.worker_id, reason=str(error))
            return self.store.get_by_id(row.id) or row
        return self.context.deliver(network, row)

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
        state = self._rotation(account)
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
            decision = self._guard(account, slot, (planned, new_state), state, exclude)
            if decision.planned is None or decision.state is None:
                raise AmplifierError(f"not posted on {name}: {decision.skip_reason}")
            draft = draft_for(account, slot, decision.planned)
            row = self._claim_and_deliver(account, draft, decision.state, now, decision.cost)
        if row is None:
            raise AmplifierError(f"slot {slot.key} of {name} was claimed by another worker")
        return row
