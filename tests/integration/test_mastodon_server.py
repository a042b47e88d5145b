"""MastodonNetwork and the worker against a Mastodon-API server we did not write.

The server is mastodon_mock (PyPI, MIT): a separate FastAPI implementation of the Mastodon
REST API over SQLite, tested by its authors against Mastodon.py, with real Idempotency-Key
handling, server-side length checks and a fault-injection control plane. It runs here as its
own process on 127.0.0.1; each test reads its evidence back from the server over HTTP.
"""

from __future__ import annotations

import importlib.util
import io
import os
import shutil
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from amplifier.cli import main
from amplifier.delivery.retry import RetryPolicy, publish_with_retries
from amplifier.errors import AuthFailed, PostRejected, RateLimited, TransientError
from amplifier.networks.base import HttpSettings, MediaItem, OutgoingPost
from amplifier.networks.mastodon import BOT_NOTE, MastodonNetwork

from .images import png
from .proxy import AnswerDroppingProxy

ACCOUNT = "fbt-mastodon"
BOT_TOKEN = "mock-token-fbt-bot"
HUMAN_TOKEN = "mock-token-human"
START_TIMEOUT = 60.0
NO_WAIT = RetryPolicy(max_attempts=4, initial_wait=0.0, max_wait=0.0, jitter=0.0)

SERVER_CONFIG = """
domain = "127.0.0.1:{port}"
url_scheme = "http"
[[seed.accounts]]
username = "fbt"
display_name = "Families Belong Together"
bot = true
access_token = "{bot}"
[[seed.accounts]]
username = "human"
display_name = "A person"
bot = false
access_token = "{human}"
"""


@dataclass(frozen=True)
class MastodonServer:
    url: str

    def get(self, path: str, token: str = BOT_TOKEN, **params: str) -> Any:
        answer = httpx.get(
            self.url + path,
            params=params,
            headers={"Authorization": f"Bearer {token}"},
            timeout=10.0,
        )
        assert answer.status_code == 200, answer.text
        return answer.json()

    def statuses_containing(self, marker: str) -> list[dict[str, Any]]:
        """The bot account's statuses whose HTML content holds ``marker``."""
        me = self.get("/api/v1/accounts/verify_credentials")
        statuses = self.get(f"/api/v1/accounts/{me['id']}/statuses", limit="40")
        return [status for status in statuses if marker in status["content"]]

    def add_fault(self, rule: dict[str, Any]) -> None:
        answer = httpx.post(self.url + "/api/v1/_mock/faults", json=rule, timeout=10.0)
        assert answer.status_code == 200, answer.text

    def fail_status_posts(self, effect: dict[str, Any], count: int) -> None:
        """The next ``count`` POST /api/v1/statuses get ``effect`` instead of a status."""
        self.add_fault(
            {
                "match": {"methods": ["POST"], "path": "/api/v1/statuses"},
                "effect": effect,
                "count": count,
            }
        )

    def clear_faults(self) -> None:
        answer = httpx.delete(self.url + "/api/v1/_mock/faults", timeout=10.0)
        assert answer.status_code == 200, answer.text


def _unavailable(reason: str) -> None:
    """Skip where the test extra is not installed; in CI it always is, so fail there."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason}; CI installs it with '.[test]'", pytrace=False)
    pytest.skip(f"{reason}; install the test extra: pip install -e '.[test]'")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MastodonServer]:
    if importlib.util.find_spec("mastodon_mock") is None:
        _unavailable("mastodon_mock is not installed")
    folder = tmp_path_factory.mktemp("mastodon")
    port = _free_port()
    config = folder / "mastodon_mock.toml"
    config.write_text(SERVER_CONFIG.format(port=port, bot=BOT_TOKEN, human=HUMAN_TOKEN))
    command = [sys.executable, "-m", "mastodon_mock", "serve", "--config", str(config)]
    command += ["--port", str(port), "--in-memory", "--log-level", "warning"]
    log_path = folder / "server.log"
    with open(log_path, "w") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            try:
                if httpx.get(url + "/api/v1/instance", timeout=2.0).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"mastodon_mock did not start:\n{log_path.read_text()[-3000:]}")
            time.sleep(0.1)  # waiting for a server process to listen, with a deadline
        yield MastodonServer(url)
    finally:
        process.terminate()
        try:
            process.wait(timeout=15.0)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(autouse=True)
def _no_faults_left(server: MastodonServer) -> Iterator[None]:
    yield
    server.clear_faults()


def adapter(
    server: MastodonServer, token: str = BOT_TOKEN, read_timeout: float = 10.0
) -> MastodonNetwork:
    return MastodonNetwork(
        ACCOUNT,
        instance_url=server.url,
        access_token=token,
        http=HttpSettings(connect_timeout=5.0, read_timeout=read_timeout),
    )


def post(text: str, **extra: Any) -> OutgoingPost:
    return OutgoingPost(ACCOUNT, text, f"key-{uuid.uuid4()}", **extra)


# -- the tests ------------------------------------------------------------------------------


def test_status_arrives_with_hashtags_link_language_and_visibility(
    server: MastodonServer,
) -> None:
    marker = uuid.uuid4().hex[:10]
    link = f"https://example.org/reunify/{marker}"
    text = f"Las familias deben estar juntas {marker} #FamiliesBelongTogether #Asylum {link}"
    net = adapter(server)

    limits = net.instance_limits()  # read from the server's own /api/v2/instance
    assert (limits.max_characters, limits.characters_reserved_per_url) == (500, 23)
    assert (limits.source, limits.max_media_attachments) == ("v2", 4)
    receipt = net.publish(post(text, language="es"))

    [status] = server.statuses_containing(marker)
    assert status["id"] == receipt.remote_id and status["url"] == receipt.url
    assert {tag["name"].lower() for tag in status["tags"]} == {"familiesbelongtogether", "asylum"}
    assert f'href="{link}"' in status["content"]
    assert status["language"] == "es"
    assert status["visibility"] == "unlisted"  # the convention for bots, our default


def test_image_arrives_with_its_alt_text(server: MastodonServer, tmp_path: Path) -> None:
    image = tmp_path / "march.png"
    image.write_bytes(png(24, 16))
    alt = "Marchers holding a banner that reads Families Belong Together"
    marker = uuid.uuid4().hex[:10]

    net = adapter(server)
    net.publish(post(f"Photo from the march {marker}", media=(MediaItem(image, alt),)))

    [status] = server.statuses_containing(marker)
    [attachment] = status["media_attachments"]
    assert attachment["type"] == "image"
    assert attachment["description"] == alt
    assert attachment["url"]


def test_answer_lost_after_the_status_landed_then_retry_posts_once(
    server: MastodonServer,
) -> None:
    """The server creates the status but its answer never reaches us (the connection drops);
    the retry carries the same Idempotency-Key, so the server hands back the same status."""
    marker = uuid.uuid4().hex[:10]
    with AnswerDroppingProxy(server.url) as proxy:
        proxy.drop_answers_to(b"POST /api/v1/statuses ", count=1)
        net = MastodonNetwork(ACCOUNT, instance_url=proxy.url, access_token=BOT_TOKEN)
        result = publish_with_retries(net, post(f"Reunite them now {marker}"), NO_WAIT)
        assert proxy.dropped == 1

    assert result.attempts == 2 and result.receipt is not None
    statuses = server.statuses_containing(marker)
    assert [s["id"] for s in statuses] == [result.receipt.remote_id]


def test_server_errors_then_success_posts_once(server: MastodonServer) -> None:
    server.fail_status_posts({"type": "status", "status": 503}, count=2)
    marker = uuid.uuid4().hex[:10]

    text = f"Keep families together {marker}"
    result = publish_with_retries(adapter(server), post(text), NO_WAIT)

    assert result.attempts == 3
    assert len(server.statuses_containing(marker)) == 1


def test_server_error_alone_is_transient(server: MastodonServer) -> None:
    server.fail_status_posts({"type": "status", "status": 502}, count=1)
    marker = uuid.uuid4().hex[:10]
    with pytest.raises(TransientError):
        adapter(server).publish(post(f"Bad gateway {marker}"))
    assert server.statuses_containing(marker) == []


@pytest.mark.parametrize("reset_form", ["iso", "epoch"])
def test_429_is_handed_back_with_the_reset_time(server: MastodonServer, reset_form: str) -> None:
    """Mastodon sends X-RateLimit-Reset as ISO 8601; some compatible servers as epoch seconds."""
    reset = datetime.now(UTC).replace(microsecond=0) + timedelta(minutes=7)
    value = reset.isoformat() if reset_form == "iso" else str(int(reset.timestamp()))
    server.fail_status_posts(
        {"type": "ratelimit", "headers": {"X-RateLimit-Reset": value, "X-RateLimit-Limit": "300"}},
        count=1,
    )
    marker = uuid.uuid4().hex[:10]

    with pytest.raises(RateLimited) as caught:
        publish_with_retries(adapter(server), post(f"Not now {marker}"), NO_WAIT)

    assert caught.value.retry_at == reset
    assert server.statuses_containing(marker) == []


def test_too_long_is_rejected_with_the_servers_reason(server: MastodonServer) -> None:
    marker = uuid.uuid4().hex[:10]
    with pytest.raises(PostRejected) as caught:
        publish_with_retries(adapter(server), post(marker + " word" * 120), NO_WAIT)
    assert "too long" in caught.value.reason.lower()
    assert server.statuses_containing(marker) == []


def test_unknown_token_is_auth_failed(server: MastodonServer) -> None:
    with pytest.raises(AuthFailed):
        adapter(server, token="revoked-token").publish(post("Should never appear"))


def test_verify_reads_the_account_and_its_bot_flag(server: MastodonServer) -> None:
    bot = adapter(server).verify()
    assert bot.handle == f"@fbt@{server.url.removeprefix('http://')}"
    assert bot.display_name == "Families Belong Together"
    assert bot.is_bot is True and bot.notes == ()

    human = adapter(server, token=HUMAN_TOKEN).verify()
    assert human.is_bot is False and human.notes == (BOT_NOTE,)


WORKER_CONFIG = """
posts_dir = "posts"
seed = "mastodon-server-test"
database_url = "sqlite:///{database}"
[campaigns.families-belong-together]
[campaigns.families-belong-together.hashtags]
always = ["FamiliesBelongTogether"]
pool = ["KeepFamiliesTogether", "AsylumIsARight"]
per_post = 1
[schedules.morning]
timezone = "America/Chicago"
times = ["09:00"]
[[accounts]]
name = "{account}"
network = "mastodon"
instance = "{url}"
campaigns = ["families-belong-together"]
schedule = "morning"
[accounts.secrets_from_env]
access_token = "FBT_MASTODON_ACCESS_TOKEN"
"""


def test_worker_run_once_publishes_each_due_slot_once(
    server: MastodonServer,
    repo_root: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`amplifier run --once` from a project folder: the due post goes out once (a thread: each
    part once, in order), rendered with its hashtags, and a second pass at the same moment
    sends nothing more."""
    shutil.copytree(repo_root / "posts", tmp_path / "posts")
    account = f"fbt-masto-{uuid.uuid4().hex[:6]}"
    (tmp_path / "config.toml").write_text(
        WORKER_CONFIG.format(database=tmp_path / "state.db", account=account, url=server.url)
    )
    monkeypatch.chdir(tmp_path)
    for name in ("AMPLIFIER_CONFIG", "AMPLIFIER_DATABASE_URL", "DATABASE_URL", "AMPLIFIER_DRY_RUN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("FBT_MASTODON_ACCESS_TOKEN", BOT_TOKEN)
    now = datetime(2026, 11, 23, 15, 1, tzinfo=UTC)  # 09:01 in Chicago
    me = server.get("/api/v1/accounts/verify_credentials")
    before = me["statuses_count"]

    out = io.StringIO()
    assert main(["run", "--once"], out=out, clock=lambda: now) == 0, out.getvalue()
    again = io.StringIO()
    assert main(["run", "--once"], out=again, clock=lambda: now) == 0, again.getvalue()

    statuses = server.get(f"/api/v1/accounts/{me['id']}/statuses", limit="40")
    new = statuses[: server.get("/api/v1/accounts/verify_credentials")["statuses_count"] - before]
    # One post, or the sample's thread of four: each part a reply to the one before it.
    chain = new[::-1]  # oldest first
    assert len(chain) in (1, 4), out.getvalue() + again.getvalue()
    assert chain[0]["in_reply_to_id"] is None
    assert [s["in_reply_to_id"] for s in chain[1:]] == [s["id"] for s in chain[:-1]]
    tags = {tag["name"].lower() for tag in chain[0]["tags"]}
    assert "familiesbelongtogether" in tags, chain[0]["content"]
    assert tags & {"keepfamiliestogether", "asylumisaright"}, chain[0]["content"]
    assert BOT_TOKEN not in out.getvalue() + again.getvalue()
    assert f"account={account}" in out.getvalue() and new[0]["url"] in out.getvalue()


def test_a_thread_arrives_as_replies_each_to_the_one_before(server: MastodonServer) -> None:
    """Three statuses, the second and third sent with in_reply_to_id: the server stores each
    as a reply to the one before it, in order."""
    marker = uuid.uuid4().hex[:10]
    net = adapter(server)
    first = net.publish(post(f"A thread in three parts {marker}"))
    second = net.publish(post(f"Part two {marker}", reply_to=first.remote_id,
                              reply_root=first.remote_id))  # fmt: skip
    third = net.publish(post(f"Part three {marker}", reply_to=second.remote_id,
                             reply_root=first.remote_id))  # fmt: skip
    statuses = {s["id"]: s for s in server.statuses_containing(marker)}
    assert statuses[first.remote_id]["in_reply_to_id"] is None
    assert statuses[second.remote_id]["in_reply_to_id"] == first.remote_id
    assert statuses[third.remote_id]["in_reply_to_id"] == second.remote_id
