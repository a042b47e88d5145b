"""A video on Bluesky: the MP4 uploaded to the PDS as a blob and embedded as
``app.bsky.embed.video`` with its alt text, through the real atproto client against the fake
PDS; what Bluesky would refuse is refused before any request."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from amplifier.errors import PostRejected
from amplifier.networks.base import MediaItem, MemorySessionStore, OutgoingPost
from amplifier.networks.bluesky import BlueskyNetwork
from amplifier.testing import images
from amplifier.testing.fake_bluesky import FakeBluesky

HANDLE, PASSWORD = "families.test", "app-pw-video"


@pytest.fixture
def fake() -> Iterator[FakeBluesky]:
    with FakeBluesky(handle=HANDLE, password=PASSWORD) as server:
        yield server


@pytest.fixture
def net(fake: FakeBluesky) -> Iterator[BlueskyNetwork]:
    network = BlueskyNetwork(
        "sky", handle=HANDLE, app_password=PASSWORD, sessions=MemorySessionStore(),
        service_url=fake.base_url,
    )  # fmt: skip
    yield network
    network.close()


def _post(*media: MediaItem) -> OutgoingPost:
    return OutgoingPost("sky", "Families marched today.", uuid.uuid4().hex, media=media)


def test_a_video_is_a_blob_embedded_with_its_alt_text(
    fake: FakeBluesky, net: BlueskyNetwork, tmp_path: Path
) -> None:
    clip = images.write(tmp_path / "march.mp4", images.mp4(4, size=1_500_000))
    net.publish(_post(MediaItem(clip, "Families marching to the courthouse")))
    [record] = fake.records
    embed = record.value["embed"]
    assert embed["$type"] == "app.bsky.embed.video"
    assert embed["alt"] == "Families marching to the courthouse"
    assert embed["video"]["mimeType"] == "video/mp4"
    assert fake.blobs[embed["video"]["ref"]["$link"]] == ("video/mp4", clip.read_bytes())


@pytest.mark.parametrize(
    ("names", "words"),
    [
        (["march.mp4", "poster.png"], "takes a video alone"),
        (["march.mov"], "MP4 videos only"),
    ],
)
def test_what_bluesky_refuses_is_refused_before_any_request(
    fake: FakeBluesky, net: BlueskyNetwork, tmp_path: Path, names: list[str], words: str
) -> None:
    media = []
    for name in names:
        data = images.png() if name.endswith(".png") else images.mp4(3, mov=name.endswith("mov"))
        media.append(MediaItem(images.write(tmp_path / name, data), "alt"))
    with pytest.raises(PostRejected, match=words):
        net.publish(_post(*media))
    assert fake.server.received == [] and fake.records == []
