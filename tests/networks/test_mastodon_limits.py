"""A Mastodon instance's own limits: read from /api/v2/instance, else /api/v1/instance, else the
defaults; cached between runs; never a reason for a post or a check to fail.

Driven through MastodonNetwork against the recorded Mastodon 4.6.4 answer and the fake server
in each of its instance modes (v2 only, v1 only, 500, not JSON, slow).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import vcr
from vcr.request import Request as VcrRequest

from amplifier.errors import PostRejected
from amplifier.networks.base import HttpSettings, MediaItem, OutgoingPost
from amplifier.networks.mastodon import MastodonNetwork
from amplifier.networks.mastodon_limits import (
    MAX_AGE,
    InstanceLimits,
    MemoryInstanceLimitsCache,
    instance_key,
    limits_from_answer,
)
from amplifier.testing.fake_mastodon import FakeMastodon, FakeMastodonSettings

CASSETTES = Path(__file__).parent.parent / "cassettes" / "mastodon"
NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
TOKEN = "mastodon-limits-token"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


class Clock:
    def __init__(self, now: datetime = NOW) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


class BrokenCache:
    """A cache whose store fails on every call."""

    def load_instance_limits(self, instance: str) -> InstanceLimits | None:
        raise RuntimeError("database down")

    def save_instance_limits(self, instance: str, limits: InstanceLimits) -> None:
        raise RuntimeError("database down")


@pytest.fixture(scope="module")
def fake_server() -> Iterator[FakeMastodon]:
    with FakeMastodon(FakeMastodonSettings(token=TOKEN)) as server:
        yield server


@pytest.fixture
def fake(fake_server: FakeMastodon) -> FakeMastodon:
    return fake_server.reset()


def network(fake: FakeMastodon, **kwargs: Any) -> MastodonNetwork:
    options: dict[str, Any] = {
        "instance_url": fake.base_url,
        "access_token": TOKEN,
        "clock": Clock(),
        "sleep": lambda seconds: None,
        "http": HttpSettings(connect_timeout=1.0, read_timeout=2.0),
    }
    return MastodonNetwork("campaign", **{**options, **kwargs})


def instance_requests(fake: FakeMastodon) -> list[str]:
    return [r.path for r in fake.server.received if "/instance" in r.path]


def _same_path_but_slash(first: VcrRequest, second: VcrRequest) -> None:
    """The recording asked for /api/v2/instance/ (Mastodon.py's spelling); we ask without."""
    assert first.path.rstrip("/") == second.path.rstrip("/")


# -- what the instance publishes ------------------------------------------------------------
def test_recorded_v2_answer_gives_every_limit() -> None:
    """The real Mastodon 4.6.4 /api/v2/instance answer: characters, URL weight, media count,
    image size, alt text length, image types and version, from one request."""
    recorder = vcr.VCR(record_mode="none", match_on=("method", "path_sans_slash"))
    recorder.register_matcher("path_sans_slash", _same_path_but_slash)
    with recorder.use_cassette(str(CASSETTES / "test_instance.yaml")) as cassette:
        limits = MastodonNetwork(
            "campaign", instance_url="http://localhost:3000", access_token="t", clock=Clock()
        ).read_instance_limits()
    assert cassette.play_count == 1
    assert (limits.max_characters, limits.characters_reserved_per_url) == (500, 23)
    assert (limits.max_media_attachments, limits.image_size_limit) == (4, 16777216)
    assert limits.description_limit == 10000
    assert limits.image_matrix_limit == 33_177_600
    assert "image/png" in limits.supported_mime_types
    assert (limits.version, limits.source, limits.fetched_at) == ("4.6.4", "v2", NOW)


def test_v2_only_instance_with_its_own_limit(fake: FakeMastodon) -> None:
    """An instance whose limit is 150 says so on v2, and v1 is never asked."""
    fake.reset(max_characters=150, characters_reserved_per_url=30, instance_versions=("v2",))
    limits = network(fake).instance_limits()
    assert (limits.max_characters, limits.characters_reserved_per_url) == (150, 30)
    assert (limits.source, limits.description_limit) == ("v2", 1500)
    assert instance_requests(fake) == ["/api/v2/instance"]


def test_v1_only_instance_is_read_after_v2_fails(fake: FakeMastodon) -> None:
    """Without /api/v2/instance (404), /api/v1/instance gives the limits and media sizes."""
    fake.reset(max_characters=1000, image_size_limit=8_000_000, instance_versions=("v1",))
    limits = network(fake).instance_limits()
    assert (limits.max_characters, limits.source) == (1000, "v1")
    assert (limits.image_size_limit, limits.max_media_attachments) == (8_000_000, 4)
    assert instance_requests(fake) == ["/api/v2/instance", "/api/v1/instance"]


def test_pleroma_style_v1_answer() -> None:
    """Pleroma and Akkoma publish max_toot_chars and upload_limit at the top of v1."""
    limits = limits_from_answer({"max_toot_chars": 5000, "upload_limit": 16_000_000}, "v1")
    assert (limits.max_characters, limits.image_size_limit) == (5000, 16_000_000)
    assert limits.source == "v1"


@pytest.mark.parametrize(
    "changes",
    [
        {"instance_status": 500},  # a server picky about its Host header
        {"instance_body": "<html><body>Welcome to nginx!</body></html>"},
        {"instance_body": "not json at all"},
        {"max_characters": None},  # answers, publishes no character limit
        {"instance_versions": ()},  # neither endpoint exists
    ],
    ids=["500", "html", "text", "no-limit", "404"],
)
def test_unusable_instance_answer_means_defaults(
    fake: FakeMastodon,
    changes: dict[str, Any],
    caplog: pytest.LogCaptureFixture,
    tmp_path: Path,
) -> None:
    """Whatever goes wrong on the instance endpoints, the limits are the defaults (logged),
    nothing raises, and a post with an image still goes out."""
    fake.reset(media_ready_after_polls=0, **changes)
    net = network(fake)
    with caplog.at_level(logging.WARNING, logger="amplifier.networks.mastodon"):
        limits = net.instance_limits()
    assert (limits.max_characters, limits.characters_reserved_per_url) == (500, 23)
    assert limits.source == "default"
    assert "publishes no character limit" in caplog.text
    image = tmp_path / "poster.png"
    image.write_bytes(PNG)
    net.publish(OutgoingPost("campaign", "With a picture", "k-1", media=(MediaItem(image, "A"),)))
    assert len(fake.statuses) == 1


def test_slow_instance_costs_a_short_timeout_only(fake: FakeMastodon) -> None:
    """An instance that answers late is given up on after the short limits timeout (here the
    adapter's 0.3 s read timeout, per endpoint), not the posting timeout; defaults follow."""
    fake.reset(instance_delay=1.5)
    net = network(fake, http=HttpSettings(connect_timeout=1.0, read_timeout=0.3))
    started = time.monotonic()
    limits = net.instance_limits()
    assert time.monotonic() - started < 1.4  # two endpoints, each cut at 0.3 s
    assert limits.source == "default"


# -- the cache --------------------------------------------------------------------------------
def test_known_instance_is_not_asked_again_within_a_day(fake: FakeMastodon) -> None:
    """The first start reads and caches; the next start (a new adapter) uses the cache without
    a request; a start more than MAX_AGE later reads again."""
    fake.reset(max_characters=150)
    cache = MemoryInstanceLimitsCache()
    network(fake, limits_cache=cache).instance_limits()
    assert len(instance_requests(fake)) == 1
    key = instance_key(fake.base_url)
    assert cache.limits[key].max_characters == 150

    later = network(fake, limits_cache=cache, clock=Clock(NOW + MAX_AGE - timedelta(minutes=1)))
    assert later.instance_limits().max_characters == 150
    assert len(instance_requests(fake)) == 1

    fake.reset(max_characters=200)
    stale = network(fake, limits_cache=cache, clock=Clock(NOW + MAX_AGE + timedelta(minutes=1)))
    assert stale.instance_limits().max_characters == 200
    assert cache.limits[key].max_characters == 200


def test_a_long_running_worker_reads_its_servers_limits_again_each_day(
    fake: FakeMastodon,
) -> None:
    """One adapter kept for days (a worker that runs on) asks the server at most once a day:
    within the day from memory, a day later again, and a changed limit is then used."""
    fake.reset(max_characters=150)
    clock = Clock()
    adapter = network(fake, limits_cache=MemoryInstanceLimitsCache(), clock=clock)
    assert adapter.instance_limits().max_characters == 150
    assert len(instance_requests(fake)) == 1
    clock.now += MAX_AGE - timedelta(minutes=1)
    fake.reset(max_characters=300)  # (and forgets the requests it received)
    assert adapter.instance_limits().max_characters == 150
    assert instance_requests(fake) == []
    clock.now += timedelta(minutes=2)
    assert adapter.instance_limits().max_characters == 300


def test_stale_cache_outlives_a_failing_instance(fake: FakeMastodon) -> None:
    """A cached value past MAX_AGE is still better than the defaults when the instance fails."""
    cache = MemoryInstanceLimitsCache()
    old = replace(InstanceLimits(max_characters=150, source="v2"), fetched_at=NOW - MAX_AGE * 3)
    cache.save_instance_limits(instance_key(fake.base_url), old)
    fake.reset(instance_status=500)
    assert network(fake, limits_cache=cache).instance_limits().max_characters == 150


def test_failing_cache_is_an_empty_cache(fake: FakeMastodon) -> None:
    """A cache that raises neither fails the read nor hides the instance's answer."""
    fake.reset(max_characters=150)
    assert network(fake, limits_cache=BrokenCache()).instance_limits().max_characters == 150


def test_limits_round_trip_through_json() -> None:
    """to_json / from_json keep every field; anything else reads back as None."""
    limits = InstanceLimits(150, 30, 2, 8_000_000, 1500, ("image/png",), "4.3.0", "v1", NOW)
    back = InstanceLimits.from_json(limits.to_json())
    assert back == limits and back is not None and back.fetched_at == NOW
    assert InstanceLimits.from_json("not json") is None
    assert InstanceLimits.from_json("[1, 2]") is None


# -- verify and publish -----------------------------------------------------------------------
def test_verify_reports_and_caches_fresh_limits(fake: FakeMastodon) -> None:
    """accounts verify reads the limits afresh even when cached, reports and caches them."""
    fake.reset(max_characters=150)
    cache = MemoryInstanceLimitsCache()
    old = replace(InstanceLimits(max_characters=400, source="v2"), fetched_at=NOW)
    cache.save_instance_limits(instance_key(fake.base_url), old)
    info = network(fake, limits_cache=cache).verify()
    assert info.instance_limits is not None
    assert info.instance_limits.max_characters == 150
    assert cache.limits[instance_key(fake.base_url)].max_characters == 150
    assert info.instance_limits.describe() == (
        "150 characters (a URL counts 23), 4 images of up to 16 MB, "
        "alt text up to 1500 characters (/api/v2/instance)"
    )


def test_media_over_the_instance_limits_is_refused_before_upload(
    fake: FakeMastodon, tmp_path: Path
) -> None:
    """Too many images, or one larger than the instance takes: PostRejected, nothing sent."""
    image = tmp_path / "poster.png"
    image.write_bytes(PNG)
    fake.reset(max_media_attachments=1)
    two = (MediaItem(image, "one"), MediaItem(image, "two"))
    with pytest.raises(PostRejected, match="at most 1"):
        network(fake).publish(OutgoingPost("campaign", "Two", "k-2", media=two))
    fake.reset(image_size_limit=10)
    with pytest.raises(PostRejected, match="over 10"):
        network(fake).publish(OutgoingPost("campaign", "Big", "k-3", media=two[:1]))
    assert [r.path for r in fake.server.received if "/media" in r.path] == []
    assert fake.statuses == []
