"""One attempt at the network, guarded: still ours, counted, not rate-limited, ambiguity noted.

``GuardedNetwork`` wraps the real adapter for one claimed row. Before each call it checks the
worker is not stopping, looks the post up first where the network can (Bluesky's
``find_existing``) when an earlier attempt may have landed, refuses to send while the account's
stored rate-limit window is shut, and counts the attempt with a compare-and-set that proves the
row is still this worker's. After a failure it notes whether the request may have landed.
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
)
from amplifier.store import Delivery, Store

Clock = Callable[[], datetime]

# Another worker's clock may run a little behind ours when it stamps a post's creation time.
FIND_SLACK = timedelta(minutes=10)


@runtime_checkable
class FindsExisting(Protocol):
    """A network that can find a post it may already hold (BlueskyNetwork)."""

    def find_existing(self, text: str, since: datetime) -> Receipt | None: ...


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


class ClaimLost(Exception):
    """Another worker owns the row now: stop without sending."""


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
            raise Stopping
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
            raise ClaimLost
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
