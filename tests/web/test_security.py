"""Who gets in: sessions, roles, CSRF, throttled sign-in, headers, and no secret ever shown."""

from __future__ import annotations

import base64
import re
from datetime import timedelta

import pytest
from starlette.testclient import TestClient

from amplifier.config import hash_password, web_access
from amplifier.web import Console, create_app, open_console

from .conftest import (
    ENVIRONMENT,
    MASTODON_TOKEN,
    ORGANIZER_PASSWORD,
    START,
    VIEWER_PASSWORD,
    X_TOKEN,
    Clock,
    csrf_of,
    sign_in,
)
from .rows import unknown

PAGES = ["/", "/history", "/status", "/review", "/posts", "/?view=week"]
ACTIONS = ["/pause", "/resume", "/post-now", "/review/1"]


@pytest.mark.parametrize("path", PAGES)
def test_every_page_without_a_session_goes_to_sign_in(client: TestClient, path: str) -> None:
    """No session: a 303 to the sign-in page, which brings the visitor back afterwards."""
    answer = client.get(path, follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"].startswith("/signin")
    assert "x1" not in answer.text


@pytest.mark.parametrize("path", ACTIONS)
def test_every_action_without_a_session_is_refused(client: TestClient, path: str) -> None:
    """No session: every POST is a 403 and changes nothing."""
    token = csrf_of(client.get("/signin").text)  # even with a valid CSRF token
    answer = client.post(path, data={"csrf": token, "outcome": "published"})
    assert answer.status_code == 403
    assert client.app.state.console.store.paused()[0] is False  # type: ignore[attr-defined]


def _csrf(client: TestClient) -> str:
    return csrf_of(client.get("/status").text)


def test_a_viewer_cannot_pause_review_or_post(viewer: TestClient, console: Console) -> None:
    """A viewer's session with its CSRF token still gets 403 on every organizer action."""
    row = unknown(console.store, "m1", START - timedelta(hours=1))
    token = _csrf(viewer)
    for path, data in (
        ("/pause", {"reason": "x"}),
        ("/resume", {}),
        ("/post-now", {"account": "x1"}),
        (f"/review/{row.id}", {"outcome": "published"}),
    ):
        answer = viewer.post(path, data={"csrf": token, **data})
        assert answer.status_code == 403, path
        assert "viewer" in answer.text
    assert console.store.paused()[0] is False
    assert console.store.get_by_id(row.id).status == "unknown"  # type: ignore[union-attr]
    assert console.store.history(statuses=["published"]) == []


def test_an_organizer_without_the_csrf_token_is_refused(
    organizer: TestClient, console: Console
) -> None:
    """A form without this session's token (missing, or another's) is a 403; nothing moves."""
    assert organizer.post("/pause", data={"reason": "x"}).status_code == 403
    assert organizer.post("/pause", data={"csrf": "forged", "reason": "x"}).status_code == 403
    assert console.store.paused()[0] is False
    assert organizer.post("/pause", data={"csrf": _csrf(organizer)}).status_code == 200
    assert console.store.paused()[0] is True


def test_sign_in_is_throttled_per_client(client: TestClient, clock: Clock) -> None:
    """Five wrong passwords, then even the right one waits (429, Retry-After) for 15 minutes."""
    token = csrf_of(client.get("/signin").text)
    for _ in range(5):
        wrong = client.post("/signin", data={"csrf": token, "password": "guess"})
        assert wrong.status_code == 401
    blocked = client.post("/signin", data={"csrf": token, "password": ORGANIZER_PASSWORD})
    assert blocked.status_code == 429
    assert int(blocked.headers["retry-after"]) > 800
    clock.now = START + timedelta(minutes=16)
    sign_in(client, ORGANIZER_PASSWORD)


def test_the_throttle_is_shared_by_web_processes_and_survives_a_restart(
    console: Console, clock: Clock
) -> None:
    """Failures on one web process count on another over the same database, and on a web
    process started afterwards: the count lives in the store, not in a process's memory."""
    assert console.config_path is not None
    first = TestClient(create_app(console), base_url="http://testserver")
    for _ in range(3):
        token = csrf_of(first.get("/signin").text)
        assert first.post("/signin", data={"csrf": token, "password": "guess"}).status_code == 401
    first.close()
    # Another dyno (its own console, its own app) on the same database: two more failures ...
    other = open_console(console.config_path, console.posts_path, console.access, clock=clock)
    second = TestClient(create_app(other), base_url="http://testserver")
    for _ in range(2):
        token = csrf_of(second.get("/signin").text)
        assert second.post("/signin", data={"csrf": token, "password": "guess"}).status_code == 401
    # ... and a third, started afterwards, already makes the client wait.
    restarted = TestClient(create_app(console), base_url="http://testserver")
    token = csrf_of(restarted.get("/signin").text)
    blocked = restarted.post("/signin", data={"csrf": token, "password": ORGANIZER_PASSWORD})
    assert blocked.status_code == 429 and int(blocked.headers["retry-after"]) > 800
    token = csrf_of(second.get("/signin").text)
    assert second.post("/signin", data={"csrf": token, "password": "x"}).status_code == 429
    # The window passes; a success clears the client's count for every process.
    clock.now = START + timedelta(minutes=16)
    sign_in(restarted, ORGANIZER_PASSWORD)
    assert console.store.sign_in_failures("testclient", START - timedelta(days=1)) == []
    second.close()
    restarted.close()
    other.close()


def test_sign_in_needs_its_csrf_token(client: TestClient) -> None:
    """The sign-in form carries a token too (no signing someone in from another site)."""
    answer = client.post("/signin", data={"password": ORGANIZER_PASSWORD})
    assert answer.status_code == 403


def test_session_cookie_is_signed_httponly_and_samesite(client: TestClient) -> None:
    """The cookie is HttpOnly and SameSite=Lax; an edited cookie is no session."""
    token = csrf_of(client.get("/signin").text)
    answer = client.post(
        "/signin", data={"csrf": token, "password": VIEWER_PASSWORD}, follow_redirects=False
    )
    cookie = answer.headers["set-cookie"]
    assert "httponly" in cookie.lower() and "samesite=lax" in cookie.lower()
    value = client.cookies["amplifier_session"]
    payload = value.split(".")[0]
    forged = base64.b64encode(
        base64.b64decode(payload + "==").replace(b"viewer", b"organizer")
    ).decode()
    client.cookies.set("amplifier_session", forged + value[len(payload) :])
    assert client.get("/status", follow_redirects=False).status_code == 303


def test_a_new_password_ends_older_sessions(organizer: TestClient, console: Console) -> None:
    """Changing the organizers' password signs out everyone signed in with the old one."""
    assert organizer.get("/status", follow_redirects=False).status_code == 200
    changed = dict(ENVIRONMENT, AMPLIFIER_WEB_ORGANIZER_PASSWORD_HASH=hash_password("new-one-42"))
    console.access = web_access(changed)  # the app's console: the next request reads it
    assert organizer.get("/status", follow_redirects=False).status_code == 303


def test_every_response_has_the_security_headers(organizer: TestClient) -> None:
    """CSP to the app's own origin, nosniff, no framing, no referrer; pages are not cached."""
    for path in [*PAGES, "/healthz", "/static/style.css", "/nowhere", "/history?state=x"]:
        answer = organizer.get(path)
        csp = answer.headers["content-security-policy"]
        assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp, path
        assert answer.headers["x-content-type-options"] == "nosniff"
        assert answer.headers["x-frame-options"] == "DENY"
        assert answer.headers["referrer-policy"] == "no-referrer"


def test_no_page_shows_a_secret(client: TestClient, console: Console) -> None:
    """Every page, error page and feed, for both roles, holds none of the configured secret
    values (passwords, the password hash, the session secret, the feed token, the accounts'
    credentials); nor does the session cookie."""
    unknown(console.store, "m1", START - timedelta(hours=1))
    secrets = [*console.access.secret_values(), ORGANIZER_PASSWORD, VIEWER_PASSWORD]
    secrets += [X_TOKEN, MASTODON_TOKEN]
    seen: list[str] = [client.get("/signin").text, client.get("/healthz").text]
    for password in (VIEWER_PASSWORD, ORGANIZER_PASSWORD):
        sign_in(client, password)
        for path in [*PAGES, "/?view=week&week=2", "/history?state=nope", "/nowhere"]:
            seen.append(client.get(path).text)
        seen.append(client.post("/pause", data={"csrf": _csrf(client)}).text)
        seen.append(client.cookies["amplifier_session"])
        seen.append(base64.b64decode(client.cookies["amplifier_session"].split(".")[0] + "==")
                    .decode(errors="replace"))  # fmt: skip
    token = console.access.calendar_token
    assert token is not None
    feed = client.get("/calendar.ics", params={"token": token}).text
    seen.append(feed)
    for text in seen:
        for secret in secrets:
            assert secret not in text
    assert len(secrets) == 8 and all(len(s) >= 12 for s in secrets)
    assert re.search(r"x1", "".join(seen))  # the scan read real pages


def test_signing_out_ends_the_session(organizer: TestClient) -> None:
    """Sign out (a form with the token): the pages ask to sign in again."""
    answer = organizer.post("/signout", data={"csrf": _csrf(organizer)}, follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"] == "/signin"
    assert organizer.get("/status", follow_redirects=False).status_code == 303
