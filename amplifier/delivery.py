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
    PostRejected, AuthFailed,       failed with the reason ('unknown' if an earlier attempt may
      DuplicatePost otherwise         have landed)
    the worker is stopping          deferred with retry_at = now, for the next worker

Ambiguity survives restarts: a deferred row's ``last_error`` ends with
``[ambiguous since <ISO time>]``, the start of the earliest attempt that may have landed, and
whoever retries it passes that time back as ``earlier_ambiguous``. Before re-sending after an
ambiguous attempt, a network that can look a post up (Bluesky's ``find_existing``) is asked
first, so a post that landed is recorded instead of sent twice.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Protocol, runtime_checkable

from amplifier.config import WorkerSettings
from amplifier.errors import (
    DuplicatePost,
    NetworkError,
    RateLimited,
    TransientError,
)
from amplifier.logs import log_event
from amplifier.networks.base import (
    AccountInfo,
    MediaItem,
    Network,
    NetworkName,
    OutgoingPost,
    RateLimitWindow,
    Receipt,
)
from amplifier.retry import RetryPolicy, publish_with_retries
from amplifier.store import Delivery, Store

LOGGER = logging.getLogger(__name__)

Clock = Callable[[], datetime]
Sleep = Callable[[float], object]

_AMBIGUOUS = re.compile(r"\[ambiguous since (\S+)\]")
# Another worker's clock may run a little behind ours when it stamps a post's creation time.
FIND_SLACK = timedelta(minutes=10)
CONFIRMED_BY_DUPLICATE = "confirmed by duplicate answer: an earlier attempt landed"
CONFIRMED_BY_LOOKUP = "confirmed by finding the post on the account: an earlier attempt landed"


@runtime_checkable
class FindsExisting(Protocol):
    """A network that can find a post it may already hold (BlueskyNetwork)."""

    def find_existing(self, text: str, since: datetime) -> Receipt | None: ...


@dataclass(frozen=True)
class DeliveryPolicy:
    """Retry policy for one run of attempts, plus the limits across runs and restarts."""

    retry: RetryPolicy = field(default_factory=RetryPolicy)
    max_attempts_total: int = 8
    defer_wait: timedelta = timedelta(minutes=2)  # after a run of transient failures; doubles
    max_defer_wait: timedelta = timedelta(minutes=30)

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
        )


def ambiguous_since(delivery: Delivery) -> datetime | None:
    """When the earliest attempt that may have landed began, as recorded in ``last_error``."""
    match = _AMBIGUOUS.search(delivery.last_error or "")
    if match is None:
        return None
    try:
        found = datetime.fromisoformat(match.group(1))
    except ValueError:
        return None
    return found if found.tzinfo else found.replace(tzinfo=UTC)


def with_ambiguity(reason: str, since: datetime | None) -> str:
    """``reason`` carrying the ambiguity marker that ``ambiguous_since`` reads back."""
    if since is None:
        return reason
    stamp = since.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    return f"{reason} [ambiguous since {stamp}]"


def outgoing_post(delivery: Delivery) -> OutgoingPost:
    """The post exactly as claimed; the idempotency key is the row's, stable across restarts."""
    return OutgoingPost(
        account=delivery.account,
        text=delivery.text,
        idempotency_key=delivery.idempotency_key,
        language=delivery.language,
        link=delivery.link,
        media=tuple(MediaItem(path=Path(path), alt=alt) for path, alt in delivery.media),
        content_warning=delivery.content_warning,
    )


class _ClaimLost(Exception):
    """Another worker owns the row now: stop without sending."""


class _Stopping(Exception):
    """The worker is shutting down: hand the post back instead of attempting it."""


class _GuardedNetwork:
    """Wraps the real network: claim check and attempt count before each call, ambiguity after."""

    def __init__(
        self,
        store: Store,
        inner: Network,
        row: Delivery,
        *,
        worker_id: str,
        clock: Clock,
        stop: threading.Event | None,
        ambiguous_since: datetime | None,
    ) -> None:
        self.network: NetworkName = inner.network
        self.account = inner.account
        self.row = row
        self.ambiguous_since = ambiguous_since
        self.found_existing = False
        self.unexpected = False
        self._store = store
        self._inner = inner
        self._worker_id = worker_id
        self._clock = clock
        self._stop = stop

    def verify(self) -> AccountInfo:
        return self._inner.verify()

    def publish(self, post: OutgoingPost) -> Receipt:
        if self._stop is not None and self._stop.is_set():
            raise _Stopping
        if self.ambiguous_since is not None and isinstance(self._inner, FindsExisting):
            found = self._inner.find_existing(post.text, self.ambiguous_since - FIND_SLACK)
            if found is not None:
                self.found_existing = True
                return found
        # Every attempt, first or retry, of a fresh slot or a dead worker's row: never send
        # while the account's stored rate-limit window is shut (another worker may have hit it).
        blocked = self._store.blocked_until(self.account, self._clock())
        if blocked is not None:
            windows = [
                w.window
                for w in self._store.rate_limits(self.account)
                if w.remaining == 0 and w.reset_at == blocked
            ]
            raise RateLimited(
                f"{self.network} rate limit window {', '.join(windows) or 'unknown'} is shut "
                f"until {blocked.isoformat(timespec='seconds')}; not sent",
                retry_at=blocked,
                window=windows[0] if windows else "unknown",
                account=self.account,
                network=self.network,
            )
        started = self._clock()
        row = self._store.begin_attempt(self.row.id, worker_id=self._worker_id)
        if row is None:
            raise _ClaimLost
        self.row = row
        try:
            return self._inner.publish(post)
        except TransientError as error:
            if error.ambiguous and self.ambiguous_since is None:
                self.ambiguous_since = started
            raise
        except NetworkError:
            raise
        except Exception:
            # A bug in an adapter, maybe after the request went out: assume it may have landed.
            self.unexpected = True
            if self.ambiguous_since is None:
                self.ambiguous_since = started
            raise


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
) -> Delivery:
    """Publish a claimed delivery and record the outcome; returns the row as it now stands.

    ``earlier_ambiguous``: when an earlier attempt (before a crash, or before a deferral) may
    have landed, the time it began. ``sleep`` must return early when ``stop`` is set (pass
    ``stop.wait``), so a pending retry is handed back at once on shutdown.
    """
    guarded = _GuardedNetwork(
        store,
        network,
        delivery,
        worker_id=worker_id,
        clock=clock,
        stop=stop,
        ambiguous_since=earlier_ambiguous,
    )
    recorder = _Recorder(store, guarded, worker_id, logger)
    remaining = policy.max_attempts_total - delivery.attempts
    if remaining <= 0:
        return recorder.give_up(f"gave up after {delivery.attempts} attempts")
    run_policy = replace(policy.retry, max_attempts=min(policy.retry.max_attempts, remaining))
    try:
        result = publish_with_retries(
            guarded,
            outgoing_post(delivery),
            run_policy,
            sleep=_waiter(sleep),
            clock=lambda: clock().timestamp(),
            logger=logger,
        )
    except _ClaimLost:
        log_event(logger, "claim-lost", logging.WARNING, **_where(delivery), id=delivery.id)
        return store.get_by_id(delivery.id) or delivery
    except _Stopping:
        return recorder.defer(clock(), "worker stopped before this attempt; retried next start")
    except RateLimited as error:
        until = error.retry_at.astimezone(UTC).isoformat(timespec="seconds")
        # The window first: other slots of the account (and other workers) wait for the reset
        # from this moment, even if this process dies before the row is deferred.
        window = RateLimitWindow(error.window, None, 0, error.retry_at)
        store.save_rate_limits(delivery.account, [window])
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
        return recorder.give_up(f"{type(error).__name__}: {error}")
    except Exception as error:
        if not guarded.unexpected:
            raise  # our own bug or the store's, not the network's: let the worker log it
        logger.exception(
            "event=adapter-error account=%s network=%s", network.account, network.network
        )
        return recorder.give_up(
            f"unexpected {type(error).__name__} from the {network.network} adapter"
        )
    if result.confirmed_by_duplicate:
        return recorder.published(None, CONFIRMED_BY_DUPLICATE)
    assert result.receipt is not None  # publish_with_retries returns one unless confirmed
    note = CONFIRMED_BY_LOOKUP if guarded.found_existing else None
    return recorder.published(result.receipt, note)  # with the answer's rate-limit windows


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

    def deliver(
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
        )


def _waiter(sleep: Sleep) -> Callable[[float], None]:
    def wait(seconds: float) -> None:
        sleep(seconds)  # Event.wait returns a flag; the stop check before each attempt reads it

    return wait


def _where(delivery: Delivery) -> dict[str, object]:
    return {"account": delivery.account, "slot": delivery.slot_key, "post": delivery.template_id}


class _Recorder:
    """The record step: one compare-and-set per outcome, one log line each."""

    def __init__(
        self,
        store: Store,
        guarded: _GuardedNetwork,
        worker_id: str,
        logger: logging.Logger,
    ) -> None:
        self.store = store
        self.guarded = guarded
        self.worker_id = worker_id
        self.logger = logger

    @property
    def row(self) -> Delivery:
        return self.guarded.row

    def _result(self, done: bool) -> Delivery:
        if not done:
            log_event(self.logger, "claim-lost", logging.WARNING, **_where(self.row))
        current = self.store.get_by_id(self.row.id)
        return current if current is not None else self.row

    def published(self, receipt: Receipt | None, note: str | None) -> Delivery:
        remote_id = receipt.remote_id if receipt else None
        url = receipt.url if receipt else None
        windows = receipt.rate_limits if receipt else ()
        done = self.store.mark_published(
            self.row.id,
            worker_id=self.worker_id,
            remote_id=remote_id,
            url=url,
            note=note,
            rate_limits=(self.row.account, windows) if windows else None,
        )
        if done:
            log_event(
                self.logger,
                "published",
                **_where(self.row),
                url=url,
                id=remote_id,
                attempts=self.row.attempts,
                note=note,
            )
        return self._result(done)

    def defer(self, retry_at: datetime, reason: str) -> Delivery:
        reason = with_ambiguity(reason, self.guarded.ambiguous_since)
        done = self.store.mark_deferred(
            self.row.id, worker_id=self.worker_id, retry_at=retry_at, reason=reason
        )
        if done:
            at = retry_at.astimezone(UTC).isoformat(timespec="seconds")
            log_event(
                self.logger,
                "deferred",
                logging.WARNING,
                **_where(self.row),
                retry_at=at,
                reason=reason,
            )
        return self._result(done)

    def give_up(self, reason: str) -> Delivery:
        since = self.guarded.ambiguous_since
        if since is None:
            done = self.store.mark_failed(self.row.id, worker_id=self.worker_id, reason=reason)
            event = "failed"
        else:
            reason = with_ambiguity(
                f"{reason}; it may have been published: check the account, then run "
                "amplifier review",
                since,
            )
            done = self.store.mark_unknown(self.row.id, worker_id=self.worker_id, reason=reason)
            event = "unknown"
        if done:
            log_event(self.logger, event, logging.ERROR, **_where(self.row), reason=reason)
        return self._result(done)
