"""On a real PDS (npm @atproto/pds): a card's thumbnail staged ahead of the slot is the blob the
post embeds, uploaded once for every post with that image; one the PDS deleted (its only post
deleted) is uploaded again and the post made once; and a video is an app.bsky.embed.video
record whose blob the PDS serves back."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from atproto_client import Client

from amplifier.networks.base import (
    HttpSettings,
    LinkCard,
    MediaItem,
    MemorySessionStore,
    OutgoingPost,
)
from amplifier.networks.bluesky import BlueskyNetwork
from amplifier.testing import images

from .conftest import LocalPds, PdsAccount

LINK = "https://petition.example/sign"
UPLOADS = "/xrpc/com.atproto.repo.uploadBlob"


@pytest.fixture
def account(local_pds: LocalPds) -> PdsAccount:
    return local_pds.create_account(f"media{uuid.uuid4().hex[:6]}")


@pytest.fixture
def net(local_pds: LocalPds, account: PdsAccount) -> Iterator[BlueskyNetwork]:
    network = BlueskyNetwork(
        "media", handle=account.handle, app_password=account.app_password,
        sessions=MemorySessionStore(), service_url=local_pds.url,
        http=HttpSettings(connect_timeout=5.0, read_timeout=20.0),
    )  # fmt: skip
    yield network
    network.close()


def _post(text: str, card: LinkCard | None = None, *media: MediaItem) -> OutgoingPost:
    return OutgoingPost("media", text, uuid.uuid4().hex, link=LINK if card else None, card=card,
                        media=media, due_at=datetime.now(UTC))  # fmt: skip


def _record(local_pds: LocalPds, uri: str) -> Any:
    repo, collection, rkey = uri.removeprefix("at://").split("/")
    params = {"repo": repo, "collection": collection, "rkey": rkey}
    answer = httpx.get(f"{local_pds.url}/xrpc/com.atproto.repo.getRecord", params=params,
                       timeout=10.0)  # fmt: skip
    assert answer.status_code == 200, answer.text
    return answer.json()["value"]


def _blob(local_pds: LocalPds, did: str, ref: Any) -> bytes:
    link = ref["ref"]["$link"]
    served = httpx.get(f"{local_pds.url}/xrpc/com.atproto.sync.getBlob",
                       params={"did": did, "cid": link}, timeout=10.0)  # fmt: skip
    assert served.status_code == 200, served.text
    return served.content


def test_a_staged_thumbnail_is_uploaded_once_and_one_the_pds_deleted_again(
    local_pds: LocalPds, account: PdsAccount, net: BlueskyNetwork
) -> None:
    card = LinkCard(LINK, "Sign the petition", "Keep families together", images.jpeg(64, 32),
                    "image/jpeg")  # fmt: skip
    before = local_pds.requests_logged(UPLOADS)
    assert net.stage_card(card)
    first = net.publish(_post(f"Sign now {LINK}", card))
    second = net.publish(_post(f"Sign today {LINK}", card))
    assert local_pds.requests_logged(UPLOADS) - before == 1  # staged once, held by both posts
    for receipt in (first, second):
        thumb = _record(local_pds, receipt.remote_id)["embed"]["external"]["thumb"]
        assert _blob(local_pds, account.did, thumb) == card.thumb
    # Both posts deleted: the PDS deletes the blob no record holds any more.
    client = Client(base_url=local_pds.url)
    client.login(account.handle, account.app_password, fetch_bsky_profile=False)
    for receipt in (first, second):
        rkey = receipt.remote_id.rsplit("/", 1)[-1]
        client.com.atproto.repo.delete_record(
            {"repo": account.did, "collection": "app.bsky.feed.post", "rkey": rkey}
        )
    refused_before = local_pds.requests_logged("/xrpc/com.atproto.repo.createRecord", 400)
    third = net.publish(_post(f"Sign this week {LINK}", card))
    refused = local_pds.requests_logged("/xrpc/com.atproto.repo.createRecord", 400)
    assert refused - refused_before == 1  # the held blob was gone: refused once, then made
    assert local_pds.requests_logged(UPLOADS) - before == 2
    thumb = _record(local_pds, third.remote_id)["embed"]["external"]["thumb"]
    assert _blob(local_pds, account.did, thumb) == card.thumb


def test_a_video_is_an_embed_video_record_with_its_blob(
    local_pds: LocalPds, account: PdsAccount, net: BlueskyNetwork, tmp_path: Path
) -> None:
    clip = images.write(tmp_path / "march.mp4", images.mp4(3, width=1280, height=720))
    video = MediaItem(clip, "Families marching to the courthouse")
    receipt = net.publish(_post("Families marched today.", None, video))
    embed = _record(local_pds, receipt.remote_id)["embed"]
    assert embed["$type"] == "app.bsky.embed.video"
    assert embed["alt"] == "Families marching to the courthouse"
    assert embed["video"]["mimeType"] == "video/mp4"
    assert (embed["aspectRatio"]["width"], embed["aspectRatio"]["height"]) == (1280, 720)
    assert _blob(local_pds, account.did, embed["video"]) == clip.read_bytes()
