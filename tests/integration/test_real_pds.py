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

from amplifier.errors import RateLimited, TransientError
from amplifier.networks.base import (
    FreshLoginSessions,
    HttpSettings,
    MediaItem,
    MemorySessionStore,
    OutgoingPost,
)
from amplifier.networks.bluesky import BlueskyNetwork
from amplifier.networks.bluesky_keys import encode_tid, record_key, tid_time

from .conftest import LocalPds, PdsAccount
from .images import png
from .proxy import AnswerDroppingProxy

ACCOUNT = "fbt-bsky"
CREATE_SESSION = "/xrpc/com.atproto.server.createSession"
CREATE_RECORD = "/xrpc/com.atproto.repo.createRecord"
GET_RECORD = "/xrpc/com.atproto.repo.getRecord"
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


def adapter(
    pds: LocalPds,
    account: PdsAccount,
    store: MemorySessionStore | FreshLoginSessions,
    *,
    service_url: str | None = None,
) -> BlueskyNetwork:
    net = BlueskyNetwork(
        ACCOUNT,
        handle=account.handle,
        app_password=account.app_password,
        sessions=store,
        service_url=service_url or pds.url,
        http=HttpSettings(connect_timeout=5.0, read_timeout=20.0),
    )
    _opened.append(net)
    return net


def post(
    text: str,
    *,
    language: str | None = None,
    media: tuple[MediaItem, ...] = (),
    due_at: datetime | None = None,
) -> OutgoingPost:
    """A post of a delivery of its own, due now unless ``due_at`` says otherwise."""
    due_at = due_at or datetime.now(UTC)
    key = f"key-{uuid.uuid4()}"
    return OutgoingPost(ACCOUNT, text, key, language=language, media=media, due_at=due_at)


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


def raw_create(
    pds: LocalPds, account: PdsAccount, token: str, rkey: str, text: str
) -> httpx.Response:
    """createRecord of a post under ``rkey``, as any client sends it."""
    record = {"$type": "app.bsky.feed.post", "text": text, "createdAt": _now_stamp()}
    body = {"repo": account.did, "collection": "app.bsky.feed.post", "rkey": rkey, "record": record}
    headers = {"Authorization": f"Bearer {token}"}
    return httpx.post(pds.url + CREATE_RECORD, json=body, headers=headers, timeout=20.0)


def _now_stamp() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


# -- exactly once: the delivery's own record key ---------------------------------------------


def test_repeated_record_key_is_refused_with_500_and_read_back(local_pds: LocalPds) -> None:
    """What the real PDS answers to a second createRecord under one record key: 500
    InternalServerError, storing nothing. The adapter, sending the same delivery twice (two
    adapters, as across a restart), reads the key back and returns the same receipt."""
    account = local_pds.create_account("rekeyed")
    login = raw_login(local_pds, account)
    assert login.status_code == 200, login.text
    token = login.json()["accessJwt"]
    rkey = record_key("a-delivery", datetime.now(UTC))
    first = raw_create(local_pds, account, token, rkey, "first under this key")
    again = raw_create(local_pds, account, token, rkey, "second under this key")
    assert first.status_code == 200, first.text
    assert first.json()["uri"].endswith("/" + rkey)
    assert (again.status_code, again.json()) == (
        500,
        {"error": "InternalServerError", "message": "Internal Server Error"},
    )
    assert list_texts(local_pds, account) == ["first under this key"]

    store = MemorySessionStore()
    delivery = post("Vigil tonight at 7, once")
    receipt = adapter(local_pds, account, store).publish(delivery)
    before = local_pds.requests_logged(CREATE_RECORD, status=500)
    again_receipt = adapter(local_pds, account, store).publish(delivery)
    assert again_receipt.remote_id == receipt.remote_id
    assert again_receipt.url == receipt.url
    assert local_pds.requests_logged(CREATE_RECORD, status=500) == before + 1
    assert sorted(list_texts(local_pds, account)) == [
        "Vigil tonight at 7, once",
        "first under this key",
    ]


def test_lost_answer_is_found_under_the_record_key(local_pds: LocalPds) -> None:
    """The PDS stores the post but its answer is lost on the way: the adapter reads its
    record key back and returns the post's receipt; the account holds it once."""
    account = local_pds.create_account("lostanswer")
    delivery = post("Lost answer, one post")
    with AnswerDroppingProxy(local_pds.url) as proxy:
        proxy.drop_answers_to(f"POST {CREATE_RECORD}".encode(), count=1)
        receipt = adapter(local_pds, account, MemorySessionStore(), service_url=proxy.url).publish(
            delivery
        )
        assert proxy.dropped == 1
    assert get_record(local_pds, receipt.remote_id)["value"]["text"] == delivery.text
    assert list_texts(local_pds, account) == [delivery.text]


def test_lost_answer_and_lost_read_back_then_retry_posts_once(local_pds: LocalPds) -> None:
    """The answer and the read-back are both lost: ambiguous TransientError. The retry, from a
    restarted adapter, meets the PDS's 500 for the taken key and returns the stored post."""
    account = local_pds.create_account("twicelost")
    delivery = post("Twice lost, still one post")
    store = MemorySessionStore()
    with AnswerDroppingProxy(local_pds.url) as proxy:
        proxy.drop_answers_to(f"POST {CREATE_RECORD}".encode(), f"GET {GET_RECORD}".encode(),
                              count=2)  # fmt: skip
        with pytest.raises(TransientError) as caught:
            adapter(local_pds, account, store, service_url=proxy.url).publish(delivery)
        assert proxy.dropped == 2
    assert caught.value.ambiguous is True
    assert list_texts(local_pds, account) == [delivery.text]
    refused_before = local_pds.requests_logged(CREATE_RECORD, status=500)
    receipt = adapter(local_pds, account, store).publish(delivery)
    assert local_pds.requests_logged(CREATE_RECORD, status=500) == refused_before + 1
    assert get_record(local_pds, receipt.remote_id)["value"]["text"] == delivery.text
    assert list_texts(local_pds, account) == [delivery.text]


def test_record_key_time_apart_from_created_at_is_a_normal_post(local_pds: LocalPds) -> None:
    """A post due three hours ago gets a key with that time while its createdAt is now: the PDS
    stores it as a valid app.bsky.feed.post and lists it by key like any other (a key a year
    ahead is accepted as well: the PDS checks only a TID's syntax)."""
    account = local_pds.create_account("oldkey")
    due = datetime.now(UTC) - timedelta(hours=3)
    receipt = adapter(local_pds, account, MemorySessionStore()).publish(post("Late", due_at=due))
    stored = get_record(local_pds, receipt.remote_id)
    rkey = receipt.remote_id.rsplit("/", 1)[1]
    key_time = tid_time(rkey)
    assert key_time is not None and abs(key_time - due) < timedelta(seconds=1)
    created = datetime.fromisoformat(stored["value"]["createdAt"])
    assert abs(created - datetime.now(UTC)) < timedelta(minutes=1)
    assert stored["value"]["$type"] == "app.bsky.feed.post"

    token = raw_login(local_pds, account).json()["accessJwt"]
    ahead = encode_tid(int((datetime.now(UTC) + timedelta(days=365)).timestamp() * 1e6), 7)
    answer = raw_create(local_pds, account, token, ahead, "Key a year ahead")
    assert answer.status_code == 200, answer.text
    assert answer.json()["validationStatus"] == "valid"
    assert list_texts(local_pds, account) == ["Key a year ahead", "Late"]  # newest key first


# -- accounts verify: the stored session, not a login -----------------------------------------


def test_second_verify_spends_no_login(local_pds: LocalPds) -> None:
    """verify() logs in once; a second verify on the stored session makes no createSession
    (the PDS's request log says so) and reports the session as the stored one. A fresh login,
    asked for, spends exactly one more."""
    account = local_pds.create_account("verifier")
    store = MemorySessionStore()
    logged = local_pds.requests_logged(CREATE_SESSION)
    first = adapter(local_pds, account, store).verify()
    second = adapter(local_pds, account, store).verify()
    assert local_pds.requests_logged(CREATE_SESSION) == logged + 1
    assert (first.handle, first.session) == (account.handle, "new")
    assert (second.handle, second.session) == (account.handle, "stored")
    assert second.display_name == ""  # no profile record yet: read from the PDS, no appview
    fresh = adapter(local_pds, account, FreshLoginSessions(store)).verify()
    assert fresh.session == "new"
    assert local_pds.requests_logged(CREATE_SESSION) == logged + 2
