"""Videos and GIFs on X: the v2 chunked upload through tweepy's own signed session, against
the fake X (amplifier/testing/fake_x_media.py), with X's processing states scripted.

Each part goes once, in order; finalize once; the processing state is looked at as often as X
asks (``check_after_secs``, capped) and never longer than the bound; a failed processing is a
refusal, a processing that outlasts the bound (or a shutdown) a retry that creates the post once.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from amplifier.delivery.retry import RetryPolicy, publish_with_retries
from amplifier.errors import MediaNotReady, PostRejected, TransientError
from amplifier.networks.base import HttpSettings, MediaItem, OutgoingPost
from amplifier.networks.x import XNetwork
from amplifier.networks.x_media import CHUNK_BYTES, MAX_CHECK_AFTER
from amplifier.testing import images
from amplifier.testing.fake_x import FakeX, make_fake_x
from amplifier.testing.fake_x_media import ProcessingScript
from amplifier.testing.fakeserver import Fault

MB = 1024 * 1024
BOUND = 5.0  # media_processing_timeout in these tests


@pytest.fixture(scope="module")
def fake_server() -> Iterator[FakeX]:
    with make_fake_x() as server:
        yield server


@pytest.fixture
def fake(fake_server: FakeX) -> FakeX:
    fake_server.reset()
    return fake_server


@pytest.fixture
def sleeps() -> list[float]:
    return []


def network(fake: FakeX, sleeps: list[float], **kwargs: Any) -> XNetwork:
    options: dict[str, Any] = {
        "consumer_key": "ck-public",
        "consumer_secret": "cs-secret-value",
        "access_token": "at-public",
        "access_token_secret": "ats-secret-value",
        "api_base": fake.base_url,
        "http": HttpSettings(connect_timeout=2.0, read_timeout=5.0, media_processing_timeout=BOUND),
        "sleep": sleeps.append,
    }
    return XNetwork("campaign-x", **(options | kwargs))


def video_post(path: Path, alt: str = "Marchers crossing the bridge") -> OutgoingPost:
    media = (MediaItem(path, alt),)
    return OutgoingPost(account="campaign-x", text="Watch", idempotency_key="k", media=media)


def paths(fake: FakeX) -> list[str]:
    return [r.path.split("?")[0] for r in fake.received]


def test_a_video_goes_in_parts_in_order_then_is_processed_and_posted(
    fake: FakeX, sleeps: list[float], tmp_path: Path
) -> None:
    """A 9 MB video: initialize, three parts (0, 1, 2) each once, finalize once, two looks at
    the state as X asks (1 s each), the alt text, then the post carrying it."""
    data = images.mp4(12, size=9 * MB)
    path = images.write(tmp_path / "march.mp4", data)
    fake.chunked.script = ProcessingScript(polls=2, check_after_secs=1)
    receipt = network(fake, sleeps).publish(video_post(path))
    (upload,) = fake.chunked.uploads.values()
    assert upload.segments == [0, 1, 2]
    assert bytes(upload.content) == data
    assert len(data) > 2 * CHUNK_BYTES
    assert (upload.finalized, upload.polls) == (1, 2)
    assert sleeps == [1.0, 1.0]
    base = f"/2/media/upload/{upload.media.id}"
    assert paths(fake) == [
        "/2/media/upload/initialize",
        *[f"{base}/append"] * 3,
        f"{base}/finalize",
        "/2/media/upload",
        "/2/media/upload",
        "/2/media/metadata",
        "/2/tweets",
    ]
    (tweet,) = fake.posts
    assert tweet.id == receipt.remote_id
    assert tweet.media_ids == [upload.media.id]
    assert tweet.alt_texts == ["Marchers crossing the bridge"]
    assert (upload.media.category, upload.media.media_type) == ("tweet_video", "video/mp4")
    signed = [r for r in fake.received if r.path.startswith("/2/media/upload")]
    assert all((r.header("Authorization") or "").startswith("OAuth ") for r in signed)


def test_a_gif_goes_as_tweet_gif_and_a_mov_as_quicktime(
    fake: FakeX, sleeps: list[float], tmp_path: Path
) -> None:
    """An animated GIF takes the chunked flow as tweet_gif; a MOV is sent as video/quicktime."""
    fake.chunked.script = ProcessingScript(polls=0)  # ready at finalize: no look, no pause
    gif = images.write(tmp_path / "wave.gif", images.gif(40, 40, frames=5))
    network(fake, sleeps).publish(video_post(gif, "A waving flag"))
    mov = images.write(tmp_path / "clip.mov", images.mp4(3, mov=True))
    network(fake, sleeps).publish(
        OutgoingPost(account="campaign-x", text="Again", idempotency_key="k2",
                     media=(MediaItem(mov, "A clip"),))
    )  # fmt: skip
    kinds = [(u.media.category, u.media.media_type) for u in fake.chunked.uploads.values()]
    assert kinds == [("tweet_gif", "image/gif"), ("tweet_video", "video/quicktime")]
    assert [t.alt_texts for t in fake.posts] == [["A waving flag"], ["A clip"]]
    assert sleeps == []


def test_failed_processing_is_a_refusal_and_posts_nothing(
    fake: FakeX, sleeps: list[float], tmp_path: Path
) -> None:
    """X says the processing failed: PostRejected with X's words, finalized once, no post."""
    fake.chunked.script = ProcessingScript(polls=1, fail=True)
    path = images.write(tmp_path / "broken.mp4", images.mp4(3))
    with pytest.raises(PostRejected) as caught:
        network(fake, sleeps).publish(video_post(path))
    assert "X could not process it: Invalid or Unsupported media" in caught.value.reason
    (upload,) = fake.chunked.uploads.values()
    assert (upload.finalized, upload.polls) == (1, 1)
    assert fake.posts == []
    assert "/2/media/metadata" not in paths(fake)


def test_processing_that_never_ends_stops_at_the_bound(
    fake: FakeX, sleeps: list[float], tmp_path: Path
) -> None:
    """X keeps answering in_progress and asks for 60 s each time: the pauses are capped at
    MAX_CHECK_AFTER and add up to the bound, then a TransientError that cannot have posted."""
    fake.chunked.script = ProcessingScript(never=True, check_after_secs=60)
    path = images.write(tmp_path / "long.mp4", images.mp4(3))
    http = HttpSettings(connect_timeout=2.0, read_timeout=5.0, media_processing_timeout=25)
    with pytest.raises(TransientError) as caught:
        network(fake, sleeps, http=http).publish(video_post(path))
    assert caught.value.ambiguous is False
    assert "still processing after 25 s" in str(caught.value)
    assert sleeps == [MAX_CHECK_AFTER, MAX_CHECK_AFTER, 5.0]
    (upload,) = fake.chunked.uploads.values()
    assert upload.polls == 3  # a look after each pause
    assert fake.posts == []


def test_a_shutdown_ends_the_wait_at_once(fake: FakeX, tmp_path: Path) -> None:
    """The worker's stop event set during the wait: no further look, TransientError (the
    delivery hands the post back), no post."""
    stop = threading.Event()
    waits: list[float] = []

    def wait(seconds: float) -> bool:
        waits.append(seconds)
        stop.set()  # SIGTERM arrives during the first pause
        return stop.wait(seconds)

    fake.chunked.script = ProcessingScript(never=True, check_after_secs=5)
    path = images.write(tmp_path / "clip.mp4", images.mp4(3))
    with pytest.raises(TransientError, match="when the worker stopped"):
        network(fake, [], sleep=wait, stop=stop).publish(video_post(path))
    assert waits == [5.0]
    (upload,) = fake.chunked.uploads.values()
    assert upload.polls == 0
    assert fake.posts == []


def test_a_failed_part_then_a_retry_posts_once(
    fake: FakeX, sleeps: list[float], tmp_path: Path
) -> None:
    """A 503 on a part: not ambiguous (no post was attempted); the retry uploads afresh and
    creates the post exactly once."""
    fake.chunked.script = ProcessingScript(polls=1)
    fake.add_fault(Fault(path_prefix="/2/media/upload/", status=503))
    path = images.write(tmp_path / "clip.mp4", images.mp4(3))
    x = network(fake, sleeps)
    with pytest.raises(TransientError) as caught:
        x.publish(video_post(path))
    assert caught.value.ambiguous is False
    assert fake.posts == []
    x.publish(video_post(path))
    assert len(fake.posts) == 1


def test_a_video_beside_an_image_is_refused_before_any_request(
    fake: FakeX, sleeps: list[float], tmp_path: Path
) -> None:
    """X takes a video alone: refused before anything is sent."""
    video = MediaItem(images.write(tmp_path / "clip.mp4", images.mp4(3)), "A clip")
    picture = MediaItem(images.write(tmp_path / "p.png", images.png()), "A poster")
    post = OutgoingPost(account="campaign-x", text="Both", idempotency_key="k",
                        media=(picture, video))  # fmt: skip
    with pytest.raises(PostRejected, match="alone"):
        network(fake, sleeps).publish(post)
    assert fake.received == []


def test_unfinished_processing_is_deferred_not_retried_in_the_same_run(
    fake: FakeX, sleeps: list[float], tmp_path: Path
) -> None:
    """Through the delivery's retry policy: MediaNotReady comes back after one attempt (one
    upload, one wait), not after four uploads and four waits in the same pass."""
    fake.chunked.script = ProcessingScript(never=True, check_after_secs=1)
    path = images.write(tmp_path / "slow.mp4", images.mp4(3))
    retry_waits: list[float] = []
    with pytest.raises(MediaNotReady):
        publish_with_retries(
            network(fake, sleeps), video_post(path), RetryPolicy(), sleep=retry_waits.append
        )
    assert len(fake.chunked.uploads) == 1
    assert retry_waits == []
    assert fake.posts == []
