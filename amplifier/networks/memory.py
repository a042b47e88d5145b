"""An in-process network that records what it sent and replays scripted outcomes.

Shipped in the package (like httpx's ``MockTransport`` or llm's ``MockModel``) so the worker,
the CLI and their tests can run the real code paths with a fake edge::

    net = MemoryNetwork("fbt-x", "x")
    net.enqueue(TransientError("503 from x", ambiguous=True))
    net.publish(post)   # raises TransientError, yet the post counts as sent
    net.publish(post)   # queue empty, X's duplicate rule applies: raises DuplicatePost

Each ``publish`` call consumes one scripted outcome, in order. A scripted outcome replaces
the platform's own behaviour for that call; only when the queue is empty does the fake act
like a platform: it succeeds with ids "mem-1", "mem-2", ... and, on X, refuses a text it
already holds.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable

from amplifier.errors import DuplicatePost, NetworkError, TransientError
from amplifier.networks.base import AccountInfo, NetworkName, OutgoingPost, Receipt

Outcome = Receipt | NetworkError | Callable[[OutgoingPost], Receipt]


class MemoryNetwork:
    """A ``Network`` held in memory: ``attempts`` records every call, ``sent`` what went out."""

    def __init__(
        self, account: str, network: NetworkName = "mastodon", *, handle: str | None = None
    ) -> None:
        self.account = account
        self.network: NetworkName = network
        self.handle = handle if handle is not None else account
        self.sent: list[OutgoingPost] = []
        self.attempts: list[OutgoingPost] = []
        self._outcomes: deque[Outcome] = deque()
        self._next_id = 1
        # The worker may publish from several threads; every read-modify-write goes under it.
        self._lock = threading.Lock()

    def enqueue(self, *outcomes: Outcome) -> None:
        """Script the next publish calls, one outcome per call, in order.

        A ``Receipt`` is returned and the post counted as sent; an exception is raised (an
        ambiguous ``TransientError`` still counts the post as sent: it landed, the answer was
        lost); a callable is called with the post and behaves like either.
        """
        with self._lock:
            self._outcomes.extend(outcomes)

    @property
    def queued(self) -> int:
        """How many scripted outcomes are still waiting to be consumed."""
        with self._lock:
            return len(self._outcomes)

    def publish(self, post: OutgoingPost) -> Receipt:
        """Consume the next scripted outcome, or behave like the platform when none is left."""
        with self._lock:
            self.attempts.append(post)
            if not self._outcomes:
                return self._publish_unscripted(post)
            outcome = self._outcomes.popleft()

        # Outside the lock: a scripted callable may itself call back into this network.
        try:
            receipt = outcome(post) if callable(outcome) else self._replay(outcome)
        except TransientError as error:
            if error.ambiguous:
                self._record_sent(post)
            raise
        self._record_sent(post)
        return receipt

    def verify(self) -> AccountInfo:
        """Say whose account this is, as a real adapter would, without any I/O."""
        return AccountInfo(
            network=self.network,
            account=self.account,
            handle=self.handle,
            display_name=self.account,
            url=f"https://{self.network}.invalid/{self.account}",
        )

    def _publish_unscripted(self, post: OutgoingPost) -> Receipt:
        # Caller holds the lock, so the duplicate check and the append are one step.
        if self.network == "x" and any(earlier.text == post.text for earlier in self.sent):
            raise DuplicatePost(
                "x refused duplicate content (403)", account=self.account, network=self.network
            )
        remote_id = f"mem-{self._next_id}"
        self._next_id += 1
        self.sent.append(post)
        return Receipt(
            remote_id=remote_id,
            url=f"https://{self.network}.invalid/{self.account}/{remote_id}",
        )

    @staticmethod
    def _replay(outcome: Receipt | NetworkError) -> Receipt:
        if isinstance(outcome, NetworkError):
            raise outcome
        return outcome

    def _record_sent(self, post: OutgoingPost) -> None:
        with self._lock:
            self.sent.append(post)
