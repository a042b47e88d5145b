"""A link card and a self-label on a real PDS (npm @atproto/pds): the card made from a local
Open Graph page, its thumbnail uploaded as a blob, the post's record embedding both and
labelled graphic-media (a post marked sensitive), read back from the PDS."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest

from amplifier.cards import make_card
from amplifier.networks.base import HttpSettings, MemorySessionStore, OutgoingPost
from amplifier.networks.bluesky import BlueskyNetwork
from amplifier.testing.fake_pages import LOOPBACK, FakePages, og_page

from .conftest import LocalPds
from .images import png


@pytest.fixture
def pages() -> Iterator[FakePages]:
    with FakePages() as server:
        yield server


def test_card_and_label_are_a_record_with_its_thumbnail_blob(
    local_pds: LocalPds, pages: FakePages
) -> None:
    """The PDS accepts the app.bsky.embed.external record (its lexicon checked) and serves the
    thumbnail we re-encoded as a JPEG."""
    account = local_pds.create_account(f"cards{uuid.uuid4().hex[:6]}")
    image = pages.image("/card.png", png(64, 32))
    link = pages.page("/sign", og_page("Sign the petition", "Keep families together", image))
    card = make_card(link, LOOPBACK)
    assert card.thumb
    net = BlueskyNetwork(
        "cards", handle=account.handle, app_password=account.app_password,
        sessions=MemorySessionStore(), service_url=local_pds.url,
        http=HttpSettings(connect_timeout=5.0, read_timeout=20.0),
    )  # fmt: skip
    try:
        text = f"Sign the petition: {link}"
        receipt = net.publish(
            OutgoingPost(
                "cards",
                text,
                uuid.uuid4().hex,
                link=link,
                card=card,
                sensitive=True,
                due_at=datetime.now(UTC),
            )
        )
    finally:
        net.close()
    repo, collection, rkey = receipt.remote_id.removeprefix("at://").split("/")
    params = {"repo": repo, "collection": collection, "rkey": rkey}
    answer = httpx.get(f"{local_pds.url}/xrpc/com.atproto.repo.getRecord", params=params,
                       timeout=10.0)  # fmt: skip
    assert answer.status_code == 200, answer.text
    value = answer.json()["value"]
    assert [label["val"] for label in value["labels"]["values"]] == ["graphic-media"]
    embed = value["embed"]
    assert embed["$type"] == "app.bsky.embed.external"
    external = embed["external"]
    assert (external["uri"], external["title"], external["description"]) == (
        link, "Sign the petition", "Keep families together",
    )  # fmt: skip
    thumb = external["thumb"]
    assert thumb["mimeType"] == "image/jpeg" and thumb["size"] == len(card.thumb)
    served = httpx.get(
        f"{local_pds.url}/xrpc/com.atproto.sync.getBlob",
        params={"did": repo, "cid": thumb["ref"]["$link"]},
        timeout=10.0,
    )
    assert served.status_code == 200 and served.content == card.thumb


def test_gates_are_written_with_the_post(local_pds: LocalPds) -> None:
    """The real PDS takes the post, its threadgate (nobody may reply) and its postgate (quotes
    off) in one applyWrites commit, all three under the post's record key."""
    account = local_pds.create_account(f"gates{uuid.uuid4().hex[:6]}")
    net = BlueskyNetwork(
        "gates", handle=account.handle, app_password=account.app_password,
        sessions=MemorySessionStore(), service_url=local_pds.url,
        http=HttpSettings(connect_timeout=5.0, read_timeout=20.0),
    )  # fmt: skip
    try:
        receipt = net.publish(
            OutgoingPost(
                "gates",
                "No replies here",
                uuid.uuid4().hex,
                replies="nobody",
                quotes=False,
                due_at=datetime.now(UTC),
            )
        )
    finally:
        net.close()
    repo, _, rkey = receipt.remote_id.removeprefix("at://").split("/")
    values = {}
    for collection in ("app.bsky.feed.post", "app.bsky.feed.threadgate", "app.bsky.feed.postgate"):
        params = {"repo": repo, "collection": collection, "rkey": rkey}
        answer = httpx.get(f"{local_pds.url}/xrpc/com.atproto.repo.getRecord", params=params,
                           timeout=10.0)  # fmt: skip
        assert answer.status_code == 200, answer.text
        values[collection] = answer.json()["value"]
    assert values["app.bsky.feed.threadgate"]["allow"] == []
    assert values["app.bsky.feed.threadgate"]["post"] == receipt.remote_id
    rules = values["app.bsky.feed.postgate"]["embeddingRules"]
    assert rules == [{"$type": "app.bsky.feed.postgate#disableRule"}]
