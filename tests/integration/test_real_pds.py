"""BlueskyNetwork against a real PDS (npm @atproto/pds, rate limits on), not our fake.

Each test reads its evidence back from the PDS itself: records and blobs over XRPC, the
ratelimit-* headers of its createSession, and its own request log.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from amplifier.errors import RateLimited
from amplifier.networks.base import HttpSettings, MediaItem, MemorySessionStore, OutgoingPost
from amplifier.networks.bluesky import BlueskyNetwork

from .conftest import LocalPds, PdsAccount
from .images import png

ACCOUNT = "fbt-bsky"
CREATE_SESSION = "/xrpc/com.atproto.server.createSession"
LOGINS_PER_5_MINUTES = 30  # the PDS's createSession limit per identifier and IP (createSession.js)

_opened: list[BlueskyNetwork] = []


@pytest.fixture(autouse=True)
def _close_adapters() -> Iterator[None]:
    yield
    while _opened:
        _opened.pop().close()


@pytest.fixture(scope="module")
def poster(local_pds: LocalPds) -> PdsAccount:
    return local_pds.create_account("poster")


def adapter(pds: LocalPds, account: PdsAccount, store: MemorySessionStore) -> BlueskyNetwork:
    net = BlueskyNetwork(
        ACCOUNT,
        handle=account.handle,
        app_password=account.app_password,
        sessions=store,
        service_url=pds.url,
        http=HttpSettings(connect_timeout=5.0, read_timeout=20.0),
    )
    _opened.append(net)
    return net


def post(
    text: str, *, language: str | None = None, media: tuple[MediaItem, ...] = ()
) -> OutgoingPost:
    return OutgoingPost(ACCOUNT, text, f"key-{uuid.uuid4()}", language=language, media=media)


def get_record(pds: LocalPds, uri: str) -> dict[str, Any]:
    """com.atproto.repo.getRecord for an at:// URI: {"uri", "cid", "value"}."""
    repo, collection, rkey = uri.removeprefix("at://").split("/")
    params = {"repo": repo, "collection": collection, "rkey": rkey}
    answer = httpx.get(f"{pds.url}/xrpc/com.atproto.repo.getRecord", params=params, timeout=10.0)
    assert answer.status_code == 200, answer.text
    record: dict[str, Any] = answer.json()
    return record


def list_texts(pds: LocalPds, account: PdsAccount) -> list[str]:
    params = {"repo": account.did, "collection": "app.bsky.feed.post", "limit": "100"}
    answer = httpx.get(f"{pds.url}/xrpc/com.atproto.repo.listRecords", params=params, timeout=10.0)
    assert answer.status_code == 200, answer.text
    return [record["value"]["text"] for record in answer.json()["records"]]


def raw_login(pds: LocalPds, account: PdsAccount) -> httpx.Response:
    """createSession as any client sends it: the same identifier (handle) as the adapter."""
    body = {"identifier": account.handle, "password": account.app_password}
    return httpx.post(pds.url + CREATE_SESSION, json=body, timeout=20.0)


def facet_slices(text: str, facets: list[dict[str, Any]]) -> list[tuple[str, dict[str, Any]]]:
    """Each facet's text cut from the UTF-8 bytes, as the app does, with its one feature."""
    encoded = text.encode("utf-8")
    ordered = sorted(facets, key=lambda facet: facet["index"]["byteStart"])
    return [
        (encoded[f["index"]["byteStart"] : f["index"]["byteEnd"]].decode("utf-8"), f["features"][0])
        for f in ordered
        if len(f["features"]) == 1
    ]


# -- the tests ------------------------------------------------------------------------------


def test_post_with_tags_and_link_is_stored_with_byte_exact_facets(
    local_pds: LocalPds, poster: PdsAccount
) -> None:
    """The PDS stores our text, langs and facets; each facet's UTF-8 byte slice is its tag/link."""
    text = (
        "Niñas y familias 🇺🇸 #FamiliesBelongTogether con #KeepFamiliesTogether "
        "https://example.org/rally?day=1"
    )
    receipt = adapter(local_pds, poster, MemorySessionStore()).publish(post(text, language="es"))

    stored = get_record(local_pds, receipt.remote_id)
    assert stored["uri"] == receipt.remote_id
    assert receipt.remote_id.startswith(f"at://{poster.did}/app.bsky.feed.post/")
    rkey = receipt.remote_id.rsplit("/", 1)[1]
    assert receipt.url == f"https://bsky.app/profile/{poster.handle}/post/{rkey}"
    # The PDS reports only its tightest limit: the per-IP 3000 requests / 5 min, which hides
    # the 5000-point hourly write budget until that one is the lower.
    [window] = receipt.rate_limits
    assert (window.window, window.limit) == ("5m", 3000)
    assert window.remaining is not None and 0 < window.remaining < 3000
    assert window.reset_at is not None
    assert datetime.now(UTC) < window.reset_at <= datetime.now(UTC) + timedelta(minutes=5)
    record = stored["value"]
    assert record["$type"] == "app.bsky.feed.post"
    assert record["text"] == text
    assert record["langs"] == ["es"]
    assert facet_slices(text, record["facets"]) == [
        (
            "#FamiliesBelongTogether",
            {"$type": "app.bsky.richtext.facet#tag", "tag": "FamiliesBelongTogether"},
        ),
        (
            "#KeepFamiliesTogether",
            {"$type": "app.bsky.richtext.facet#tag", "tag": "KeepFamiliesTogether"},
        ),
        (
            "https://example.org/rally?day=1",
            {"$type": "app.bsky.richtext.facet#link", "uri": "https://example.org/rally?day=1"},
        ),
    ]
    assert len(record["facets"]) == 3
    created = datetime.fromisoformat(record["createdAt"])
    assert abs(created - datetime.now(UTC)) < timedelta(minutes=1)


def test_image_with_alt_is_embedded_and_its_blob_served(
    local_pds: LocalPds, poster: PdsAccount, tmp_path: Path
) -> None:
    """An image post embeds the uploaded blob with its alt text; getBlob returns our bytes."""
    image = tmp_path / "rally.png"
    image.write_bytes(png(16, 12))
    alt = "Families at the rally holding hand-painted signs"
    media = (MediaItem(image, alt),)
    receipt = adapter(local_pds, poster, MemorySessionStore()).publish(
        post("Photos from today's rally", media=media)
    )

    embed = get_record(local_pds, receipt.remote_id)["value"]["embed"]
    assert embed["$type"] == "app.bsky.embed.images"
    [embedded] = embed["images"]
    assert embedded["alt"] == alt
    blob = embedded["image"]
    assert blob["$type"] == "blob"
    assert blob["mimeType"] == "image/png"
    assert blob["size"] == image.stat().st_size
    params = {"did": poster.did, "cid": blob["ref"]["$link"]}
    served = httpx.get(f"{local_pds.url}/xrpc/com.atproto.sync.getBlob", params=params, timeout=10)
    assert served.status_code == 200
    assert served.content == image.read_bytes()
    assert served.headers["content-type"].startswith("image/png")


def test_second_instance_reuses_the_stored_session(local_pds: LocalPds) -> None:
    """A second adapter sharing the SessionStore posts without createSession, by the PDS's count.

    Two server-side witnesses: the PDS's own createSession rate-limit counter for this handle
    (read from the ratelimit-remaining of probe logins before and after), and its request log."""
    account = local_pds.create_account("reuser")  # its own login counter
    before = raw_login(local_pds, account)
    assert before.status_code == 200, before.text
    logged_before = local_pds.requests_logged(CREATE_SESSION)
    store = MemorySessionStore()

    first = adapter(local_pds, account, store).publish(post("first, after a fresh login"))
    saved = store.sessions[ACCOUNT]
    second = adapter(local_pds, account, store).publish(post("second, on the stored session"))

    assert local_pds.requests_logged(CREATE_SESSION) == logged_before + 1  # the first adapter's
    after = raw_login(local_pds, account)
    assert after.status_code == 200, after.text
    assert after.headers["ratelimit-policy"] == f"{LOGINS_PER_5_MINUTES};w=300"
    spent = int(before.headers["ratelimit-remaining"]) - int(after.headers["ratelimit-remaining"])
    assert spent == 2  # the first adapter's login and this probe: none by the second adapter
    assert store.sessions[ACCOUNT] == saved  # nothing new was created or refreshed
    assert first.remote_id != second.remote_id
    texts = list_texts(local_pds, account)
    assert sorted(texts) == ["first, after a fresh login", "second, on the stored session"]


def test_exhausted_logins_raise_rate_limited_once_until_the_reset(local_pds: LocalPds) -> None:
    """After 30 logins in 5 minutes the PDS answers 429; a fresh adapter raises RateLimited
    with retry_at = the PDS's ratelimit-reset, after exactly one attempt (no retry loop)."""
    account = local_pds.create_account("limited")  # its own login counter
    answers = []
    for _ in range(LOGINS_PER_5_MINUTES + 5):  # bounded: stops at the first 429
        answers.append(raw_login(local_pds, account))
        if answers[-1].status_code == 429:
            break
    assert [a.status_code for a in answers] == [200] * LOGINS_PER_5_MINUTES + [429]
    assert answers[0].headers["ratelimit-limit"] == str(LOGINS_PER_5_MINUTES)
    assert answers[0].headers["ratelimit-policy"] == f"{LOGINS_PER_5_MINUTES};w=300"
    refused = answers[-1]
    assert refused.json()["error"] == "RateLimitExceeded"
    assert refused.headers["ratelimit-remaining"] == "0"
    reset_at = datetime.fromtimestamp(int(refused.headers["ratelimit-reset"]), UTC)
    refused_before = local_pds.requests_logged(CREATE_SESSION, status=429)

    store = MemorySessionStore()
    asked_at = datetime.now(UTC)
    with pytest.raises(RateLimited) as caught:
        adapter(local_pds, account, store).publish(post("must not go out while limited"))

    assert "createSession" in str(caught.value)
    assert caught.value.window == "5m"
    assert caught.value.retry_at > asked_at
    assert caught.value.retry_at <= asked_at + timedelta(minutes=5, seconds=1)
    assert abs(caught.value.retry_at - reset_at) <= timedelta(seconds=1)  # same fixed window
    assert local_pds.requests_logged(CREATE_SESSION, status=429) == refused_before + 1
    assert store.sessions == {}
    assert list_texts(local_pds, account) == []


def test_find_existing_finds_the_post_just_published(
    local_pds: LocalPds, poster: PdsAccount
) -> None:
    """Crash recovery: a restarted adapter finds the just-published text with the same URI,
    and finds nothing for a text never posted or for a window starting after the post."""
    text = f"Vigil tonight at 7 #FamiliesBelongTogether ({uuid.uuid4().hex[:8]})"
    since = datetime.now(UTC) - timedelta(minutes=1)
    store = MemorySessionStore()
    receipt = adapter(local_pds, poster, store).publish(post(text))
    adapter(local_pds, poster, store).publish(post("a later, different post"))

    restarted = adapter(local_pds, poster, store)  # as after a crash: same stored session
    found = restarted.find_existing(text, since=since)
    assert found is not None
    assert found.remote_id == receipt.remote_id
    assert found.url == receipt.url
    assert restarted.find_existing(text + " (never posted)", since=since) is None
    assert restarted.find_existing(text, since=datetime.now(UTC) + timedelta(minutes=1)) is None
