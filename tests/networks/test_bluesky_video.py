"""A video on Bluesky: the MP4 uploaded to the PDS as a blob and embedded as
``app.bsky.embed.video`` with its alt text, through the real atproto client against the fake
PDS; what Bluesky would refuse is refused before any request."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from amplifier.errors import PostRejected, RateLimited
from amplifier.networks.base import MediaItem, OutgoingPost
from amplifier.networks.bluesky import BlueskyNetwork
from amplifier.testing import images
from amplifier.testing.fake_bluesky import FakeBluesky
from amplifier.testing.fakeserver import Fault

CREATE = "/xrpc/com.atproto.repo.createRecord"


def _post(*media: MediaItem) -> OutgoingPost:
    return OutgoingPost("sky", "Families marched today.", uuid.uuid4().hex, media=media)


def test_a_video_is_a_blob_embedded_with_its_alt_text(
    pds: FakeBluesky, sky: BlueskyNetwork, tmp_path: Path
) -> None:
    data = images.mp4(4, size=1_500_000, width=1920, height=1080, quarter_turn=True)
    clip = images.write(tmp_path / "march.mp4", data)
    sky.publish(_post(MediaItem(clip, "Families marching to the courthouse")))
    [record] = pds.records
    embed = record.value["embed"]
    assert embed["$type"] == "app.bsky.embed.video"
    assert embed["alt"] == "Families marching to the courthouse"
    assert embed["video"]["mimeType"] == "video/mp4"
    shape = embed["aspectRatio"]
    assert (shape["width"], shape["height"]) == (1080, 1920)  # a phone's portrait video
    assert pds.blobs[embed["video"]["ref"]["$link"]] == ("video/mp4", clip.read_bytes())


@pytest.mark.parametrize(
    ("names", "words"),
    [
        (["march.mp4", "poster.png"], "takes a video alone"),
        (["march.mov"], "MP4 videos only"),
    ],
)
def test_what_bluesky_refuses_is_refused_before_any_request(
    pds: FakeBluesky, sky: BlueskyNetwork, tmp_path: Path, names: list[str], words: str
) -> None:
    media = []
    for name in names:
        data = images.png() if name.endswith(".png") else images.mp4(3, mov=name.endswith("mov"))
        media.append(MediaItem(images.write(tmp_path / name, data), "alt"))
    with pytest.raises(PostRejected, match=words):
        sky.publish(_post(*media))
    assert pds.server.received == [] and pds.records == []


def test_a_retry_and_a_later_post_use_the_uploaded_file_again(
    pds: FakeBluesky, sky: BlueskyNetwork, tmp_path: Path
) -> None:
    """An attempt refused after its upload (rate limited), retried soon after, uploads
    nothing again; a later post with the same image embeds the blob the first post holds;
    another image is an upload of its own."""
    poster = MediaItem(images.write(tmp_path / "poster.png", images.png(16, 16)), "A poster")
    pds.server.add_fault(Fault(path_prefix=CREATE, status=429, body={"error": "RateLimitExceeded"}))
    post = _post(poster)
    with pytest.raises(RateLimited):
        sky.publish(post)
    sky.publish(post)
    sky.publish(_post(poster))
    other = MediaItem(images.write(tmp_path / "other.png", images.png(17, 16)), "Another")
    sky.publish(_post(other))
    uploads = [r for r in pds.server.received if r.path == "/xrpc/com.atproto.repo.uploadBlob"]
    assert len(uploads) == 2 and len(pds.records) == 3
    refs = [r.value["embed"]["images"][0]["image"]["ref"]["$link"] for r in pds.records]
    assert refs[0] == refs[1] != refs[2]
