"""One attempt at the network, guarded: still ours, counted, not rate-limited, ambiguity noted.

``GuardedNetwork`` wraps the real adapter for one claimed row. Before each call it checks the
worker is not stopping, looks the post up first where the network can (``find_existing``:
Bluesky's records, X's timeline, whose posts read are added to the row's cost) when an
earlier attempt may have landed, refuses to send while the account's stored rate-limit
window is shut, and counts the attempt with a compare-and-set that proves the row is still
this worker's. After a failure it notes whether the request may have landed.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Protocol, runtime_checkable

from amplifier.errors import NetworkError, RateLimited, TransientError
from amplifier.networks.base import (
    AccountInfo,
    MediaItem,
    Network,
    NetworkName,
    OutgoingPost,
    Receipt,
    replies_of,
)
from amplifier.store import STALE_AFTER, Delivery, Store

Clock = Callable[[], datetime]

# How often a worker waiting for another's attempt on the same account asks again.
BUSY_POLL_SECONDS = 0.2

# Another worker's clock may run a little behind ours when it stamps a post's creation time.
FIND_SLACK = timedelta(minutes=10)


@runtime_checkable
class FindsExisting(Protocol):
    """A network that can find a post it may already hold (BlueskyNetwork, XNetwork)."""

    def find_existing(self, text: str, since: datetime) -> Receipt | None: ...


@runtime_checkable
class BillsLookups(Protocol):
    """A network that bills the posts ``find_existing`` reads (XNetwork)."""

    @property
    def posts_read(self) -> int: ...


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
        sensitive=delivery.sensitive,
        replies=replies_of(delivery.replies),
        quotes=delivery.quotes,
        reply_to=delivery.reply_to,
        reply_root=delivery.reply_root,
    )


class ClaimLost(Exception):
    """Another worker owns the row now: stop without sending."""


class AccountBusy(Exception):
    """Another live worker has an attempt in flight for the account: wait for its outcome (a
    429 it meets is stored before this one may go), so defer instead of sending."""


class Stopping(Exception):
    """The worker is shutting down: hand the post back instead of attempting it."""


class GuardedNetwork:
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
        stale_after: timedelta = STALE_AFTER,
        busy_wait: timedelta = timedelta(0),
        sleep: Callable[[float], object] | None = None,
        read_price_micros: int = 0,
    ) -> None:
        """``read_price_micros``: what the network bills for each post a lookup reads."""
        self.network: NetworkName = inner.network
        self.account = inner.account
        self.row = row
        self.ambiguous_since = ambiguous_since
        self.found_existing = False
        self.unexpected = False
        self._store = store
        self._read_price = read_price_micros
        self._inner = inner
        self._worker_id = worker_id
        self._clock = clock
        self._stop = stop
        self._stale_after = stale_after
        self._busy_wait = busy_wait
        self._sleep = sleep

    def verify(self) -> AccountInfo:
        return self._inner.verify()

    def _begin(self) -> tuple[datetime, Delivery]:
        """Count the attempt once the account is free; (when it began, the row as counted).

        Never while the account's stored rate-limit window is shut (another worker may have
        hit it), nor while another live worker's attempt for it is in flight: that one's
        answer comes first, so a 429 it meets is stored before this request goes. Its answer
        is waited for, polling, up to ``busy_wait``, then the post is handed back (AccountBusy).
        """
        # Counted, not timed: an injected sleep need not move the injected clock.
        polls_left = int(self._busy_wait.total_seconds() / BUSY_POLL_SECONDS)
        while True:
            self._raise_if_blocked()
            started = self._clock()
            row = self._store.begin_attempt(
                self.row.id, worker_id=self._worker_id, stale_after=self._stale_after
            )
            if row is not None:
                return started, row
            self._raise_if_blocked()  # a window stored since the check above
            held = self._store.get_by_id(self.row.id)
            if held is None or held.status != "sending" or held.claimed_by != self._worker_id:
                raise ClaimLost
            if self._sleep is None or polls_left <= 0:
                raise AccountBusy
            polls_left -= 1
            self._sleep(BUSY_POLL_SECONDS)
            if self._stop is not None and self._stop.is_set():
                raise Stopping

    def _raise_if_blocked(self) -> None:
        blocked = self._store.blocked_until(self.account, self._clock())
        if blocked is None:
            return
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

    def publish(self, post: OutgoingPost) -> Receipt:
        if self._stop is not None and self._stop.is_set():
            raise Stopping
        if self.ambiguous_since is not None and isinstance(self._inner, FindsExisting):
            found = self._inner.find_existing(post.text, self.ambiguous_since - FIND_SLACK)
            if isinstance(self._inner, BillsLookups):
                self._store.add_read_cost(self.row, self._inner.posts_read * self._read_price)
            if found is not None:
                self.found_existing = True
                return found
        started, row = self._begin()
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
