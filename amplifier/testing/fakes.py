"""The three fake networks of a scenario, and a witness that holds the workers to rate limits.

``Fakes`` starts a fake X, Mastodon and Bluesky (one account each) in this process and reads
back what they hold. ``RateLimitWitness`` watches every request they receive: when one is
answered 429 with a reset time, any later request for that account and endpoint that arrives
before the reset is recorded as an ``EarlyRequest``, which no worker may ever cause (and, when
enforcing, refused with the same 429).
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import parse_qs

from amplifier.testing.fake_bluesky import FakeBluesky
from amplifier.testing.fake_mastodon import FakeMastodon, FakeMastodonSettings
from amplifier.testing.fake_x import FakeX
from amplifier.testing.fakeserver import FakeServer, Fault, Request, Response
from amplifier.testing.scenario import ACCOUNTS, BLUESKY_HANDLE, POST_PATHS

# X and Bluesky send epoch seconds, Mastodon ISO-8601.
RESET_HEADERS = ("x-rate-limit-reset", "x-ratelimit-reset", "ratelimit-reset")


def announced_reset(headers: Mapping[str, str]) -> float | None:
    """The moment (epoch seconds) a 429's headers say the window resets, if they say."""
    lowered = {key.lower(): value for key, value in headers.items()}
    for name in RESET_HEADERS:
        value = lowered.get(name)
        if value is None:
            continue
        try:
            return float(value)
        except ValueError:
            pass
        try:
            return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
        except ValueError:
            continue
    return None


def posted_text(request: Request) -> str | None:
    """The text a publish request carries: X's and Bluesky's JSON, Mastodon's form."""
    try:
        body = json.loads(request.body or b"null")
    except ValueError:
        status = parse_qs(request.body.decode("utf-8", "replace")).get("status")
        return status[0] if status else None
    if not isinstance(body, dict):
        return None
    record = body.get("record")
    text = record.get("text") if isinstance(record, dict) else body.get("text", body.get("status"))
    return text if isinstance(text, str) else None


@dataclass(frozen=True)
class RateLimitAnswer:
    """A 429 a fake answered: for ``account``'s ``path``, no request until ``reset_at``."""

    account: str
    path: str
    answered_at: float  # epoch seconds
    reset_at: float


@dataclass(frozen=True)
class EarlyRequest:
    """A request that arrived after a 429 for its account and endpoint, before the reset."""

    account: str
    path: str
    arrived_at: float
    limit: RateLimitAnswer
    text: str | None = None  # the post it carried, which names its row

    def describe(self, slot: str | None = None) -> str:
        early = self.limit.reset_at - self.arrived_at
        after = self.arrived_at - self.limit.answered_at
        at = datetime.fromtimestamp(self.arrived_at, UTC).strftime("%H:%M:%S.%f")[:-3]
        return (
            f"{self.account} {self.path}{f' (slot {slot})' if slot else ''}: arrived at {at} "
            f"UTC, {after:.2f} s after a 429, {early:.2f} s before its announced reset"
        )


class RateLimitWitness:
    """Records each 429 with a reset, and each request that came before a reset it announced.

    With ``enforce`` set, such a request is answered 429 again with the same reset, as a real
    platform would; otherwise it reaches the fake (which, knowing nothing of injected 429s,
    may accept it and report a fresh window that reopens the account to the worker).
    Requests to another endpoint of the account in the meantime are counted apart
    (``elsewhere``) and never refused: platforms keep a window per endpoint (X) or family
    (Mastodon), and the faults only ever limit the publish endpoint.
    """

    def __init__(self, clock: Callable[[], float] = time.time, *, enforce: bool = False) -> None:
        self.clock = clock
        self.enforce = enforce
        self.answers: list[RateLimitAnswer] = []
        self.early: list[EarlyRequest] = []
        self.unannounced = 0  # 429s without a reset header: nothing to hold a worker to
        self.elsewhere = 0
        self._refusals: dict[int, Response] = {}  # id(answer) -> the 429 it was
        self._lock = threading.Lock()

    def watch(self, server: FakeServer, account: str) -> None:
        """See every request ``server`` (the fake of ``account``) answers, faults included."""
        answer = server.dispatch

        def dispatch(request: Request) -> Response | None:
            refusal = self._arrived(account, request, self.clock())
            if refusal is not None:
                return refusal
            response = answer(request)
            if response is not None and response.status == 429:
                self._limited(account, request.path, response)
            return response

        # FakeMastodon builds its own FakeServer, so no subclass can be handed in; the request
        # handler looks ``dispatch`` up on the instance, so this sees every request.
        vars(server)["dispatch"] = dispatch

    def _arrived(self, account: str, request: Request, now: float) -> Response | None:
        """Record a request that came too early; the 429 to repeat when enforcing."""
        path = request.path
        with self._lock:
            active = [
                limit
                for limit in self.answers
                if limit.account == account and limit.answered_at <= now < limit.reset_at
            ]
            same = [limit for limit in active if limit.path == path]
            if not same:
                self.elsewhere += bool(active)
                return None
            limit = max(same, key=lambda answer: answer.reset_at)
            self.early.append(EarlyRequest(account, path, now, limit, posted_text(request)))
            if not self.enforce:
                return None
            first = self._refusals[id(limit)]
            return Response(first.status, first.body, dict(first.headers))

    def _limited(self, account: str, path: str, response: Response) -> None:
        reset = announced_reset(response.headers)
        with self._lock:
            if reset is None:
                self.unannounced += 1
                return
            limit = RateLimitAnswer(account, path, self.clock(), reset)
            self.answers.append(limit)
            self._refusals[id(limit)] = response


class Fakes:
    """The three fake networks, started in this process, with the credentials we hand out."""

    HANDLE = BLUESKY_HANDLE

    def __init__(self, secrets: dict[str, str]) -> None:
        self.x = FakeX()
        token = secrets["PT_MASTODON_ACCESS_TOKEN"]
        self.mastodon = FakeMastodon(FakeMastodonSettings(token=token))
        password = secrets["PT_BLUESKY_APP_PASSWORD"]
        self.bluesky = FakeBluesky(handle=self.HANDLE, password=password)
        self.servers: dict[str, FakeServer] = {
            "x": self.x.server,
            "mastodon": self.mastodon.server,
            "bluesky": self.bluesky.server,
        }
        self.witness = RateLimitWitness()
        for account, network in ACCOUNTS.items():
            self.witness.watch(self.servers[network], account)

    def add_fault(self, network: str, fault: Fault) -> None:
        self.servers[network].add_fault(fault)

    def clear_faults(self) -> None:
        for server in self.servers.values():
            with server.lock:
                server.faults.clear()

    def texts(self) -> dict[str, Counter[str]]:
        """network -> text -> how many posts with that text the server holds."""
        return {
            "x": Counter(post.text for post in list(self.x.posts)),
            # A repeated Idempotency-Key gets the first status back: it is counted once.
            "mastodon": Counter(status.text for status in list(self.mastodon.statuses)),
            "bluesky": Counter(
                r.text for r in list(self.bluesky.records) if "/app.bsky.feed.post/" in r.uri
            ),
        }

    def post_requests(self) -> dict[str, int]:
        """network -> publish requests its handler answered (not those a fault refused)."""
        counts = {}
        for network, server in self.servers.items():
            with server.lock:
                counts[network] = sum(r.path == POST_PATHS[network] for r in server.received)
        return counts
