"""A link card on Bluesky: the thumbnail uploaded as a blob and the post embedding it as
``app.bsky.embed.external``, through the real atproto client against the fake PDS."""

from __future__ import annotations

import logging
import uuid
from pathlib import Path

import pytest

from amplifier.networks.base import LinkCard, MediaItem, OutgoingPost
from amplifier.networks.bluesky import BlueskyNetwork
from amplifier.testing import images
from amplifier.testing.fake_bluesky import FakeBluesky

LINK = "https://petition.example/sign"
CARD = LinkCard(
    LINK, "Sign the petition", "Families belong together", b"\xff\xd8jpeg", "image/jpeg"
)


def _post(card: LinkCard | None, media: tuple[MediaItem, ...] = ()) -> OutgoingPost:
    key = uuid.uuid4().hex
    return OutgoingPost("sky", f"Sign now {LINK}", key, link=LINK, media=media, card=card)


def test_card_is_embedded_with_its_thumbnail(pds: FakeBluesky, sky: BlueskyNetwork) -> None:
    """The card's texts and link go in the embed; its thumbnail is an uploaded blob."""
    sky.publish(_post(CARD))
    [record] = pds.records
    embed = record.value["embed"]
    assert embed["$type"] == "app.bsky.embed.external"
    external = embed["external"]
    assert (external["uri"], external["title"], external["description"]) == (
        LINK, "Sign the petition", "Families belong together",
    )  # fmt: skip
    assert pds.blobs[external["thumb"]["ref"]["$link"]] == ("image/jpeg", CARD.thumb)
    assert record.value["text"] == f"Sign now {LINK}"  # the link stays a facet in the text


def test_card_without_thumbnail_and_images_take_precedence(
    pds: FakeBluesky, sky: BlueskyNetwork, tmp_path: Path
) -> None:
    """A card with no image has no thumb; a post with images embeds its images, not the card."""
    sky.publish(_post(LinkCard(LINK, "T", "")))
    assert "thumb" not in pds.records[0].value["embed"]["external"]
    assert pds.blobs == {}
    photo = images.write(tmp_path / "a.png", images.png())
    sky.publish(_post(CARD, (MediaItem(photo, "alt"),)))
    assert pds.records[1].value["embed"]["$type"] == "app.bsky.embed.images"


def test_a_thumbnail_the_pds_refuses_leaves_a_card_without_image(
    pds: FakeBluesky, sky: BlueskyNetwork, caplog: pytest.LogCaptureFixture
) -> None:
    """A thumbnail refused by uploadBlob (too large) is logged; the post goes with the card."""
    huge = LinkCard(LINK, "T", "D", b"\xff" * 2_000_000, "image/jpeg")
    with caplog.at_level(logging.WARNING):
        sky.publish(_post(huge))
    [record] = pds.records
    assert record.value["embed"]["external"]["title"] == "T"
    assert "thumb" not in record.value["embed"]["external"]
    assert "card-thumb-refused" in caplog.text


def test_the_fake_checks_the_card_as_the_pds_does(pds: FakeBluesky) -> None:
    """The fake refuses a thumb never uploaded, one that is not an image, and a card missing
    its texts, so the tests above can fail."""
    pds.blobs["bafkreitext"] = ("text/plain", b"x")

    def card(**external: object) -> dict[str, object]:
        embed = {"$type": "app.bsky.embed.external", "external": external}
        return {"text": "x", "createdAt": "2026-01-01T00:00:00Z", "embed": embed}

    def thumb(link: str) -> dict[str, object]:
        return {"$type": "blob", "ref": {"$link": link}, "mimeType": "image/jpeg", "size": 1}

    base = {"uri": LINK, "title": "T", "description": ""}
    assert pds._post_problem(card(**base)) is None
    assert pds._post_problem(card(**base, thumb=thumb("bafkreinone"))) == "Could not find blob"
    assert "must be an image" in (pds._post_problem(card(**base, thumb=thumb("bafkreitext"))) or "")
    assert "uri, title and description" in (pds._post_problem(card(uri=LINK)) or "")
