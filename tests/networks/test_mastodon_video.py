"""Videos and GIFs on Mastodon: the async media endpoint through the real Mastodon.py, against
the fake server (amplifier/testing/fake_mastodon.py), its processing scripted.

POST /api/v2/media answers 202 with no url; GET /api/v1/media/:id is polled, bounded and
stoppable, until the url is set; a processing that fails (422) is a refusal, polled once; a
video goes alone and within the server's own video size; a retry after a failed upload posts
the status once.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from amplifier.errors import PostRejected, TransientError
from amplifier.networks.base import HttpSettings, MediaItem, OutgoingPost
from amplifier.networks.mastodon import MastodonNetwork
from amplifier.testing import images
from amplifier.testing.fake_mastodon import FakeMastodon, FakeMastodonSettings
from amplifier.testing.fakeserver import Fault

TOKEN = "mastodon-video-SECRET-token"


@pytest.fixture(scope="module")
def fake_server() -> Iterator[FakeMastodon]:
    with FakeMastodon(FakeMastodonSettings(token=TOKEN)) as server:
        yield server


@pytest.fixture
def fake(fake_server: FakeMastodon) -> FakeMastodon:
    return fake_server.reset()


@pytest.fixture
def sleeps() -> list[float]:
    return []


def network(fake: FakeMastodon, sleeps: list[float], **kwargs: Any) -> MastodonNetwork:
    options: dict[str, Any] = {
        "instance_url": fake.base_url,
        "access_token": TOKEN,
        "sleep": sleeps.append,
        "http": HttpSettings(connect_timeout=2.0, read_timeout=5.0, media_processing_timeout=10),
    }
    return MastodonNetwork("campaign", **(options | kwargs))


def video_post(*media: MediaItem) -> OutgoingPost:
    return OutgoingPost(account="campaign", text="Watch", idempotency_key="slot-v", media=media)


def clip(tmp_path: Path, name: str = "march.mp4", **kwargs: Any) -> MediaItem:
    data = images.mp4(4, mov=name.endswith(".mov"), **kwargs)
    return MediaItem(images.write(tmp_path / name, data), "Marchers crossing the bridge")


def polls(fake: FakeMastodon) -> list[str]:
    return [r.path for r in fake.server.received if r.path.startswith("/api/v1/media/")]


def test_a_video_is_processed_then_posted(
    fake: FakeMastodon, sleeps: list[float], tmp_path: Path
) -> None:
    """202 with no url, three polls (0.5, 1, 2 s apart), then the status with the video and
    its description; sent as video/mp4, one upload, one status."""
    fake.reset(media_ready_after_polls=3)
    receipt = network(fake, sleeps).publish(video_post(clip(tmp_path)))
    assert sleeps == [0.5, 1.0, 2.0]
    assert len(polls(fake)) == 3
    (media,) = fake.media.values()
    assert (media.content_type, media.kind) == ("video/mp4", "video")
    (status,) = fake.statuses
    assert status.id == receipt.remote_id
    assert status.media_descriptions == ["Marchers crossing the bridge"]
    uploads = [r for r in fake.server.received if r.path == "/api/v2/media"]
    assert len(uploads) == 1


def test_a_gif_and_a_mov_go_through_the_same_wait(
    fake: FakeMastodon, sleeps: list[float], tmp_path: Path
) -> None:
    """An animated GIF (Mastodon plays it as gifv) and a MOV (video/quicktime) are posted."""
    fake.reset(media_ready_after_polls=1)
    gif = MediaItem(images.write(tmp_path / "wave.gif", images.gif(frames=4)), "A waving flag")
    network(fake, sleeps).publish(video_post(gif))
    mov = clip(tmp_path, "clip.mov")
    again = OutgoingPost(account="campaign", text="Again", idempotency_key="slot-w", media=(mov,))
    network(fake, sleeps).publish(again)
    assert [m.kind for m in fake.media.values()] == ["gifv", "video"]
    assert [m.content_type for m in fake.media.values()][1] == "video/quicktime"
    assert len(fake.statuses) == 2


def test_failed_processing_is_a_refusal_polled_once(
    fake: FakeMastodon, sleeps: list[float], tmp_path: Path
) -> None:
    """The server's 422 on the poll: PostRejected with its words, one poll, no status."""
    fake.reset(media_fails=True)
    with pytest.raises(PostRejected) as caught:
        network(fake, sleeps).publish(video_post(clip(tmp_path)))
    assert caught.value.reason == "Error processing thumbnail for uploaded media"
    assert len(polls(fake)) == 1
    assert fake.statuses == []


def test_processing_that_never_ends_stops_at_the_bound(
    fake: FakeMastodon, sleeps: list[float], tmp_path: Path
) -> None:
    """Never ready: the pauses add up to the bound, then a TransientError that cannot have
    posted (the status was never sent)."""
    fake.reset(media_ready_after_polls=10**6)
    with pytest.raises(TransientError) as caught:
        network(fake, sleeps).publish(video_post(clip(tmp_path)))
    assert caught.value.ambiguous is False
    assert sum(sleeps) == pytest.approx(10.0)
    assert fake.statuses == []


def test_a_shutdown_ends_the_wait_at_once(fake: FakeMastodon, tmp_path: Path) -> None:
    """The worker's stop event set during the first pause: no poll after it, no status."""
    stop = threading.Event()

    def wait(seconds: float) -> bool:
        stop.set()
        return stop.wait(seconds)

    fake.reset(media_ready_after_polls=10**6)
    with pytest.raises(TransientError, match="when the worker stopped"):
        network(fake, [], sleep=wait, stop=stop).publish(video_post(clip(tmp_path)))
    assert polls(fake) == []
    assert fake.statuses == []


def test_the_servers_video_limit_and_a_video_beside_an_image_refuse_before_upload(
    fake: FakeMastodon, sleeps: list[float], tmp_path: Path
) -> None:
    """The server publishes video_size_limit; a bigger video, or a video with an image, is
    refused before any upload."""
    fake.reset(video_size_limit=2000)
    big = clip(tmp_path, "big.mp4", size=5000)
    with pytest.raises(PostRejected, match="5000 bytes, over 2000"):
        network(fake, sleeps).publish(video_post(big))
    picture = MediaItem(images.write(tmp_path / "p.png", images.png()), "A poster")
    with pytest.raises(PostRejected, match="a video goes alone"):
        network(fake, sleeps).publish(video_post(picture, clip(tmp_path)))
    assert not [r for r in fake.server.received if r.path == "/api/v2/media"]


def test_a_failed_upload_then_a_retry_posts_once(
    fake: FakeMastodon, sleeps: list[float], tmp_path: Path
) -> None:
    """A 503 on the upload: not ambiguous, nothing posted; the retry posts the status once."""
    fake.reset(media_ready_after_polls=1)
    fake.add_fault(Fault(path_prefix="/api/v2/media", status=503))
    adapter = network(fake, sleeps)
    with pytest.raises(TransientError) as caught:
        adapter.publish(video_post(clip(tmp_path)))
    assert caught.value.ambiguous is False
    assert fake.statuses == []
    adapter.publish(video_post(clip(tmp_path)))
    assert len(fake.statuses) == 1
