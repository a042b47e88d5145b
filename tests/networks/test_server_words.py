"""Errors carry the server's own words, whatever shape its error body has, on every network; a
failed account read is never called a refused post; no secret a server echoes gets through.

Each case scripts one error answer (plain text, HTML, JSON, empty JSON) on a fake server and
drives the real SDK through the adapter: on the post-creating call (a definite 4xx refuses the
post: PostRejected) and on verify() (a 4xx about the token is AuthFailed, any other
AccountUnreadable).
"""

from __future__ import annotations

import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from amplifier.errors import AccountUnreadable, AuthFailed, NetworkError, PostRejected
from amplifier.networks.base import HttpSettings, MemorySessionStore, Network, OutgoingPost
from amplifier.networks.bluesky import BlueskyNetwork
from amplifier.networks.mastodon import MastodonNetwork
from amplifier.networks.x import XNetwork
from amplifier.testing.fake_bluesky import FakeBluesky
from amplifier.testing.fake_mastodon import FakeMastodon, FakeMastodonSettings
from amplifier.testing.fake_x import FakeX
from amplifier.testing.fakeserver import FakeServer, Fault

HTTP = HttpSettings(connect_timeout=2.0, read_timeout=5.0)
X_SECRET = "x-consumer-SECRET-77aa"
MASTODON_TOKEN = "mastodon-TOKEN-91bc"
BLUESKY_PASSWORD = "bsky-app-PASSWORD-3f2e"
HTML_404 = (
    "<!DOCTYPE html><html><head><title>404 Not Found</title><style>p{}</style></head>"
    "<body><h1>Not Found</h1><p>The requested URL was not found on this server.</p></body></html>"
)


@dataclass(frozen=True)
class Side:
    """One network: its fake server, how to build the adapter, and the paths that matter."""

    name: str
    server: FakeServer
    build: Callable[[], Network]
    post_path: str
    verify_path: str
    secret: str


@pytest.fixture(scope="module")
def sides() -> Iterator[dict[str, Side]]:
    fake_x = FakeX().start()
    fake_mastodon = FakeMastodon(FakeMastodonSettings(token=MASTODON_TOKEN)).start()
    fake_bluesky = FakeBluesky(handle="words.test", password=BLUESKY_PASSWORD).start()
    x_base, m_base, b_base = fake_x.base_url, fake_mastodon.base_url, fake_bluesky.base_url
    try:
        yield {
            "x": Side("x", fake_x.server,
                      lambda: XNetwork("x-acct", consumer_key="ck", consumer_secret=X_SECRET,
                                       access_token="at", access_token_secret="ats",
                                       api_base=x_base, upload_base=x_base, http=HTTP),
                      "/2/tweets", "/2/users/me", X_SECRET),
            "mastodon": Side("mastodon", fake_mastodon.server,
                             lambda: MastodonNetwork("m-acct", instance_url=m_base,
                                                     access_token=MASTODON_TOKEN, http=HTTP),
                             "/api/v1/statuses", "/api/v1/accounts/verify_credentials",
                             MASTODON_TOKEN),
            "bluesky": Side("bluesky", fake_bluesky.server,
                            lambda: BlueskyNetwork("b-acct", handle="words.test",
                                                   app_password=BLUESKY_PASSWORD,
                                                   sessions=MemorySessionStore(),
                                                   service_url=b_base, http=HTTP),
                            "/xrpc/com.atproto.repo.createRecord",
                            "/xrpc/com.atproto.server.getSession", BLUESKY_PASSWORD),
        }  # fmt: skip
    finally:
        for fake in (fake_x, fake_mastodon, fake_bluesky):
            fake.stop()


@pytest.fixture(params=["x", "mastodon", "bluesky"])
def side(request: pytest.FixtureRequest, sides: dict[str, Side]) -> Side:
    chosen = sides[request.param]
    with chosen.server.lock:
        chosen.server.faults.clear()
    return chosen


def fail_with(side: Side, path: str, status: int, body: Any, content_type: str) -> Network:
    method = "GET" if path == side.verify_path else "POST"
    headers = {"Content-Type": content_type}
    side.server.add_fault(Fault(method=method, path_prefix=path, status=status, body=body,
                                headers=headers))  # fmt: skip
    return side.build()


def outgoing() -> OutgoingPost:
    return OutgoingPost("acct", "Vigil tonight at 7", "words-key")


BODIES = [
    ("plain", "Text is too long for this server", "text/plain; charset=utf-8",
     "Text is too long for this server"),
    ("html", "<html><head><title>400 Bad Request</title></head><body><h1>400 Bad Request</h1>"
     "<center>nginx</center></body></html>", "text/html", "400 Bad Request: nginx"),
    ("json", {"error": "Unprocessable", "message": "Text too long"}, "application/json",
     "Text too long"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("kind", "body", "content_type", "words"), BODIES, ids=[b[0] for b in BODIES]
)
def test_refused_post_says_what_the_server_said(
    side: Side, kind: str, body: Any, content_type: str, words: str
) -> None:
    """A 400 on the post, whatever the body's shape: PostRejected with the server's words."""
    network = fail_with(side, side.post_path, 400, body, content_type)
    with pytest.raises(PostRejected) as caught:
        network.publish(outgoing())
    assert "400" in str(caught.value)
    assert words in str(caught.value), str(caught.value)
    assert words in caught.value.reason or caught.value.reason in words


def test_empty_json_error_says_so(side: Side) -> None:
    """A 400 whose body is ``{}``: the message names the status and says nothing was explained,
    instead of ending on a colon."""
    network = fail_with(side, side.post_path, 400, {}, "application/json")
    with pytest.raises(PostRejected) as caught:
        network.publish(outgoing())
    assert "HTTP 400" in str(caught.value)
    assert not str(caught.value).rstrip().endswith(":")


def test_plain_text_bad_token_on_verify_is_auth_failed(side: Side) -> None:
    """Takahē's answer to a bad token, 400 "Invalid Bearer token" in plain text: verify says
    AuthFailed with those words, not "PostRejected: HTTP 400 Bad Request:"."""
    network = fail_with(side, side.verify_path, 400, "Invalid Bearer token", "text/plain")
    with pytest.raises(AuthFailed) as caught:
        network.verify()
    assert "Invalid Bearer token" in str(caught.value)
    assert "400" in str(caught.value)


def test_html_404_on_verify_is_account_unreadable(side: Side) -> None:
    """A web server's HTML 404 (a wrong address): AccountUnreadable with the page's title and
    text, bounded, not a refused post."""
    network = fail_with(side, side.verify_path, 404, HTML_404, "text/html")
    with pytest.raises(NetworkError) as caught:
        network.verify()
    assert type(caught.value) is AccountUnreadable
    message = str(caught.value)
    assert "404 Not Found" in message and "requested URL was not found" in message
    assert "<" not in message and "p{}" not in message


def test_json_error_on_verify_keeps_its_words(side: Side) -> None:
    """A JSON 422 on verify that is not about the token: AccountUnreadable, the server's words."""
    body = {"error": "This method requires an authenticated user", "message": "No user"}
    network = fail_with(side, side.verify_path, 422, body, "application/json")
    with pytest.raises(AuthFailed) as caught:  # "authenticated": about the credentials
        network.verify()
    assert "422" in str(caught.value)
    body = {"error": "Gone fishing"}
    network = fail_with(side, side.verify_path, 422, body, "application/json")
    with pytest.raises(AccountUnreadable, match="Gone fishing"):
        network.verify()


def test_long_server_text_is_bounded(side: Side) -> None:
    """A server that answers a whole page of text gets at most 200 characters of it quoted."""
    network = fail_with(side, side.post_path, 400, "word " * 500, "text/plain")
    with pytest.raises(PostRejected) as caught:
        network.publish(outgoing())
    assert len(caught.value.reason) <= 200
    assert len(str(caught.value)) < 400


def test_echoed_secret_is_redacted(side: Side) -> None:
    """A server that echoes the secret in plain text: the secret reaches no message or cause."""
    network = fail_with(side, side.verify_path, 400, f"bad token {side.secret} here", "text/plain")
    with pytest.raises(NetworkError) as caught:
        network.verify()
    assert "[redacted]" in str(caught.value)
    assert side.secret not in "".join(traceback.format_exception(caught.value))
