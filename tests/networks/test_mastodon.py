"""MastodonNetwork through real Mastodon.py: recorded traffic (vcrpy) and the fake server."""

from __future__ import annotations

import logging
import socket
import subprocess
import sys
import traceback
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
import vcr

from amplifier.errors import AuthFailed, NetworkError, PostRejected, RateLimited, TransientError
from amplifier.networks.base import HttpSettings, MediaItem, OutgoingPost, RateLimitWindow
from amplifier.networks.mastodon import BOT_NOTE, MastodonNetwork
from amplifier.testing.fake_mastodon import FakeMastodon, FakeMastodonSettings
from amplifier.testing.fakeserver import Fault

CASSETTES = Path(__file__).parent.parent / "cassettes" / "mastodon"
CASSETTE_TOKEN = "__MASTODON_PY_TEST_ACCESS_TOKEN"  # the placeholder the cassettes carry
RECORDED_AT = datetime(2026, 8, 1, 13, 53, 56, tzinfo=UTC)  # when the cassettes were made
NOW = datetime(2026, 11, 23, 12, 1, 30, tzinfo=UTC)
TOKEN = "mastodon-SECRET-3e8f0a71-do-not-print"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def replay(name: str, match_on: tuple[str, ...] = ("method", "path")) -> Any:
    recorder = vcr.VCR(record_mode="none", match_on=match_on, decode_compressed_response=True)
    return recorder.use_cassette(str(CASSETTES / name))


def cassette_network(**kwargs: Any) -> MastodonNetwork:
    options: dict[str, Any] = {
        "instance_url": "http://localhost:3000",
        "access_token": CASSETTE_TOKEN,
        "clock": lambda: RECORDED_AT,
        "sleep": lambda seconds: pytest.fail(f"slept {seconds} s during a replay"),
    }
    return MastodonNetwork("campaign", **{**options, **kwargs})


def post(text: str = "Join us Saturday #climate", **kwargs: Any) -> OutgoingPost:
    return OutgoingPost(account="campaign", text=text, idempotency_key="slot-1", **kwargs)


def png(tmp_path: Path, name: str = "poster.png") -> Path:
    path = tmp_path / name
    path.write_bytes(PNG)
    return path


@pytest.fixture(scope="module")
def fake_server() -> Iterator[FakeMastodon]:
    # One server per module: stopping one costs FakeServer's 0.5 s shutdown poll.
    with FakeMastodon(FakeMastodonSettings(token=TOKEN, clock=lambda: NOW)) as server:
        yield server


@pytest.fixture
def fake(fake_server: FakeMastodon) -> FakeMastodon:
    return fake_server.reset()


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def network(fake: FakeMastodon, sleeps: list[float]) -> MastodonNetwork:
    return fake_network(fake, sleeps)


def fake_network(fake: FakeMastodon, sleeps: list[float], **kwargs: Any) -> MastodonNetwork:
    options: dict[str, Any] = {
        "instance_url": fake.base_url,
        "access_token": TOKEN,
        "clock": lambda: NOW,
        "sleep": sleeps.append,
        "http": HttpSettings(connect_timeout=2.0, read_timeout=2.0, media_processing_timeout=10),
    }
    return MastodonNetwork("campaign", **{**options, **kwargs})


# -- replays of real Mastodon 4.6 traffic ---------------------------------------------------
def test_cassette_publish_returns_status_id_url_and_statuses_window() -> None:
    """A real POST /api/v1/statuses answer becomes a Receipt with the 3 h statuses counter."""
    with replay("test_status_post__none_unlisted.yaml") as cassette:
        receipt = cassette_network().publish(post("Toot!"))
    assert receipt.remote_id == "117020585907693810"
    assert receipt.url == "http://localhost:3000/@mastodonpy_test/117020585907693810"
    reset = datetime(2026, 8, 1, 15, 0, 0, 377402, tzinfo=UTC)
    assert receipt.rate_limits == (RateLimitWindow("3h", 300, 217, reset),)
    assert cassette.play_count == 1  # no version or instance probe before posting


def test_cassette_empty_status_is_rejected_with_server_words() -> None:
    """The real 422 for an empty status becomes PostRejected carrying the server's message."""
    with replay("test_status_empty.yaml"), pytest.raises(PostRejected) as caught:
        cassette_network().publish(post(""))
    assert caught.value.reason == "バリデーションに失敗しました: Textを入力してください"
    assert "HTTP 422" in str(caught.value)
    assert caught.value.account == "campaign" and caught.value.network == "mastodon"


def test_cassette_verify_reads_account_and_flags_missing_bot_mark() -> None:
    """verify() turns a real verify_credentials answer into AccountInfo with the bot reminder."""
    with replay("test_verify_credentials.yaml"):
        info = cassette_network().verify()
    assert info.handle == "@mastodonpy_test@localhost:3000"
    assert info.url == "http://localhost:3000/@mastodonpy_test"
    assert info.is_bot is False
    assert info.notes == (BOT_NOTE,)


def test_cassette_real_401_means_auth_failed() -> None:
    """The real 401 "access token is invalid" answer maps to AuthFailed.

    The only recorded 401 is for GET /api/v1/timelines/home, so this replay matches on the
    method alone: verify()'s GET receives that real 401 response.
    """
    recorded_401 = replay("test_unauthed_home_tl_throws.yaml", match_on=("method",))
    with recorded_401, pytest.raises(AuthFailed) as caught:
        cassette_network().verify()
    assert "HTTP 401" in str(caught.value)
    assert "The access token is invalid" in str(caught.value)


def test_cassette_media_upload_with_descriptions(tmp_path: Path) -> None:
    """Two images go up with alt text (real /api/v2/media answers), then one status."""
    media = (
        MediaItem(png(tmp_path, "walk.png"), "John Lennon doing a funny walk"),
        MediaItem(png(tmp_path, "watson.png"), "hololives #1 detective, watson ameliachan"),
    )
    with replay("test_media_post_multiple.yaml") as cassette:
        network = cassette_network(mastodon_version="4.5.0")
        receipt = network.publish(post("LOL check this out", media=media))
    assert receipt.remote_id == "117020576664345360"
    # Played: media (0), media (3), status (4). The version probes the recording made
    # (1: /api/v1/instance/, 2: /api/v2/instance/) are never requested.
    assert sorted(cassette.play_counts) == [0, 3, 4]
    assert [cassette.requests[i].path for i in (0, 3)] == ["/api/v2/media"] * 2


# -- the fake server: success paths ---------------------------------------------------------
def test_publish_sends_key_unlisted_language_and_cw(
    fake: FakeMastodon, network: MastodonNetwork
) -> None:
    """Defaults to unlisted; language, content warning and Idempotency-Key reach the server."""
    receipt = network.publish(post(language="de", content_warning="Politik"))
    [status] = fake.statuses
    assert (status.visibility, status.language) == ("unlisted", "de")
    assert status.spoiler_text == "Politik"
    assert status.idempotency_key == "slot-1"
    assert status.text == "Join us Saturday #climate"
    assert receipt.remote_id == status.id
    assert receipt.url == f"{fake.base_url}/@amplifier_test/{status.id}"
    assert receipt.rate_limits[0].window == "3h"
    assert receipt.rate_limits[0].remaining == 299


def test_visibility_is_configurable_and_checked(fake: FakeMastodon, sleeps: list[float]) -> None:
    """A chosen visibility is sent as is; an unknown one is refused before any request."""
    fake_network(fake, sleeps, visibility="public").publish(post())
    assert fake.statuses[0].visibility == "public"
    with pytest.raises(ValueError, match="visibility"):
        fake_network(fake, sleeps, visibility="everyone")


def test_retry_with_same_key_creates_no_second_status(
    fake: FakeMastodon, network: MastodonNetwork
) -> None:
    """Publishing the same post twice returns the first status; the server holds one."""
    first = network.publish(post())
    second = network.publish(post())
    assert second.remote_id == first.remote_id
    assert len(fake.statuses) == 1


def test_dropped_answer_is_ambiguous_and_retry_is_safe(
    fake: FakeMastodon, network: MastodonNetwork
) -> None:
    """A connection closed after the post landed is ambiguous; the keyed retry posts nothing new."""
    fake.add_fault(Fault(path_prefix="/api/v1/statuses", drop=True, after_work=True))
    with pytest.raises(TransientError) as caught:
        network.publish(post())
    assert caught.value.ambiguous is True
    receipt = network.publish(post())
    assert [s.id for s in fake.statuses] == [receipt.remote_id]


# -- the fake server: failures --------------------------------------------------------------
def test_statuses_limit_429_gives_retry_at_from_iso_reset(
    fake: FakeMastodon, network: MastodonNetwork
) -> None:
    """Over the 3 h statuses limit: RateLimited until the server's ISO reset, window 3h."""
    fake.reset(status_limit=1)
    network.publish(post())
    with pytest.raises(RateLimited) as caught:
        network.publish(OutgoingPost(account="campaign", text="next", idempotency_key="slot-2"))
    assert caught.value.retry_at == datetime(2026, 11, 23, 15, 0, tzinfo=UTC)
    assert caught.value.window == "3h"
    assert len(fake.statuses) == 1


def test_general_429_with_near_reset_is_5m_window(
    fake: FakeMastodon, network: MastodonNetwork
) -> None:
    """A 429 whose reset is minutes away is the 300 / 5 min API limit."""
    headers = {"X-RateLimit-Limit": "300", "X-RateLimit-Remaining": "0"}
    headers["X-RateLimit-Reset"] = "2026-11-23T12:05:00.123456Z"
    fake.add_fault(Fault(status=429, body={"error": "Too many requests"}, headers=headers))
    with pytest.raises(RateLimited) as caught:
        network.publish(post())
    assert caught.value.retry_at == datetime(2026, 11, 23, 12, 5, 0, 123456, tzinfo=UTC)
    assert caught.value.window == "5m"


def test_429_without_reset_waits_five_minutes(fake: FakeMastodon, network: MastodonNetwork) -> None:
    """A 429 with no reset header is retried five minutes after the injected now."""
    fake.add_fault(Fault(status=429, body={"error": "Too many requests"}))
    with pytest.raises(RateLimited) as caught:
        network.publish(post())
    assert caught.value.retry_at == NOW + timedelta(minutes=5)
    assert caught.value.window == "5m"


def test_429_with_unreadable_reset_still_rate_limited(
    fake: FakeMastodon, network: MastodonNetwork
) -> None:
    """Mastodon.py chokes on a reset it cannot parse; a 429 is still RateLimited for 5 min."""
    headers = {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "soon"}
    fake.add_fault(Fault(status=429, body={"error": "Too many requests"}, headers=headers))
    with pytest.raises(RateLimited) as caught:
        network.publish(post())
    assert caught.value.retry_at == NOW + timedelta(minutes=5)


def test_unreadable_reset_after_success_is_ambiguous(
    fake: FakeMastodon, network: MastodonNetwork
) -> None:
    """A 2xx with a bad reset header makes Mastodon.py raise after the post landed: ambiguous."""
    headers = {"X-RateLimit-Remaining": "1", "X-RateLimit-Reset": "soon"}
    fake.add_fault(Fault(status=200, body={"id": "1"}, headers=headers, after_work=True))
    with pytest.raises(TransientError) as caught:
        network.publish(post())
    assert caught.value.ambiguous is True
    assert network.publish(post()).remote_id == fake.statuses[0].id
    assert len(fake.statuses) == 1


@pytest.mark.parametrize(
    ("status", "error", "expected"),
    [
        (500, "Internal server error", TransientError),
        (502, "Bad gateway", TransientError),
        (503, "Service unavailable", TransientError),
        (504, "Gateway timeout", TransientError),
        (403, "This action is not allowed", AuthFailed),
        (404, "Record not found", PostRejected),
        (400, "Bad request", PostRejected),
    ],
)
def test_http_errors_map_onto_the_error_tree(
    fake: FakeMastodon,
    network: MastodonNetwork,
    status: int,
    error: str,
    expected: type[NetworkError],
) -> None:
    """Each HTTP failure status lands on exactly the documented amplifier error."""
    fake.add_fault(Fault(status=status, body={"error": error}))
    with pytest.raises(NetworkError) as caught:
        network.publish(post())
    assert type(caught.value) is expected
    assert f"HTTP {status}" in str(caught.value) and error in str(caught.value)
    if isinstance(caught.value, TransientError):
        assert caught.value.ambiguous is True  # a 5xx may come after the status was stored
    if isinstance(caught.value, PostRejected):
        assert caught.value.reason == error


def test_read_timeout_is_transient_and_ambiguous(fake: FakeMastodon, sleeps: list[float]) -> None:
    """A status POST whose answer comes too late may have landed: TransientError, ambiguous."""
    fake.add_fault(Fault(path_prefix="/api/v1/statuses", delay=0.5, after_work=True))
    network = fake_network(fake, sleeps, http=HttpSettings(connect_timeout=1, read_timeout=0.15))
    with pytest.raises(TransientError) as caught:
        network.publish(post())
    assert caught.value.ambiguous is True
    assert "timed out" in str(caught.value)
    assert len(fake.statuses) == 1  # it did land


def test_refused_connection_is_not_ambiguous(sleeps: list[float]) -> None:
    """Nothing listening: TransientError that certainly did not post."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    network = MastodonNetwork(
        "campaign", instance_url=f"http://127.0.0.1:{port}", access_token=TOKEN, sleep=sleeps.append
    )
    with pytest.raises(TransientError) as caught:
        network.publish(post())
    assert caught.value.ambiguous is False


def test_wrong_token_is_auth_failed(fake: FakeMastodon, sleeps: list[float]) -> None:
    """A 401 from the server is AuthFailed, and nothing is posted."""
    network = fake_network(fake, sleeps, access_token="revoked-token")
    with pytest.raises(AuthFailed) as caught:
        network.publish(post())
    assert "HTTP 401" in str(caught.value)
    assert fake.statuses == []


def test_too_long_is_rejected_with_server_reason(
    fake: FakeMastodon, network: MastodonNetwork
) -> None:
    """The server's 422 about length becomes PostRejected with its exact words."""
    fake.reset(max_characters=20)
    with pytest.raises(PostRejected) as caught:
        network.publish(post("x" * 21))
    assert caught.value.reason == "Validation failed: Text character limit of 20 exceeded"
    assert fake.statuses == []


# -- media ----------------------------------------------------------------------------------
def test_media_wait_polls_with_injected_sleep(
    fake: FakeMastodon, network: MastodonNetwork, sleeps: list[float], tmp_path: Path
) -> None:
    """An upload still processing is polled, sleeping through the injected sleep, then posted."""
    fake.reset(media_ready_after_polls=3)
    network.publish(post(media=(MediaItem(png(tmp_path), "Poster: march on Saturday"),)))
    assert sleeps == [0.5, 1.0, 2.0]
    assert fake.statuses[0].media_descriptions == ["Poster: march on Saturday"]
    polls = [r for r in fake.server.received if r.path.startswith("/api/v1/media/")]
    assert len(polls) == 3


def test_media_never_ready_gives_up_at_the_bound(
    fake: FakeMastodon, network: MastodonNetwork, sleeps: list[float], tmp_path: Path
) -> None:
    """Processing that never ends raises TransientError once the pauses add up to the bound."""
    fake.reset(media_ready_after_polls=10**6)
    with pytest.raises(TransientError) as caught:
        network.publish(post(media=(MediaItem(png(tmp_path), "Poster"),)))
    assert sum(sleeps) == pytest.approx(10.0)  # HttpSettings.media_processing_timeout
    assert sleeps[-1] <= 5.0
    assert "still processing" in str(caught.value)
    assert caught.value.ambiguous is False
    assert fake.statuses == []


def test_missing_image_file_is_rejected(network: MastodonNetwork, tmp_path: Path) -> None:
    """An image path that does not exist is a content problem, not worth a retry."""
    with pytest.raises(PostRejected):
        network.publish(post(media=(MediaItem(tmp_path / "gone.png", "alt"),)))


# -- verify -------------------------------------------------------------------------------
@pytest.mark.parametrize("bot", [True, False])
def test_verify_reports_bot_flag(fake: FakeMastodon, network: MastodonNetwork, bot: bool) -> None:
    """verify() reports Account.bot and reminds the organizer only when it is off."""
    fake.reset(bot=bot)
    info = network.verify()
    assert info.is_bot is bot
    assert info.handle == f"@amplifier_test@{fake.base_url.split('://')[1]}"
    assert info.display_name == "Amplifier Test"
    assert info.notes == (() if bot else (BOT_NOTE,))
    assert fake.statuses == []


# -- secrets --------------------------------------------------------------------------------
def test_token_never_in_errors_or_logs(
    fake: FakeMastodon, sleeps: list[float], caplog: pytest.LogCaptureFixture
) -> None:
    """Across every failure kind, the token appears in no message, cause chain or log record."""
    caplog.set_level(logging.DEBUG)
    faults = [
        Fault(status=429, body={"error": "Too many requests"}),
        Fault(status=503, body={"error": "down"}),
        Fault(status=422, body={"error": "Validation failed"}),
        Fault(status=403, body={"error": "forbidden"}),
        Fault(path_prefix="/api/v1/statuses", drop=True),
    ]
    failures: list[BaseException] = []
    network = fake_network(fake, sleeps)
    for fault in faults:
        fake.add_fault(fault)
        with pytest.raises(NetworkError) as caught:
            network.publish(post())
        failures.append(caught.value)
    slow = fake_network(fake, sleeps, http=HttpSettings(connect_timeout=1, read_timeout=0.1))
    fake.add_fault(Fault(method="GET", delay=0.3))
    with pytest.raises(NetworkError) as caught:
        slow.verify()
    failures.append(caught.value)
    fake.reset(token="another-token")
    with pytest.raises(AuthFailed) as caught:
        network.verify()
    failures.append(caught.value)
    assert len(failures) == 7
    for failure in failures:
        assert TOKEN not in "".join(traceback.format_exception(failure))
    assert caplog.records and all(TOKEN not in r.getMessage() for r in caplog.records)


# -- standalone server ----------------------------------------------------------------------
def test_standalone_fake_prints_url_and_serves() -> None:
    """`python -m amplifier.testing.fake_mastodon` prints its base URL and answers there."""
    command = [sys.executable, "-m", "amplifier.testing.fake_mastodon", "--token", "T"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        base_url = process.stdout.readline().strip()
        assert base_url.startswith("http://127.0.0.1:")
        answer = requests.get(f"{base_url}/api/v1/accounts/verify_credentials", timeout=5)
        assert answer.status_code == 401
        answer = requests.get(
            f"{base_url}/api/v1/accounts/verify_credentials",
            headers={"Authorization": "Bearer T"},
            timeout=5,
        )
        assert answer.json()["acct"] == "amplifier_test"
    finally:
        process.kill()
        process.wait(timeout=5)
