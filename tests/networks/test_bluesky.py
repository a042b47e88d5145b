"""The Bluesky adapter, driven through the real atproto client against a fake PDS on 127.0.0.1."""

from __future__ import annotations

import logging
import socket
import subprocess
import sys
import traceback
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from amplifier.errors import AuthFailed, PostRejected, RateLimited, TransientError
from amplifier.networks.base import HttpSettings, MediaItem, MemorySessionStore, OutgoingPost
from amplifier.networks.bluesky import BlueskyNetwork, facets_for, window_name
from amplifier.testing.fake_bluesky import FakeBluesky
from amplifier.testing.fakeserver import Fault

HANDLE = "families.test"
PASSWORD = "app-pw-7q2x-k9zz-m4rt"  # distinctive, so a leak is easy to spot
CREATE = "/xrpc/com.atproto.repo.createRecord"
TEXT = "niñas 🇺🇸 #FamiliesBelongTogether https://example.org/a"
T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


class Clock:
    """A settable clock for the adapter."""

    def __init__(self, now: datetime = T0) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture(scope="module")
def shared_fake() -> Iterator[FakeBluesky]:
    # One server for the module: stopping a FakeServer takes up to its 0.5 s poll interval.
    with FakeBluesky(handle=HANDLE, password=PASSWORD, display_name="Families Test") as server:
        yield server


@pytest.fixture
def fake(shared_fake: FakeBluesky) -> FakeBluesky:
    shared_fake.reset()
    shared_fake.access_ttl = 7200.0
    return shared_fake


_opened: list[BlueskyNetwork] = []


@pytest.fixture(autouse=True)
def _close_adapters() -> Iterator[None]:
    yield
    while _opened:
        _opened.pop().close()


def network(
    fake: FakeBluesky,
    store: MemorySessionStore | None = None,
    *,
    password: str = PASSWORD,
    clock: Clock | None = None,
    http: HttpSettings | None = None,
    service_url: str | None = None,
) -> BlueskyNetwork:
    net = BlueskyNetwork(
        "fbt-bsky",
        handle=HANDLE,
        app_password=password,
        sessions=store if store is not None else MemorySessionStore(),
        service_url=service_url or fake.base_url,
        http=http or HttpSettings(connect_timeout=2.0, read_timeout=5.0),
        clock=clock or Clock(),
    )
    _opened.append(net)
    return net


def post(
    text: str = TEXT,
    *,
    language: str | None = None,
    media: tuple[MediaItem, ...] = (),
    key: str | None = None,
    due_at: datetime | None = None,
) -> OutgoingPost:
    """A post of its own delivery (a fresh idempotency key) unless ``key`` is given."""
    key = key or f"key-{uuid.uuid4().hex}"
    return OutgoingPost("fbt-bsky", text, key, language=language, media=media, due_at=due_at)


def facet_slices(text: str, facets: list[dict[str, object]]) -> list[tuple[str, dict[str, object]]]:
    """Each facet's text, cut from the UTF-8 bytes as the app does, with its feature."""
    encoded = text.encode("utf-8")
    out = []
    for facet in facets:
        index = facet["index"]
        assert isinstance(index, dict)
        features = facet["features"]
        assert isinstance(features, list)
        out.append((encoded[index["byteStart"] : index["byteEnd"]].decode("utf-8"), features[0]))
    return out


# -- facets and the record ------------------------------------------------------------------


def test_facets_for_uses_utf8_byte_offsets() -> None:
    """facets_for gives byte (not code point) offsets for a tag and a link after non-ASCII text."""
    facets = [facet.model_dump(by_alias=True) for facet in facets_for(TEXT)]
    assert facet_slices(TEXT, facets) == [
        (
            "#FamiliesBelongTogether",
            {"tag": "FamiliesBelongTogether", "$type": "app.bsky.richtext.facet#tag"},
        ),
        (
            "https://example.org/a",
            {"uri": "https://example.org/a", "$type": "app.bsky.richtext.facet#link"},
        ),
    ]


def test_facets_for_strips_trailing_punctuation() -> None:
    """A full stop after a link or a tag is not part of the facet."""
    text = "Read https://example.org/a. #Families!"
    slices = [
        s for s, _ in facet_slices(text, [f.model_dump(by_alias=True) for f in facets_for(text)])
    ]
    assert slices == ["https://example.org/a", "#Families"]


def test_publish_sends_facets_and_returns_receipt(fake: FakeBluesky) -> None:
    """A published post carries link and tag facets the PDS stores; the receipt names the record."""
    receipt = network(fake).publish(post())
    [record] = fake.records
    assert record.text == TEXT
    assert [s for s, _ in facet_slices(TEXT, record.facets)] == [
        "#FamiliesBelongTogether",
        "https://example.org/a",
    ]
    assert receipt.remote_id == record.uri
    assert receipt.remote_id.startswith(f"at://{fake.accounts[HANDLE].did}/app.bsky.feed.post/")
    assert receipt.url == f"https://bsky.app/profile/{HANDLE}/post/{record.rkey}"
    assert record.value["createdAt"] == "2026-03-01T12:00:00.000Z"


def test_language_becomes_langs(fake: FakeBluesky) -> None:
    """post.language is sent as langs; without one no langs are claimed."""
    net = network(fake)
    net.publish(post(language="es"))
    net.publish(post("plain text"))
    assert [r.langs for r in fake.records] == [["es"], None]


# -- sessions -------------------------------------------------------------------------------


def test_session_is_reused_across_instances(fake: FakeBluesky) -> None:
    """Two adapters sharing a session store (a restart) log in once between them."""
    store = MemorySessionStore()
    network(fake, store).publish(post("one"))
    network(fake, store).publish(post("two"))
    assert fake.create_session_calls == 1
    assert len(fake.records) == 2
    assert "fbt-bsky" in store.sessions


def test_one_adapter_logs_in_once_for_many_posts(fake: FakeBluesky) -> None:
    """The client is built once per adapter; posting does not log in again."""
    net = network(fake)
    for n in range(3):
        net.publish(post(f"post {n}"))
    assert fake.create_session_calls == 1


def test_refreshed_session_is_saved(fake: FakeBluesky) -> None:
    """An access token near expiry is refreshed by the SDK and the new session is stored."""
    fake.access_ttl = 60  # inside the SDK's 15-minute margin: it refreshes before each call
    store = MemorySessionStore()
    network(fake, store).publish(post("one"))
    first = store.sessions["fbt-bsky"]
    network(fake, store).publish(post("two"))
    assert fake.create_session_calls == 1
    assert fake.refresh_session_calls >= 1
    assert store.sessions["fbt-bsky"] != first


def test_refused_stored_session_falls_back_to_one_login(fake: FakeBluesky) -> None:
    """A stored session the PDS no longer accepts (InvalidToken) costs exactly one more login."""
    store = MemorySessionStore()
    network(fake, store).publish(post("one"))
    stale = store.sessions["fbt-bsky"]
    fake.revoke_sessions()
    network(fake, store).publish(post("two"))
    assert fake.create_session_calls == 2
    assert [r.text for r in fake.records] == ["one", "two"]
    assert store.sessions["fbt-bsky"] != stale


def test_expired_refresh_token_falls_back_to_one_login(fake: FakeBluesky) -> None:
    """When the SDK's refresh is refused (ExpiredToken), the adapter logs in once and posts."""
    fake.access_ttl = 60
    store = MemorySessionStore()
    network(fake, store).publish(post("one"))
    fake.revoke_sessions()
    refreshes_before = fake.refresh_session_calls
    network(fake, store).publish(post("two"))
    assert fake.refresh_session_calls > refreshes_before
    assert fake.create_session_calls == 2
    assert len(fake.records) == 2


def test_unreadable_stored_session_logs_in(fake: FakeBluesky) -> None:
    """A corrupt stored session string is replaced by a fresh login, not a crash."""
    store = MemorySessionStore({"fbt-bsky": "not:::a:::session"})
    network(fake, store).publish(post())
    assert fake.create_session_calls == 1
    assert store.sessions["fbt-bsky"] != "not:::a:::session"


def test_bad_password_is_auth_failed(fake: FakeBluesky) -> None:
    """A wrong app password raises AuthFailed after a single createSession and posts nothing."""
    with pytest.raises(AuthFailed) as caught:
        network(fake, password="wrong-password-123").publish(post())
    assert "401" in str(caught.value)
    assert fake.create_session_calls == 1
    assert fake.records == []


def test_account_error_on_post_is_auth_failed(fake: FakeBluesky) -> None:
    """A 401 about the account (not a token) is AuthFailed with no retry login."""
    body = {"error": "AccountTakedown", "message": "Account has been taken down"}
    fake.server.add_fault(Fault(path_prefix=CREATE, status=401, body=body))
    with pytest.raises(AuthFailed, match="AccountTakedown"):
        network(fake).publish(post())
    assert fake.create_session_calls == 1


def test_secrets_never_in_errors_or_logs(
    fake: FakeBluesky, caplog: pytest.LogCaptureFixture
) -> None:
    """Neither the app password nor session tokens appear in errors, their causes, or logs."""
    caplog.set_level(logging.DEBUG)  # httpx and httpcore log every request at DEBUG
    store = MemorySessionStore()
    with pytest.raises(AuthFailed) as bad_password:
        network(fake, password=PASSWORD + "x").publish(post())
    network(fake, store).publish(post())
    fake.server.add_fault(Fault(path_prefix=CREATE, status=400, body={"error": "InvalidRequest"}))
    with pytest.raises(PostRejected) as rejected:
        network(fake, store).publish(post())
    secrets = [PASSWORD, *store.sessions["fbt-bsky"].split(":::")[2:4]]
    texts = ["".join(traceback.format_exception(e.value)) for e in (bad_password, rejected)]
    texts += [record.getMessage() for record in caplog.records]
    assert len(caplog.records) > 5  # the check below covers real log output
    assert [s for s in secrets for t in texts if s in t] == []


def test_server_text_echoing_the_password_is_redacted(fake: FakeBluesky) -> None:
    """Even a server message that quotes the app password reaches no exception text."""
    body = {"error": "InvalidRequest", "message": f"cannot use {PASSWORD} here"}
    fake.server.add_fault(Fault(path_prefix=CREATE, status=400, body=body))
    with pytest.raises(PostRejected) as caught:
        network(fake).publish(post())
    assert "[redacted]" in caught.value.reason
    assert PASSWORD not in "".join(traceback.format_exception(caught.value))


# -- errors ---------------------------------------------------------------------------------


def test_429_with_reset_is_rate_limited(fake: FakeBluesky) -> None:
    """A 429 with ratelimit headers becomes RateLimited until the reset, window from the policy."""
    reset = int((T0 + timedelta(minutes=40)).timestamp())
    headers = {
        "RateLimit-Limit": "5000",
        "RateLimit-Remaining": "0",
        "RateLimit-Reset": str(reset),
        "RateLimit-Policy": "5000;w=3600",
    }
    body = {"error": "RateLimitExceeded", "message": "Rate Limit Exceeded"}
    fake.server.add_fault(Fault(path_prefix=CREATE, status=429, body=body, headers=headers))
    with pytest.raises(RateLimited) as caught:
        network(fake).publish(post())
    assert caught.value.retry_at == T0 + timedelta(minutes=40)
    assert caught.value.window == "1h"


def test_429_without_headers_waits_five_minutes(fake: FakeBluesky) -> None:
    """A bare 429 retries after the clock's now + 5 minutes, window unknown."""
    fake.server.add_fault(
        Fault(path_prefix=CREATE, status=429, body={"error": "RateLimitExceeded"})
    )
    with pytest.raises(RateLimited) as caught:
        network(fake).publish(post())
    assert caught.value.retry_at == T0 + timedelta(minutes=5)
    assert caught.value.window == "unknown"


def test_rate_limit_budget_is_reported_then_enforced(fake: FakeBluesky) -> None:
    """Success receipts carry the points budget; when it runs out the PDS's 429 is RateLimited."""
    fake.set_rate_limit("com.atproto.repo.createRecord", limit=6, window=3600, cost=3)
    net = network(fake)
    first = net.publish(post("one"))
    second = net.publish(post("two"))
    [window] = first.rate_limits
    assert (window.window, window.limit, window.remaining) == ("1h", 6, 3)
    assert second.rate_limits[0].remaining == 0
    with pytest.raises(RateLimited) as caught:
        net.publish(post("three"))
    assert caught.value.window == "1h"
    assert len(fake.records) == 2


@pytest.mark.parametrize(
    ("policy", "name"),
    [("5000;w=3600", "1h"), ("35000;w=86400", "24h"), ("30;w=300", "5m"), ("1;w=7", "7s"),
     (None, "unknown"), ("garbage", "unknown")],
)  # fmt: skip
def test_window_name_from_policy(policy: str | None, name: str) -> None:
    """The ratelimit-policy window in seconds becomes a short window name."""
    assert window_name(policy) == name


def test_connection_refused_is_not_ambiguous(fake: FakeBluesky) -> None:
    """Nothing listening: TransientError that is not ambiguous (nothing can have landed)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(TransientError) as caught:
        network(fake, service_url=f"http://127.0.0.1:{port}").publish(post())
    assert caught.value.ambiguous is False


def test_server_400_is_post_rejected(fake: FakeBluesky) -> None:
    """The PDS's 400 about the record (over 300 graphemes) is PostRejected with its words."""
    with pytest.raises(PostRejected) as caught:
        network(fake).publish(post("é" * 301))
    assert "300 graphemes" in caught.value.reason
    assert fake.records == []


def test_record_over_sdk_limit_rejected_before_any_request(fake: FakeBluesky) -> None:
    """Text the lexicon forbids (over 3000 characters) is PostRejected before any request."""
    with pytest.raises(PostRejected, match="text"):
        network(fake).publish(post("x" * 3001))
    assert fake.server.received == []


# -- images ---------------------------------------------------------------------------------


def test_image_is_uploaded_and_embedded_with_alt(fake: FakeBluesky, tmp_path: Path) -> None:
    """An image goes up with uploadBlob and the post embeds it with its alt text."""
    image = tmp_path / "rally.png"
    image.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 100)
    network(fake).publish(post(media=(MediaItem(image, "Families at the rally"),)))
    [record] = fake.records
    embed = record.embed
    assert embed is not None and embed["$type"] == "app.bsky.embed.images"
    [embedded] = embed["images"]
    assert embedded["alt"] == "Families at the rally"
    mime, data = fake.blobs[embedded["image"]["ref"]["$link"]]
    assert (mime, data) == ("image/png", image.read_bytes())


def test_oversize_image_rejected_before_any_request(fake: FakeBluesky, tmp_path: Path) -> None:
    """An image over 1,000,000 bytes is PostRejected before login or upload."""
    image = tmp_path / "big.jpg"
    image.write_bytes(b"\xff" * 1_000_001)
    with pytest.raises(PostRejected, match="1000000"):
        network(fake).publish(post(media=(MediaItem(image, "alt"),)))
    assert fake.server.received == []


def test_missing_image_rejected_before_any_request(fake: FakeBluesky, tmp_path: Path) -> None:
    """A missing image file is PostRejected without contacting the PDS."""
    with pytest.raises(PostRejected, match="not found"):
        network(fake).publish(post(media=(MediaItem(tmp_path / "gone.png", "alt"),)))
    assert fake.server.received == []


# -- find_existing and verify ---------------------------------------------------------------


def test_find_existing_finds_posted_text_only(fake: FakeBluesky) -> None:
    """find_existing returns the receipt of a posted text and None for a text never posted."""
    net = network(fake)
    receipt = net.publish(post())
    net.publish(post("something else"))
    found = net.find_existing(TEXT, since=T0 - timedelta(hours=1))
    assert found is not None and found.remote_id == receipt.remote_id
    assert found.url == receipt.url
    assert net.find_existing("never posted", since=T0 - timedelta(hours=1)) is None


def test_find_existing_stops_at_since_and_pages(fake: FakeBluesky) -> None:
    """Posts older than since are not matched; matches further back than a page are found."""
    clock = Clock(T0)
    net = network(fake, clock=clock)
    net.publish(post("old one"))
    for n in range(5):
        clock.now = T0 + timedelta(hours=2, minutes=n)  # record keys follow the posts' times
        net.publish(post(f"newer {n}"))
    net.find_page_size = 2
    assert net.find_existing("old one", since=T0 + timedelta(hours=1)) is None
    assert net.find_existing("old one", since=T0 - timedelta(hours=1)) is not None
    net.find_max_pages = 1
    assert net.find_existing("newer 0", since=T0) is None  # beyond the bounded search


def test_verify_reads_profile(fake: FakeBluesky) -> None:
    """verify() reports handle, display name and profile URL without posting."""
    info = network(fake).verify()
    assert (info.network, info.account, info.handle) == ("bluesky", "fbt-bsky", HANDLE)
    assert info.display_name == "Families Test"
    assert info.url == f"https://bsky.app/profile/{HANDLE}"
    assert fake.records == []


def test_fake_runs_standalone() -> None:
    """python -m amplifier.testing.fake_bluesky prints a base URL and serves until terminated."""
    command = [sys.executable, "-m", "amplifier.testing.fake_bluesky", "--port", "0"]
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True) as process:
        try:
            assert process.stdout is not None
            base_url = process.stdout.readline().strip()
            assert base_url.startswith("http://127.0.0.1:")
            net = BlueskyNetwork(
                "fbt-bsky",
                handle="amplifier.test",
                app_password="fake-app-password",
                sessions=MemorySessionStore(),
                service_url=base_url,
            )
            _opened.append(net)
            assert net.verify().handle == "amplifier.test"
        finally:
            process.terminate()
        assert process.wait(timeout=5) == 0
