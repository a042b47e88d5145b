"""A card's thumbnail goes up once, ahead of the slot, and is used again while the PDS keeps it;
one the PDS no longer holds is uploaded again and the post still made once. Through the real
atproto client against the fake PDS, whose ``collect_blobs`` deletes what no record holds,
as the PDS does with uploads left unreferenced."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from amplifier.networks.base import LinkCard, MemorySessionStore, OutgoingPost, StagesCards
from amplifier.networks.bluesky import BlueskyNetwork
from amplifier.networks.bluesky_blobs import STAGED_FOR
from amplifier.testing.fake_bluesky import FakeBluesky

HANDLE, PASSWORD = "families.test", "app-pw-thumbs"
LINK = "https://petition.example/sign"
CARD = LinkCard(LINK, "Sign the petition", "Families belong together", b"\xff\xd8one", "image/jpeg")


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def fake() -> Iterator[FakeBluesky]:
    with FakeBluesky(handle=HANDLE, password=PASSWORD) as server:
        yield server


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def net(fake: FakeBluesky, clock: Clock) -> Iterator[BlueskyNetwork]:
    network = BlueskyNetwork(
        "sky", handle=HANDLE, app_password=PASSWORD, sessions=MemorySessionStore(),
        service_url=fake.base_url, clock=clock,
    )  # fmt: skip
    yield network
    network.close()


def _post(card: LinkCard) -> OutgoingPost:
    return OutgoingPost("sky", f"Sign now {LINK}", uuid.uuid4().hex, link=LINK, card=card)


def _calls(fake: FakeBluesky, nsid: str) -> int:
    return sum(1 for r in fake.server.received if r.path == f"/xrpc/{nsid}")


def _thumb(fake: FakeBluesky, index: int) -> str:
    return str(fake.records[index].value["embed"]["external"]["thumb"]["ref"]["$link"])


def test_a_staged_thumbnail_is_not_uploaded_at_the_slot(
    fake: FakeBluesky, net: BlueskyNetwork
) -> None:
    assert isinstance(net, StagesCards)
    assert net.stage_card(CARD) is True
    assert _calls(fake, "com.atproto.repo.uploadBlob") == 1
    assert net.stage_card(CARD) is False  # kept: staging again sends nothing
    net.publish(_post(CARD))
    assert _calls(fake, "com.atproto.repo.uploadBlob") == 1
    assert fake.blobs[_thumb(fake, 0)] == ("image/jpeg", CARD.thumb)


def test_a_thumbnail_a_post_holds_is_used_again_for_later_posts(
    fake: FakeBluesky, net: BlueskyNetwork, clock: Clock
) -> None:
    """Once a post carries it the PDS keeps it: later posts with that image embed it as it
    is, however much later; another image is its own upload."""
    net.publish(_post(CARD))
    clock.now += timedelta(days=3)
    net.publish(_post(CARD))
    other = LinkCard(LINK, "T", "D", b"\xff\xd8two", "image/jpeg")
    net.publish(_post(other))
    assert _calls(fake, "com.atproto.repo.uploadBlob") == 2
    assert _thumb(fake, 0) == _thumb(fake, 1) != _thumb(fake, 2)


def test_a_thumbnail_staged_too_long_ago_is_uploaded_again(
    fake: FakeBluesky, net: BlueskyNetwork, clock: Clock
) -> None:
    net.stage_card(CARD)
    clock.now += STAGED_FOR + timedelta(seconds=1)
    net.publish(_post(CARD))
    assert _calls(fake, "com.atproto.repo.uploadBlob") == 2
    assert len(fake.records) == 1


@pytest.mark.parametrize("how", ["staged", "held by a deleted post"])
def test_a_thumbnail_the_pds_lost_is_uploaded_again_and_the_post_made_once(
    fake: FakeBluesky, net: BlueskyNetwork, caplog: pytest.LogCaptureFixture, how: str
) -> None:
    """The PDS deleted the blob (an upload left unreferenced, or the only post holding it
    deleted): createRecord is refused, the thumbnail uploaded again, and one post made."""
    if how == "staged":
        net.stage_card(CARD)
    else:
        net.publish(_post(CARD))
        fake.records.clear()  # the post deleted
    assert fake.collect_blobs()
    created_before = _calls(fake, "com.atproto.repo.createRecord")
    with caplog.at_level(logging.WARNING):
        net.publish(_post(CARD))
    assert _calls(fake, "com.atproto.repo.createRecord") - created_before == 2  # refused, made
    assert _calls(fake, "com.atproto.repo.uploadBlob") == 2
    [record] = fake.records
    assert record.value["embed"]["external"]["thumb"]["ref"]["$link"] in fake.blobs
    assert "event=blob-gone" in caplog.text
