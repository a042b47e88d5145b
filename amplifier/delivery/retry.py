"""The retry policy around one ``Network.publish`` call, built on tenacity.

What is retried, and what is not:

    TransientError   retried with exponential backoff and jitter, within max_attempts and
                     total_timeout; when they run out the last TransientError is re-raised
    MediaNotReady    (a TransientError: a video still processing at the bound) raised at once:
                     uploading and waiting again would hold the pass; the worker defers it
    RateLimited      never slept on: raised at once, the worker defers the post to retry_at
    DuplicatePost    after an ambiguous TransientError in the same call it proves the earlier
                     attempt landed: PublishResult(confirmed_by_duplicate=True); otherwise
                     it is a real duplicate and is re-raised
    PostRejected,    permanent: raised at once
    AuthFailed

Every retry logs one WARNING line and calls ``on_retry``, so retries can be seen and tested.
Waiting goes through the injected ``sleep`` and elapsed time through the injected ``clock``,
so tests never sleep. (tenacity's own ``stop_after_delay`` reads ``time.monotonic`` inside
``RetryCallState`` and cannot be given a clock, hence ``_StopBeforeTimeout`` below.)
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    retry_if_not_exception_type,
    stop_after_attempt,
    wait_exponential_jitter,
)
from tenacity.stop import stop_base

from amplifier.errors import DuplicatePost, MediaNotReady, TransientError
from amplifier.logs import log_event
from amplifier.networks.base import Network, OutgoingPost, Receipt

LOGGER = logging.getLogger(__name__)


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to try one post before handing the failure back to the worker.

    The wait before retry n (n = 1, 2, ...) is ``initial_wait * 2**(n-1)`` plus a random
    ``0..jitter``, capped at ``max_wait``. No retry starts a wait that would end later than
    ``total_timeout`` seconds after the first attempt began.
    """

    max_attempts: int = 4
    initial_wait: float = 2.0
    max_wait: float = 60.0
    total_timeout: float = 300.0
    jitter: float = 1.0

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError(f"max_attempts must be at least 1, got {self.max_attempts}")
        for name in ("initial_wait", "max_wait", "total_timeout", "jitter"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must not be negative, got {getattr(self, name)}")


@dataclass(frozen=True)
class PublishResult:
    """What one ``publish_with_retries`` call achieved."""

    receipt: Receipt | None  # None only when confirmed_by_duplicate
    attempts: int
    # An earlier ambiguous attempt landed: X answered "duplicate content" on the retry.
    confirmed_by_duplicate: bool = False


@dataclass(frozen=True)
class RetryEvent:
    """One retry about to happen, as passed to ``on_retry``."""

    account: str
    network: str
    attempt: int  # the attempt about to be made: 2 on the first retry
    max_attempts: int
    error_type: str  # class name of the error that caused the retry, e.g. "TransientError"
    error_message: str  # our NetworkError message, which never holds a secret
    wait: float  # seconds slept before that attempt


class _StopBeforeTimeout(stop_base):
    """Stop when the coming wait would end past the deadline, measured on an injected clock."""

    def __init__(self, clock: Callable[[], float], started_at: float, timeout: float) -> None:
        self.clock = clock
        self.started_at = started_at
        self.timeout = timeout

    def __call__(self, retry_state: RetryCallState) -> bool:
        elapsed = self.clock() - self.started_at
        return elapsed + retry_state.upcoming_sleep >= self.timeout


def publish_with_retries(
    network: Network,
    post: OutgoingPost,
    policy: RetryPolicy,
    *,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    on_retry: Callable[[RetryEvent], None] | None = None,
    logger: logging.Logger = LOGGER,
) -> PublishResult:
    """Publish ``post`` on ``network``, retrying transient failures as ``policy`` allows.

    Raises the adapter's NetworkError when the post cannot be published (see module docstring).
    """
    attempts = 0
    saw_ambiguous = False

    def attempt_once() -> Receipt:
        nonlocal attempts, saw_ambiguous
        attempts += 1
        try:
            return network.publish(post)
        except TransientError as error:
            saw_ambiguous = saw_ambiguous or error.ambiguous
            raise

    def before_sleep(retry_state: RetryCallState) -> None:
        outcome = retry_state.outcome
        error = outcome.exception() if outcome is not None else None
        event = RetryEvent(
            account=network.account,
            network=network.network,
            attempt=retry_state.attempt_number + 1,
            max_attempts=policy.max_attempts,
            error_type=type(error).__name__,
            error_message=str(error),
            wait=retry_state.upcoming_sleep,
        )
        log_event(
            logger,
            "retry",
            logging.WARNING,
            account=event.account,
            network=event.network,
            attempt=f"{event.attempt}/{event.max_attempts}",
            wait=f"{event.wait:.1f}s",
            reason=f"{event.error_type}: {event.error_message}",
        )
        if on_retry is not None:
            on_retry(event)

    retrying = Retrying(
        # tenacity passes its DoSleep (a float subclass); hand the caller a plain float.
        sleep=lambda seconds: sleep(float(seconds)),
        stop=(
            stop_after_attempt(policy.max_attempts)
            | _StopBeforeTimeout(clock, clock(), policy.total_timeout)
        ),
        wait=wait_exponential_jitter(
            multiplier=policy.initial_wait, max=policy.max_wait, jitter=policy.jitter
        ),
        # A video still processing is deferred, not re-uploaded and awaited again at once.
        retry=retry_if_exception_type(TransientError) & retry_if_not_exception_type(MediaNotReady),
        before_sleep=before_sleep,
        reraise=True,
    )
    try:
        receipt = retrying(attempt_once)
    except DuplicatePost:
        if not saw_ambiguous:
            raise
        log_event(
            logger,
            "confirmed",
            account=network.account,
            network=network.network,
            attempts=attempts,
            reason="duplicate after an ambiguous failure: the earlier attempt landed",
        )
        return PublishResult(receipt=None, attempts=attempts, confirmed_by_duplicate=True)
    return PublishResult(receipt=receipt, attempts=attempts)
