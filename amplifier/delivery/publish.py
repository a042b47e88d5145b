"""Publish one claimed delivery and record what happened: the publish -> record end of the flow.

The row was claimed (status 'sending', ``claimed_by`` = this worker) before ``deliver`` is
called. Every network call is preceded by ``store.begin_attempt``, a compare-and-set that counts
the attempt and proves the row is still ours; a worker that lost its claim (another worker took
the row over) stops without sending. The outcome is always recorded:

    Receipt                         published (remote id, url)
    DuplicatePost after an          published, "confirmed by duplicate answer" (X's 403 means
      ambiguous attempt               the earlier attempt landed)
    RateLimited                     deferred until the platform's reset; the window is saved so
                                      other slots of the account wait too
    TransientError after retries    deferred with backoff; after max_attempts_total: 'unknown'
                                      if any attempt may have landed, else 'failed'
    MediaNotReady (a video still    deferred with backoff at once, not retried in the run: the
      processing at the bound)        next attempt uploads it again
    PostRejected, AuthFailed,       failed with the reason ('unknown' if an earlier attempt may
      DuplicatePost otherwise         have landed)
    the worker is stopping          deferred with retry_at = now, for the next worker

Ambiguity survives restarts: a deferred row's ``ambiguous_since`` column holds the start of
the earliest attempt that may have landed, and whoever retries it passes that time back as
``earlier_ambiguous``. Before re-sending after an
ambiguous attempt, a network that can look a post up (Bluesky's ``find_existing``) is asked
first, so a post that landed is recorded instead of sent twice.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

from amplifier.alerts import AlertRules
from amplifier.config import WorkerSettings
from amplifier.delivery.attempt import (
    AccountBusy,
    ClaimLost,
    GuardedNetwork,
    Stopping,
    outgoing_post,
)
from amplifier.delivery.record import Recorder, where
from amplifier.delivery.retry import RetryPolicy, publish_with_retries
from amplifier.errors import (
    AuthFailed,
    DuplicatePost,
    NetworkError,
    RateLimited,
    TransientError,
)
from amplifier.logs import log_event, log_exception
from amplifier.networks.base import (
    Network,
    OutgoingPost,
    RateLimitWindow,
)
from amplifier.store import STALE_AFTER, Delivery, Store

LOGGER = logging.getLogger(__name__)

Clock = Callable[[], datetime]
Sleep = Callable[[float], object]

CONFIRMED_BY_DUPLICATE = "confirmed by duplicate answer: an earlier attempt landed"
CONFIRMED_BY_LOOKUP = "confirmed by finding the post on the account: an earlier attempt landed"


@dataclass(frozen=True)
class DeliveryPolicy:
    """Retry policy for one run of attempts, plus the limits across runs and restarts."""

    retry: RetryPolicy = field(default_factory=RetryPolicy)
    max_attempts_total: int = 8
    defer_wait: timedelta = timedelta(minutes=2)  # after a run of transient failures; doubles
    max_defer_wait: timedelta = timedelta(minutes=30)
    # How long a worker unheard of counts as alive, its attempt in flight holding its account.
    stale_after: timedelta = STALE_AFTER
    # How long a post waits for another worker's attempt on its account before it is handed
    # back to the next pass (a killed worker's holds the account until it goes stale).
    busy_wait: timedelta = timedelta(seconds=10)
    # What X bills for each post read (``[guards.x_prices] post_read``): a lookup's reads are
    # added to the delivery's cost.
    read_price_micros: int = 0

    @classmethod
    def from_settings(cls, worker: WorkerSettings) -> DeliveryPolicy:
        retry = worker.retry
        return cls(
            retry=RetryPolicy(
                max_attempts=retry.max_attempts,
                initial_wait=retry.initial_wait,
                max_wait=retry.max_wait,
                total_timeout=retry.total_timeout,
            ),
            max_attempts_total=worker.max_attempts_total,
            stale_after=timedelta(seconds=worker.stale_worker_seconds),
        )


def deliver(
    store: Store,
    network: Network,
    delivery: Delivery,
    *,
    worker_id: str,
    policy: DeliveryPolicy,
    clock: Clock,
    sleep: Sleep,
    earlier_ambiguous: datetime | None = None,
    stop: threading.Event | None = None,
    logger: logging.Logger = LOGGER,
    alerts: AlertRules | None = None,
) -> Delivery:
    """Publish a claimed delivery and record the outcome; returns the row as it now stands.

    ``earlier_ambiguous``: when an earlier attempt (before a crash, or before a deferral) may
    have landed, the time it began. ``sleep`` must return early when ``stop`` is set (pass
    ``stop.wait``), so a pending retry is handed back at once on shutdown. ``alerts``: the
    events the outcome enqueues, in the transaction that records it.
    """
    rules = alerts or AlertRules.off()
    guarded = GuardedNetwork(
        store,
        network,
        delivery,
        worker_id=worker_id,
        clock=clock,
        stop=stop,
        ambiguous_since=earlier_ambiguous,
        stale_after=policy.stale_after,
        busy_wait=policy.busy_wait,
        sleep=_waiter(sleep),
        read_price_micros=policy.read_price_micros,
    )
    recorder = Recorder(store, guarded, worker_id, logger, rules)
    remaining = policy.max_attempts_total - delivery.attempts
    if remaining <= 0:
        return recorder.give_up(f"gave up after {delivery.attempts} attempts")
    run_policy = replace(policy.retry, max_attempts=min(policy.retry.max_attempts, remaining))
    try:
        result = publish_with_retries(
            guarded,
            with_card(store, delivery, logger),
            run_policy,
            sleep=_waiter(sleep),
            clock=lambda: clock().timestamp(),
            logger=logger,
        )
    except ClaimLost:
        log_event(logger, "claim-lost", logging.WARNING, **where(delivery), id=delivery.id)
        return store.get_by_id(delivery.id) or delivery
    except Stopping:
        return recorder.defer(clock(), "worker stopped before this attempt; retried next start")
    except AccountBusy:
        reason = "another worker is sending for this account; tried again after its answer"
        return recorder.defer(clock(), reason)
    except RateLimited as error:
        until = error.retry_at.astimezone(UTC).isoformat(timespec="seconds")
        # The window first: other slots of the account (and other workers) wait for the reset
        # from this moment, even if this process dies before the row is deferred.
        window = RateLimitWindow(error.window, None, 0, error.retry_at)
        late = rules.rate_limited(delivery.account, error.window, error.retry_at, clock())
        store.save_rate_limits(delivery.account, [window], late)
        return recorder.defer(error.retry_at, f"rate limited ({error.window}) until {until}")
    except TransientError as error:
        attempts = guarded.row.attempts
        if attempts >= policy.max_attempts_total:
            return recorder.give_up(f"gave up after {attempts} attempts; last error: {error}")
        deferrals = max(0, attempts // max(1, policy.retry.max_attempts) - 1)
        wait = min(policy.max_defer_wait, policy.defer_wait * 2**deferrals)
        return recorder.defer(clock() + wait, f"network error, retrying later: {error}")
    except DuplicatePost as error:
        if guarded.ambiguous_since is not None:
            return recorder.published(None, CONFIRMED_BY_DUPLICATE)
        return recorder.give_up(f"the network already holds this text: {error}")
    except NetworkError as error:  # PostRejected, AuthFailed: permanent
        auth = isinstance(error, AuthFailed)
        return recorder.give_up(f"{type(error).__name__}: {error}", auth=auth)
    except Exception as error:
        if not guarded.unexpected:
            raise  # our own bug or the store's, not the network's: let the worker log it
        log_exception(
            logger,
            "adapter-error",
            account=network.account,
            network=network.network,
        )
        return recorder.give_up(
            f"unexpected {type(error).__name__} from the {network.network} adapter"
        )
    if result.confirmed_by_duplicate:
        return recorder.published(None, CONFIRMED_BY_DUPLICATE)
    assert result.receipt is not None  # publish_with_retries returns one unless confirmed
    note = CONFIRMED_BY_LOOKUP if guarded.found_existing else None
    return recorder.published(result.receipt, note)  # with the answer's rate-limit windows


def with_card(store: Store, delivery: Delivery, logger: logging.Logger) -> OutgoingPost:
    """The post as claimed, with its link's stored card where the network takes one from us
    (Bluesky, a post with a link and no images). Only the store is read: a card missing or
    unreadable means a plain link, the reason logged, never a failed or delayed post."""
    post = outgoing_post(delivery)
    if delivery.network != "bluesky" or not delivery.link or delivery.media:
        return post
    # Imported here: the card reader (fetcher, HTML parser) is Bluesky's alone; a worker or
    # post-now with no Bluesky link post never loads it (tests/cli/test_imports.py).
    from amplifier.cards import card_for

    card, reason = card_for(store, delivery.link)
    if card is None:
        log_event(logger, "plain-link", **where(delivery), id=delivery.id, url=delivery.link,
                  reason=reason)  # fmt: skip
        return post
    return replace(post, card=card)


@dataclass(frozen=True)
class DeliveryContext:
    """What every ``deliver`` call of one worker shares, so callers pass only the row."""

    store: Store
    worker_id: str
    policy: DeliveryPolicy
    clock: Clock
    sleep: Sleep
    stop: threading.Event | None = None
    logger: logging.Logger = LOGGER
    alerts: AlertRules = field(default_factory=AlertRules.off)

    def deliver(
        self, network: Network, delivery: Delivery, *, earlier_ambiguous: datetime | None = None
    ) -> Delivery:
        """Deliver the row; a thread's part that lands is followed by the next, and so on
        while each lands (``continue_thread``). Returns the given row as it now stands."""
        row = self.deliver_one(network, delivery, earlier_ambiguous=earlier_ambiguous)
        self.continue_thread(network, row)
        return row

    def continue_thread(self, network: Network, row: Delivery) -> list[Delivery]:
        """After a thread's part is published, claim and deliver the next part, replying to
        it, and so on while each lands; the rows of the parts this went on with.

        Stops at a part that did not land (deferred, unknown, failed: recovery takes it from
        there, and the parts after it wait), when another worker has the next part, and when
        the worker is stopping (the next start goes on from the last part published).
        """
        done: list[Delivery] = []
        while row.status == "published" and row.more_parts:
            if self.stop is not None and self.stop.is_set():
                break
            part = self.store.claim_next_part(row, worker_id=self.worker_id)
            if part is None:
                log_event(self.logger, "claimed-elsewhere", **where(row), part=_part(row, 1))
                break
            log_event(self.logger, "thread-part", **where(part), id=part.id, part=_part(part),
                      reply_to=part.reply_to, status=part.status)  # fmt: skip
            if part.status != "sending":  # nothing to reply to: the thread ends here
                reason = part.last_error or "the thread ended"
                log_event(self.logger, "thread-ended", logging.ERROR, **where(part),
                          id=part.id, reason=reason)  # fmt: skip
                self.store.enqueue_alerts(self.alerts.failed(part, reason))
                done.append(part)
                break
            row = self.deliver_one(network, part)
            done.append(row)
        return done

    def deliver_one(
        self, network: Network, delivery: Delivery, *, earlier_ambiguous: datetime | None = None
    ) -> Delivery:
        return deliver(
            self.store,
            network,
            delivery,
            worker_id=self.worker_id,
            policy=self.policy,
            clock=self.clock,
            sleep=self.sleep,
            earlier_ambiguous=earlier_ambiguous,
            stop=self.stop,
            logger=self.logger,
            alerts=self.alerts,
        )


def _part(row: Delivery, ahead: int = 0) -> str:
    return f"{(row.thread_part or 1) + ahead}/{row.thread_size or 1}"


def _waiter(sleep: Sleep) -> Callable[[float], None]:
    def wait(seconds: float) -> None:
        sleep(seconds)  # Event.wait returns a flag; the stop check before each attempt reads it

    return wait
