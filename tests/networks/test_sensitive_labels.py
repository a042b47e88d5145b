"""A post marked sensitive, through the real SDKs: Mastodon's ``sensitive`` flag on the
status (Mastodon.py against the fake Mastodon), Bluesky's ``graphic-media`` self-label on the
record (atproto against the fake PDS); a post not marked carries neither."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from amplifier.networks.base import HttpSettings, MediaItem, MemorySessionStore, OutgoingPost
from amplifier.networks.bluesky import BlueskyNetwork
from amplifier.networks.mastodon import MastodonNetwork
from amplifier.testing import images
from amplifier.testing.fake_bluesky import FakeBluesky
from amplifier.testing.fake_mastodon import FakeMastodon, FakeMastodonSettings

TOKEN = "mastodon-token-labels"


def _post(sensitive: bool, media: tuple[MediaItem, ...] = ()) -> OutgoingPost:
    return OutgoingPost("acct", "Seven children died in custody", uuid.uuid4().hex, media=media,
                        sensitive=sensitive)  # fmt: skip


@pytest.fixture
def bluesky() -> Iterator[tuple[FakeBluesky, BlueskyNetwork]]:
    with FakeBluesky(handle="labels.test", password="pw") as fake:
        net = BlueskyNetwork("acct", handle="labels.test", app_password="pw",
                             sessions=MemorySessionStore(), service_url=fake.base_url)  # fmt: skip
        yield fake, net
        net.close()


def test_bluesky_sensitive_post_carries_the_graphic_media_self_label(
    bluesky: tuple[FakeBluesky, BlueskyNetwork], tmp_path: Path
) -> None:
    """The record's labels are com.atproto.label.defs#selfLabels with graphic-media."""
    fake, net = bluesky
    photo = images.write(tmp_path / "a.png", images.png())
    net.publish(_post(True, (MediaItem(photo, "a cell"),)))
    net.publish(_post(False))
    marked, plain = fake.records
    labels = marked.value["labels"]
    assert labels["$type"] == "com.atproto.label.defs#selfLabels"
    assert [value["val"] for value in labels["values"]] == ["graphic-media"]
    assert "labels" not in plain.value


def test_mastodon_sensitive_post_marks_its_media(tmp_path: Path) -> None:
    """The status is posted with sensitive=true; an unmarked one without."""
    settings = FakeMastodonSettings(token=TOKEN)
    with FakeMastodon(settings) as fake:
        net = MastodonNetwork(
            "acct", instance_url=fake.base_url, access_token=TOKEN, sleep=lambda s: None,
            http=HttpSettings(connect_timeout=2.0, read_timeout=2.0, media_processing_timeout=5),
        )  # fmt: skip
        photo = images.write(tmp_path / "a.png", images.png())
        net.publish(_post(True, (MediaItem(photo, "a cell"),)))
        net.publish(_post(False))
    marked, plain = fake.statuses
    assert (marked.sensitive, plain.sensitive) == (True, False)
