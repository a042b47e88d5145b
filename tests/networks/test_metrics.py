"""Reading posts' counts back through the real SDKs (Mastodon.py, atproto, tweepy) against the
fake servers: batch sizes, deleted posts, a server without the batch endpoint, a 429 part way."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from amplifier.errors import RateLimited
from amplifier.networks.base import HttpSettings, MemorySessionStore, OutgoingPost
from amplifier.networks.bluesky import BlueskyNetwork
from amplifier.networks.mastodon import MastodonNetwork
from amplifier.networks.metrics import BATCH, MetricsReader, PostCounts
from amplifier.networks.x import XNetwork
from amplifier.testing.fake_bluesky import FakeBluesky
from amplifier.testing.fake_mastodon import FakeMastodon, FakeMastodonSettings
from amplifier.testing.fake_x import FakeX, make_fake_x
from amplifier.testing.fake_x_reads import PublicMetrics
from amplifier.testing.fakeserver import Fault

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
TOKEN = "mastodon-SECRET-metrics"
HTTP = HttpSettings(connect_timeout=2.0, read_timeout=5.0)


def outgoing(n: int) -> OutgoingPost:
    return OutgoingPost(account="a", text=f"post number {n}", idempotency_key=f"k-{n}", due_at=NOW)


# -- Mastodon ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def mastodon_server() -> Iterator[FakeMastodon]:
    with FakeMastodon(FakeMastodonSettings(token=TOKEN, clock=lambda: NOW)) as server:
        yield server


def mastodon(fake: FakeMastodon, version: str = "4.3.0") -> MastodonNetwork:
    return MastodonNetwork(
        "m", instance_url=fake.base_url, access_token=TOKEN, mastodon_version=version,
        http=HTTP, clock=lambda: NOW,
    )  # fmt: skip


def test_mastodon_reads_forty_statuses_in_one_request(mastodon_server: FakeMastodon) -> None:
    fake = mastodon_server.reset()
    net = mastodon(fake)
    ids = [net.publish(outgoing(n)).remote_id for n in range(41)]
    fake.statuses[0].favourites, fake.statuses[0].reblogs = 7, 2
    fake.statuses[1].replies, fake.statuses[1].quotes = 3, 1
    fake.statuses[2].deleted = True
    before = len(fake.server.received)
    got = net.read_metrics(ids)
    reads = [r for r in fake.server.received[before:] if r.method == "GET"]
    assert [r.path for r in reads] == ["/api/v1/statuses"]
    assert len(reads[0].query["id[]"]) == BATCH["mastodon"] == 40  # the 41st is left out
    assert got.counts[ids[0]] == PostCounts(likes=7, reposts=2, replies=0, quotes=0)
    assert got.counts[ids[1]] == PostCounts(likes=0, reposts=0, replies=3, quotes=1)
    assert got.missing == (ids[2],)
    assert len(got.counts) == 39
    assert isinstance(net, MetricsReader)


def test_mastodon_without_batch_endpoint_reads_one_at_a_time(
    mastodon_server: FakeMastodon,
) -> None:
    fake = mastodon_server.reset(batch_statuses=False, quotes_count=False)
    net = mastodon(fake)
    ids = [net.publish(outgoing(n)).remote_id for n in range(3)]
    fake.statuses[1].deleted = True
    fake.statuses[2].favourites = 4
    got = net.read_metrics(ids)
    assert got.missing == (ids[1],)
    assert got.counts[ids[2]] == PostCounts(likes=4, reposts=0, replies=0, quotes=None)
    before = len(fake.server.received)
    net.read_metrics(ids[:1])  # the adapter remembers: no second try of the batch endpoint
    assert [r.path for r in fake.server.received[before:]] == [f"/api/v1/statuses/{ids[0]}"]


def test_mastodon_older_version_never_asks_the_batch_endpoint(
    mastodon_server: FakeMastodon,
) -> None:
    fake = mastodon_server.reset()
    net = mastodon(fake, version="4.2.0")
    ids = [mastodon(fake).publish(outgoing(n)).remote_id for n in range(2)]
    before = len(fake.server.received)
    got = net.read_metrics(ids)
    assert set(got.counts) == set(ids)
    assert all(r.path != "/api/v1/statuses" for r in fake.server.received[before:])


def test_mastodon_429_part_way_keeps_what_was_read(mastodon_server: FakeMastodon) -> None:
    fake = mastodon_server.reset(batch_statuses=False)
    net = mastodon(fake)
    ids = [net.publish(outgoing(n)).remote_id for n in range(3)]
    fake.add_fault(
        Fault(method="GET", path_prefix=f"/api/v1/statuses/{ids[1]}", status=429,
              body={"error": "Too many requests"},
              headers={"X-RateLimit-Reset": "2026-11-23T12:05:00.000Z",
                       "X-RateLimit-Remaining": "0", "X-RateLimit-Limit": "300"})
    )  # fmt: skip
    got = net.read_metrics(ids)
    assert set(got.counts) == {ids[0]} and got.missing == ()
    assert isinstance(got.error, RateLimited)
    assert got.error.retry_at == datetime(2026, 11, 23, 12, 5, tzinfo=UTC)


# -- Bluesky ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def bluesky_server() -> Iterator[FakeBluesky]:
    with FakeBluesky(handle="metrics.test", password="pw-metrics") as server:
        yield server


def test_bluesky_reads_twenty_five_uris_per_call(bluesky_server: FakeBluesky) -> None:
    bluesky_server.reset()
    net = BlueskyNetwork(
        "b", handle="metrics.test", app_password="pw-metrics", sessions=MemorySessionStore(),
        service_url=bluesky_server.base_url, http=HTTP, clock=lambda: NOW,
    )  # fmt: skip
    try:
        uris = [net.publish(outgoing(n)).remote_id for n in range(26)]
        post = bluesky_server.records[0]
        post.likes, post.reposts, post.replies, post.quotes = 5, 4, 3, 2
        bluesky_server.records[1].deleted = True
        before = len(bluesky_server.server.received)
        got = net.read_metrics(uris)
        reads = [r for r in bluesky_server.server.received[before:] if "getPosts" in r.path]
        assert len(reads) == 1 and len(reads[0].query["uris"]) == BATCH["bluesky"] == 25
        assert got.counts[uris[0]] == PostCounts(likes=5, reposts=4, replies=3, quotes=2)
        assert got.missing == (uris[1],)
        assert len(got.counts) == 24
    finally:
        net.close()


# -- X ----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def x_server() -> Iterator[FakeX]:
    with make_fake_x() as server:
        yield server


def test_x_reads_a_hundred_posts_per_lookup(x_server: FakeX) -> None:
    x_server.reset()
    net = XNetwork(
        "x", consumer_key="ck", consumer_secret="cs", access_token="at",
        access_token_secret="ats", api_base=x_server.base_url, upload_base=x_server.base_url,
        http=HTTP, clock=lambda: NOW,
    )  # fmt: skip
    ids = [net.publish(outgoing(n)).remote_id for n in range(101)]
    x_server.metrics[ids[0]] = PublicMetrics(likes=9, retweets=1, impressions=120)
    x_server.deleted.add(ids[1])
    before = len(x_server.received)
    got = net.read_metrics(ids)
    reads = [r for r in x_server.received[before:] if r.method == "GET"]
    assert len(reads) == 1
    assert len(reads[0].query["ids"][0].split(",")) == BATCH["x"] == 100
    assert reads[0].query["tweet.fields"] == ["public_metrics"]
    assert got.counts[ids[0]] == PostCounts(
        likes=9, reposts=1, replies=0, quotes=0, bookmarks=0, impressions=120
    )
    assert got.missing == (ids[1],)
    assert x_server.returned == len(got.counts) == 99
