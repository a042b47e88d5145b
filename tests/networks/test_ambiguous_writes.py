"""Exactly once on every network: an answer that is not a definite refusal is ambiguous, and the
next attempt of the same delivery never creates a second post.

Each case scripts one failure of the post-creating request on the network's fake server, at one
moment: before the server stored the post (it holds nothing) or after (it holds the post). The
first attempt must raise ``TransientError(ambiguous=True)``; the second attempt, the same
``OutgoingPost``, must leave exactly one post on the server, because:

* X answers the repeated text with its duplicate-content 403 (``DuplicatePost``, which the
  retry policy counts as the earlier attempt's success);
* Mastodon answers the repeated Idempotency-Key with the first status;
* Bluesky cannot store a second record under the delivery's own record key: the repeated
  ``createRecord`` fails and the adapter reads the key back. (To see the first attempt fail at
  all, the read-back of the first attempt is made to fail too: otherwise the adapter finds the
  post and returns its receipt at once, which ``test_bluesky_first_attempt_finds_its_own_post``
  shows.)
"""

from __future__ import annotations

import socket
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime

import pytest

from amplifier.delivery.retry import RetryPolicy, publish_with_retries
from amplifier.errors import DuplicatePost, NetworkError, TransientError
from amplifier.networks.base import HttpSettings, MemorySessionStore, Network, OutgoingPost
from amplifier.networks.bluesky import BlueskyNetwork
from amplifier.networks.mastodon import MastodonNetwork
from amplifier.networks.x import XNetwork
from amplifier.testing.fake_bluesky import FakeBluesky
from amplifier.testing.fake_mastodon import FakeMastodon, FakeMastodonSettings
from amplifier.testing.fake_x import FakeX
from amplifier.testing.fakeserver import FakeServer, Fault

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
HTTP = HttpSettings(connect_timeout=2.0, read_timeout=0.4)
MASTODON_TOKEN = "mastodon-token-for-ambiguity-tests"
BLUESKY_PASSWORD = "app-pw-ambiguity-tests"
GET_RECORD = "/xrpc/com.atproto.repo.getRecord"
# Every 5xx, including ones the SDKs have no class for (507, Cloudflare's 520-524).
SERVER_ERRORS = (500, 501, 502, 503, 504, 507, 520, 522, 524)


@dataclass(frozen=True)
class Case:
    """One failure of the request that creates the post, and whether the post was stored."""

    name: str
    fault: Fault
    landed: bool


def _cases() -> list[Case]:
    cases = [
        Case(f"{status}-after-write", Fault(status=status, body={"error": "x"}, after_work=True),
             landed=True)
        for status in SERVER_ERRORS
    ]  # fmt: skip
    cases += [
        Case("503-before-write", Fault(status=503, body={"error": "down"}), landed=False),
        Case("408-before-write", Fault(status=408, body="Request Timeout"), landed=False),
        Case("drop-before-write", Fault(drop=True), landed=False),
        Case("drop-after-write", Fault(drop=True, after_work=True), landed=True),
        Case("truncated-body", Fault(truncate=True, after_work=True), landed=True),
        Case("read-timeout", Fault(delay=1.0, after_work=True), landed=True),
    ]
    return cases


CASES = _cases()


class Harness:
    """One network's fake server and adapter, seen the same way by every test."""

    name: str
    post_path: str
    server: FakeServer

    def adapter(self) -> Network:
        raise NotImplementedError

    def posts(self) -> list[str]:
        """The texts the server holds, one per stored post."""
        raise NotImplementedError

    def reset(self) -> None:
        raise NotImplementedError


class XHarness(Harness):
    name, post_path = "x", "/2/tweets"

    def __init__(self, fake: FakeX) -> None:
        self.fake, self.server = fake, fake.server

    def adapter(self) -> Network:
        base = self.fake.base_url
        return XNetwork("x-acct", consumer_key="ck", consumer_secret="cs", access_token="at",
                        access_token_secret="ats", api_base=base, upload_base=base, http=HTTP,
                        clock=lambda: NOW)  # fmt: skip

    def posts(self) -> list[str]:
        return [p.text for p in self.fake.posts]

    def reset(self) -> None:
        self.fake.reset()


class MastodonHarness(Harness):
    name, post_path = "mastodon", "/api/v1/statuses"

    def __init__(self, fake: FakeMastodon) -> None:
        self.fake, self.server = fake, fake.server

    def adapter(self) -> Network:
        base = self.fake.base_url
        return MastodonNetwork(
            "m-acct", instance_url=base, access_token=MASTODON_TOKEN, http=HTTP, clock=lambda: NOW
        )

    def posts(self) -> list[str]:
        return [s.text for s in self.fake.statuses]

    def reset(self) -> None:
        self.fake.reset()


class BlueskyHarness(Harness):
    name, post_path = "bluesky", "/xrpc/com.atproto.repo.createRecord"

    def __init__(self, fake: FakeBluesky) -> None:
        self.fake, self.server = fake, fake.server
        self.sessions = MemorySessionStore()

    def adapter(self) -> Network:
        return BlueskyNetwork("b-acct", handle="amb.test", app_password=BLUESKY_PASSWORD,
                              sessions=self.sessions, service_url=self.fake.base_url, http=HTTP,
                              clock=lambda: NOW)  # fmt: skip

    def posts(self) -> list[str]:
        return [r.text for r in self.fake.records]

    def reset(self) -> None:
        self.fake.reset()
        self.sessions = MemorySessionStore()


@pytest.fixture(scope="module")
def harnesses() -> Iterator[dict[str, Harness]]:
    fake_x = FakeX().start()
    fake_mastodon = FakeMastodon(FakeMastodonSettings(token=MASTODON_TOKEN)).start()
    fake_bluesky = FakeBluesky(handle="amb.test", password=BLUESKY_PASSWORD).start()
    try:
        yield {
            "x": XHarness(fake_x),
            "mastodon": MastodonHarness(fake_mastodon),
            "bluesky": BlueskyHarness(fake_bluesky),
        }
    finally:
        for fake in (fake_x, fake_mastodon, fake_bluesky):
            fake.stop()


@pytest.fixture(params=["x", "mastodon", "bluesky"])
def harness(request: pytest.FixtureRequest, harnesses: dict[str, Harness]) -> Harness:
    chosen = harnesses[request.param]
    chosen.reset()
    return chosen


def outgoing(account: str) -> OutgoingPost:
    """A post of a delivery of its own: unique text and key, a due time."""
    tag = uuid.uuid4().hex[:8]
    return OutgoingPost(account, f"Vigil tonight at 7 ({tag})", f"key-{tag}", due_at=NOW)


def second_attempt(network: Network, post: OutgoingPost) -> None:
    """The retry: X's duplicate answer is the earlier attempt's success, as the policy reads it."""
    try:
        network.publish(post)
    except DuplicatePost:
        assert network.network == "x"


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_failed_write_is_ambiguous_and_the_retry_posts_once(harness: Harness, case: Case) -> None:
    """Per network and failure: TransientError(ambiguous=True), then one post after the retry."""
    network = harness.adapter()
    post = outgoing(network.account)
    harness.server.add_fault(replace(case.fault, path_prefix=harness.post_path))
    if harness.name == "bluesky":  # the first attempt's read-back fails too
        harness.server.add_fault(Fault(method="GET", path_prefix=GET_RECORD, status=503))
    with pytest.raises(TransientError) as caught:
        network.publish(post)
    assert caught.value.ambiguous is True, str(caught.value)
    assert harness.posts() == ([post.text] if case.landed else [])
    second_attempt(harness.adapter(), post)  # a fresh adapter: as after a restart
    assert harness.posts() == [post.text]


@pytest.mark.parametrize("case", [c for c in CASES if c.landed], ids=lambda c: c.name)
def test_retry_policy_ends_with_one_post(harness: Harness, case: Case) -> None:
    """Through publish_with_retries, as the worker sends: the run succeeds with one post."""
    network = harness.adapter()
    post = outgoing(network.account)
    harness.server.add_fault(replace(case.fault, path_prefix=harness.post_path))
    if harness.name == "bluesky":
        harness.server.add_fault(Fault(method="GET", path_prefix=GET_RECORD, status=503))
    policy = RetryPolicy(max_attempts=3, initial_wait=0.0, jitter=0.0)
    result = publish_with_retries(network, post, policy, sleep=lambda _: None)
    assert result.attempts == 2
    assert harness.posts() == [post.text]
    if harness.name == "x":
        assert result.confirmed_by_duplicate
    else:
        assert result.receipt is not None


def test_refused_connection_is_never_ambiguous(harnesses: dict[str, Harness]) -> None:
    """Nothing listening: the request was never sent, so no network calls it ambiguous."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{probe.getsockname()[1]}"
    adapters: list[Callable[[], Network]] = [
        lambda: XNetwork("x", consumer_key="k", consumer_secret="s", access_token="t",
                         access_token_secret="u", api_base=closed, http=HTTP),
        lambda: MastodonNetwork("m", instance_url=closed, access_token="t", http=HTTP),
        lambda: BlueskyNetwork("b", handle="h.test", app_password="p",
                               sessions=MemorySessionStore(), service_url=closed, http=HTTP),
    ]  # fmt: skip
    for build in adapters:
        network = build()
        with pytest.raises(NetworkError) as caught:
            network.publish(outgoing(network.account))
        assert isinstance(caught.value, TransientError)
        assert caught.value.ambiguous is False, network.network


@pytest.mark.parametrize("case", [c for c in CASES if c.landed], ids=lambda c: c.name)
def test_bluesky_first_attempt_finds_its_own_post(
    harnesses: dict[str, Harness], case: Case
) -> None:
    """When the read-back works, a Bluesky write that landed despite the failure is reported
    as published at once: the receipt names the one stored record."""
    harness = harnesses["bluesky"]
    harness.reset()
    network = harness.adapter()
    post = outgoing(network.account)
    harness.server.add_fault(replace(case.fault, path_prefix=harness.post_path))
    receipt = network.publish(post)
    assert isinstance(harness, BlueskyHarness)
    [record] = harness.fake.records
    assert receipt.remote_id == record.uri
    assert receipt.url is not None and receipt.url.endswith("/post/" + record.rkey)
