"""XNetwork through real tweepy: recorded X traffic (vcrpy) and the fake X server."""

from __future__ import annotations

import logging
import socket
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import vcr

from amplifier.errors import (
    AuthFailed,
    DuplicatePost,
    NetworkError,
    PostRejected,
    RateLimited,
    TransientError,
)
from amplifier.networks.base import HttpSettings, MediaItem, OutgoingPost
from amplifier.networks.x import XNetwork
from amplifier.testing.fake_x import FakeX, make_fake_x
from amplifier.testing.fakeserver import Fault

CASSETTES = Path(__file__).parent.parent / "cassettes" / "x"
NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
EPOCH_NOW = int(NOW.timestamp())
CONSUMER_SECRET = "cs-SECRET-5f1d9c2e-do-not-print"
ACCESS_TOKEN_SECRET = "ats-SECRET-8b7a6e41-do-not-print"
OAUTH2_TOKEN = "oauth2-SECRET-0c3e9d77-do-not-print"
SECRETS = (CONSUMER_SECRET, ACCESS_TOKEN_SECRET, OAUTH2_TOKEN)
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture(scope="module")
def fake_server() -> Iterator[FakeX]:
    # One server per module: stopping one costs FakeServer's 0.5 s shutdown poll.
    with make_fake_x() as server:
        yield server


@pytest.fixture
def fake(fake_server: FakeX) -> FakeX:
    fake_server.reset()
    return fake_server


def x_network(base_url: str, **kwargs: Any) -> XNetwork:
    options: dict[str, Any] = {
        "consumer_key": "ck-public",
        "consumer_secret": CONSUMER_SECRET,
        "access_token": "at-public",
        "access_token_secret": ACCESS_TOKEN_SECRET,
        "api_base": base_url,
        "upload_base": base_url,
        "clock": lambda: NOW,
        "http": HttpSettings(connect_timeout=2.0, read_timeout=2.0),
    }
    options.update(kwargs)
    return XNetwork("campaign-x", **options)


def post(text: str = "Join the march on Saturday", *media: MediaItem) -> OutgoingPost:
    return OutgoingPost(account="campaign-x", text=text, idempotency_key="k-1", media=media)


def png(tmp_path: Path, name: str = "poster.png") -> Path:
    path = tmp_path / name
    path.write_bytes(PNG)
    return path


# -- recorded real traffic ------------------------------------------------------------------
def test_publish_replays_recorded_x_answer() -> None:
    """A real recorded 201 from POST /2/tweets gives the id, the URL and the 15m window."""
    recorder = vcr.VCR(
        record_mode="none", match_on=["method", "path"], decode_compressed_response=True
    )
    network = XNetwork("campaign-x", consumer_key="k", consumer_secret="s", access_token="t")
    with recorder.use_cassette(str(CASSETTES / "test_client_create_and_delete_tweet.yaml")):
        receipt = network.publish(post("Test Tweet"))
    assert receipt.remote_id == "1456012973835788293"
    assert receipt.url == "https://x.com/i/web/status/1456012973835788293"
    (window,) = receipt.rate_limits
    assert (window.window, window.limit, window.remaining) == ("15m", 200, 199)
    assert window.reset_at == datetime.fromtimestamp(1635976418, UTC)


def test_verify_replays_recorded_users_me() -> None:
    """A real recorded GET /2/users/me becomes AccountInfo with the handle and the label note."""
    recorder = vcr.VCR(
        record_mode="none", match_on=["method", "path"], decode_compressed_response=True
    )
    network = XNetwork("campaign-x", consumer_key="k", consumer_secret="s", access_token="t")
    with recorder.use_cassette(str(CASSETTES / "test_client_get_me.yaml")):
        info = network.verify()
    assert (info.network, info.handle, info.display_name) == ("x", "TweepyDev", "Tweepy Testing")
    assert info.url == "https://x.com/TweepyDev"


# -- the fake X server: success -------------------------------------------------------------
def test_publish_posts_signed_request_and_reads_headers(fake: FakeX) -> None:
    """A post reaches the fake, OAuth1-signed, and the receipt carries the 15m window."""
    receipt = x_network(fake.base_url).publish(post())
    assert [p.text for p in fake.posts] == ["Join the march on Saturday"]
    assert receipt.remote_id == fake.posts[0].id
    assert receipt.url == f"https://x.com/i/web/status/{fake.posts[0].id}"
    assert (fake.received[0].header("Authorization") or "").startswith("OAuth ")
    assert [(w.window, w.remaining) for w in receipt.rate_limits] == [("15m", 99)]


def test_receipt_reports_daily_user_window(fake: FakeX) -> None:
    """When X sends x-user-limit-24hour-* headers the receipt has a 24h-user window too."""
    fake.user_limit_24h = 17
    receipt = x_network(fake.base_url).publish(post())
    daily = {w.window: w for w in receipt.rate_limits}["24h-user"]
    assert (daily.limit, daily.remaining) == (17, 16)


def test_oauth2_user_token_reaches_server_but_not_logs(
    fake: FakeX, caplog: pytest.LogCaptureFixture
) -> None:
    """The OAuth2 token is sent as a Bearer header, yet tweepy's DEBUG log never sees it."""
    caplog.set_level(logging.DEBUG)
    network = x_network(fake.base_url, oauth2_user_token=OAUTH2_TOKEN)
    network.publish(post())
    assert fake.received[0].header("Authorization") == f"Bearer {OAUTH2_TOKEN}"
    assert caplog.records, "tweepy should have logged the request at DEBUG"
    assert not any(OAUTH2_TOKEN in r.getMessage() for r in caplog.records)


# -- rate limits ----------------------------------------------------------------------------
FIFTEEN_MIN = {
    "x-rate-limit-limit": "100",
    "x-rate-limit-remaining": "0",
    "x-rate-limit-reset": str(EPOCH_NOW + 600),
}
USER_DAY_SPENT = {
    "x-rate-limit-remaining": "98",
    "x-rate-limit-reset": str(EPOCH_NOW + 300),
    "x-user-limit-24hour-limit": "17",
    "x-user-limit-24hour-remaining": "0",
    "x-user-limit-24hour-reset": str(EPOCH_NOW + 20 * 3600),
}
APP_DAY_SPENT = {
    "x-rate-limit-reset": str(EPOCH_NOW + 300),
    "x-user-limit-24hour-remaining": "3",
    "x-user-limit-24hour-reset": str(EPOCH_NOW + 3600),
    "x-app-limit-24hour-limit": "10000",
    "x-app-limit-24hour-remaining": "0",
    "x-app-limit-24hour-reset": str(EPOCH_NOW + 7 * 3600),
}


@pytest.mark.parametrize(
    ("headers", "window", "retry_at"),
    [
        (FIFTEEN_MIN, "15m", NOW + timedelta(seconds=600)),
        (USER_DAY_SPENT, "24h-user", NOW + timedelta(hours=20)),
        (APP_DAY_SPENT, "24h-app", NOW + timedelta(hours=7)),
        ({}, "15m", NOW + timedelta(minutes=15)),  # no headers: injected clock + 15 min
    ],
    ids=["15m", "24h-user", "24h-app", "no-headers"],
)
def test_429_waits_for_the_exhausted_window(
    fake: FakeX, headers: dict[str, str], window: str, retry_at: datetime
) -> None:
    """A 429 names the spent window (a daily one at 0 wins) and retries at its reset."""
    body = {"title": "Too Many Requests", "detail": "Too Many Requests", "status": 429}
    fake.add_fault(Fault(path_prefix="/2/tweets", status=429, body=body, headers=headers))
    with pytest.raises(RateLimited) as caught:
        x_network(fake.base_url).publish(post())
    assert (caught.value.window, caught.value.retry_at) == (window, retry_at)
    assert "429" in str(caught.value) and "campaign-x" in str(caught.value)
    assert fake.posts == []


def test_fake_daily_allowance_runs_out(fake: FakeX) -> None:
    """The fake's own 24h user limit: two posts pass, the third is RateLimited 24h-user."""
    fake.user_limit_24h = 2
    network = x_network(fake.base_url)
    network.publish(post("one"))
    network.publish(post("two"))
    with pytest.raises(RateLimited) as caught:
        network.publish(post("three"))
    assert caught.value.window == "24h-user"
    assert [p.text for p in fake.posts] == ["one", "two"]


# -- server and transport failures ----------------------------------------------------------
def test_503_is_transient(fake: FakeX) -> None:
    """A 5xx on create is transient, flagged ambiguous because X may have posted anyway."""
    fake.add_fault(Fault(path_prefix="/2/tweets", status=503, body={"title": "Unavailable"}))
    with pytest.raises(TransientError) as caught:
        x_network(fake.base_url).publish(post())
    assert caught.value.ambiguous is True
    assert "503" in str(caught.value) and "campaign-x" in str(caught.value)


def test_read_timeout_is_ambiguous_and_retry_is_duplicate(fake: FakeX) -> None:
    """A late answer times out as ambiguous; the post landed, so a retry meets the duplicate 403."""
    fake.add_fault(Fault(path_prefix="/2/tweets", delay=0.6, after_work=True))
    network = x_network(fake.base_url, http=HttpSettings(connect_timeout=1.0, read_timeout=0.3))
    with pytest.raises(TransientError) as caught:
        network.publish(post())
    assert caught.value.ambiguous is True
    assert len(fake.posts) == 1
    with pytest.raises(DuplicatePost):
        network.publish(post())


def test_dropped_connection_after_work_is_ambiguous(fake: FakeX) -> None:
    """A connection closed with no answer is ambiguous, and indeed the fake stored the post."""
    fake.add_fault(Fault(path_prefix="/2/tweets", drop=True, after_work=True))
    with pytest.raises(TransientError) as caught:
        x_network(fake.base_url).publish(post())
    assert caught.value.ambiguous is True
    assert len(fake.posts) == 1


def test_refused_connection_is_not_ambiguous() -> None:
    """Nothing listening: the request never left, so the error is transient and unambiguous."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    with pytest.raises(TransientError) as caught:
        x_network(f"http://127.0.0.1:{closed_port}").publish(post())
    assert caught.value.ambiguous is False


# -- refusals -------------------------------------------------------------------------------
def test_401_is_auth_failed(fake: FakeX) -> None:
    """401 becomes AuthFailed naming the account, the status and the server's words."""
    fake.add_fault(
        Fault(
            path_prefix="/2/tweets",
            status=401,
            body={"title": "Unauthorized", "detail": "Unauthorized", "status": 401},
        )
    )
    with pytest.raises(AuthFailed) as caught:
        x_network(fake.base_url).publish(post())
    assert "campaign-x" in str(caught.value) and "401" in str(caught.value)


def test_same_text_twice_is_duplicate_post(fake: FakeX) -> None:
    """X's duplicate-content 403 becomes DuplicatePost, not AuthFailed."""
    network = x_network(fake.base_url)
    network.publish(post())
    with pytest.raises(DuplicatePost) as caught:
        network.publish(post())
    assert "403" in str(caught.value)
    assert len(fake.posts) == 1


def test_other_403_is_auth_failed(fake: FakeX) -> None:
    """A 403 that is not about duplicates (suspended app, missing write access) is AuthFailed."""
    fake.add_fault(
        Fault(
            path_prefix="/2/tweets",
            status=403,
            body={
                "title": "Forbidden",
                "detail": "You are not permitted to perform this action.",
                "status": 403,
            },
        )
    )
    with pytest.raises(AuthFailed) as caught:
        x_network(fake.base_url).publish(post())
    assert "not permitted" in str(caught.value)


def test_400_is_post_rejected_with_reason(fake: FakeX) -> None:
    """A 400 becomes PostRejected whose reason is the server's detail."""
    fake.add_fault(
        Fault(
            path_prefix="/2/tweets",
            status=400,
            body={
                "errors": [{"message": "text is too long"}],
                "title": "Invalid Request",
                "detail": "One or more parameters to your request was invalid.",
            },
        )
    )
    with pytest.raises(PostRejected) as caught:
        x_network(fake.base_url).publish(post())
    assert caught.value.reason == "One or more parameters to your request was invalid."
    assert "400" in str(caught.value)


# -- media ----------------------------------------------------------------------------------
def test_images_upload_with_alt_text(fake: FakeX, tmp_path: Path) -> None:
    """Each image goes to /2/media/upload as tweet_image, gets its alt text, then is attached."""
    images = (
        MediaItem(png(tmp_path, "a.png"), "Crowd holding a banner"),
        MediaItem(png(tmp_path, "b.png"), "Map of the route"),
    )
    x_network(fake.base_url).publish(post("With pictures", *images))
    (tweet,) = fake.posts
    assert tweet.alt_texts == ["Crowd holding a banner", "Map of the route"]
    assert [fake.media[m].category for m in tweet.media_ids] == ["tweet_image", "tweet_image"]
    assert [fake.media[m].size for m in tweet.media_ids] == [len(PNG), len(PNG)]
    upload = next(r for r in fake.received if r.path == "/2/media/upload")
    assert (upload.header("Authorization") or "").startswith("OAuth ")


def test_uploads_follow_custom_api_base(fake: FakeX, tmp_path: Path) -> None:
    """With only api_base set, images go to that server too, never to the real api.x.com."""
    network = x_network(fake.base_url, upload_base=None)
    network.publish(post("x", MediaItem(png(tmp_path), "alt")))
    assert [r.path for r in fake.received] == ["/2/media/upload", "/2/media/metadata", "/2/tweets"]


def test_failed_upload_posts_nothing(fake: FakeX, tmp_path: Path) -> None:
    """A 5xx on upload is transient but not ambiguous: no post was attempted."""
    fake.add_fault(Fault(path_prefix="/2/media/upload", status=500))
    with pytest.raises(TransientError) as caught:
        x_network(fake.base_url).publish(post("x", MediaItem(png(tmp_path), "alt")))
    assert caught.value.ambiguous is False
    assert fake.posts == []


@pytest.mark.parametrize("problem", ["oversize", "missing", "bmp", "no-alt"])
def test_bad_image_rejected_before_any_request(fake: FakeX, tmp_path: Path, problem: str) -> None:
    """Oversize, missing, unsupported or undescribed images fail before anything is sent."""
    path = tmp_path / ("poster.bmp" if problem == "bmp" else "poster.png")
    if problem == "oversize":
        with path.open("wb") as handle:
            handle.truncate(5 * 1024 * 1024 + 1)
    elif problem != "missing":
        path.write_bytes(PNG)
    alt = "" if problem == "no-alt" else "A poster"
    with pytest.raises(PostRejected):
        x_network(fake.base_url).publish(post("x", MediaItem(path, alt)))
    assert fake.received == []


# -- verify and secrets ---------------------------------------------------------------------
def test_verify_reads_users_me_and_reminds_of_label(fake: FakeX) -> None:
    """verify() reads /2/users/me, posts nothing and reminds of the Automated label."""
    info = x_network(fake.base_url).verify()
    assert (info.network, info.account, info.handle) == ("x", "campaign-x", "amplifier_test")
    assert info.notes and info.notes[0].startswith("Turn on the 'Automated' label")
    assert [r.method for r in fake.received] == ["GET"]
    assert fake.posts == []


def test_no_secret_in_errors_or_logs(
    fake: FakeX, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Across success, refusals and a timeout, no secret shows in a message or a log record."""
    caplog.set_level(logging.DEBUG)
    network = x_network(fake.base_url, http=HttpSettings(connect_timeout=1.0, read_timeout=0.3))
    network.publish(post("ok", MediaItem(png(tmp_path), "alt")))
    fake.add_fault(Fault(path_prefix="/2/tweets", status=401, body={"title": "Unauthorized"}))
    fake.add_fault(Fault(path_prefix="/2/tweets", status=429))
    fake.add_fault(Fault(path_prefix="/2/tweets", delay=0.6))
    errors: list[NetworkError] = []
    for text in ("a", "b", "c", "ok"):
        with pytest.raises(NetworkError) as caught:
            network.publish(post(text))
        errors.append(caught.value)
    assert [type(e) for e in errors] == [AuthFailed, RateLimited, TransientError, DuplicatePost]
    texts = [str(e) for e in errors] + [repr(e.__cause__) for e in errors] + [repr(network)]
    texts += [record.getMessage() for record in caplog.records]
    for secret in SECRETS:
        assert not any(secret in text for text in texts)


def test_fake_x_runs_standalone() -> None:
    """`python -m amplifier.testing.fake_x --port 0` prints its URL and accepts a real post."""
    process = subprocess.Popen(
        [sys.executable, "-m", "amplifier.testing.fake_x", "--port", "0"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        base_url = process.stdout.readline().strip()
        assert base_url.startswith("http://127.0.0.1:")
        receipt = x_network(base_url).publish(post())
        assert receipt.remote_id.isdigit()
    finally:
        process.terminate()
        assert process.wait(timeout=5) == 0
