"""Find an X post an earlier, ambiguous attempt may have created: the account's own timeline.

X has no idempotency key: a re-sent post that had landed is answered with the "duplicate
content" 403, which carries no id, and a thread's next part then has nothing to reply to. So
before re-sending, ``XTimelineLookup.find`` reads ``GET /2/users/:id/tweets`` (start_time =
since, newest first, retweets left out) through tweepy and returns the post whose text is ours.

X rewrites every URL to a t.co link (and appends one for attached media) and HTML-escapes
&, < and > in ``text``, so texts are compared after unescaping X's, with every URL replaced
by one placeholder on both sides and whitespace collapsed. Where X gives the post's
``entities`` (asked for), the links it expanded must also be ours, in order: two of the
account's posts that differ only in their links are never taken for each other.

The user id: an OAuth 1.0a access token begins with it ("12345-abc…"); otherwise one
``GET /2/users/me`` per adapter. X bills each post a read returns: ``posts_read`` says how
many the last lookup read, for the month's spend. A lookup that fails (429, 5xx, auth,
timeout, an unreadable answer) logs one line and finds nothing, so publishing goes on as it
would without it (the duplicate answer decides).
"""

from __future__ import annotations

import html
import logging
import re
from datetime import UTC, datetime
from typing import Any

import requests
import tweepy

from amplifier.logs import log_event
from amplifier.networks.answers import scrub
from amplifier.networks.base import Receipt

log = logging.getLogger(__name__)

PAGE_SIZE = 10  # X's user timeline takes 5..100 per page; an ambiguous post is recent
MAX_PAGES = 3
URL = "\x00url\x00"
# A URL as X recognises one: with a scheme, or a bare domain ("example.org/path"); trailing
# punctuation stays outside it, as X leaves it outside the t.co link.
_URLS = re.compile(
    r"(?:https?://|\b(?:[a-z0-9-]+\.)+[a-z]{2,}\b)[^\s]*?(?=[.,;:!?)\]'\"]*(?:\s|$))",
    re.IGNORECASE,
)
_TOKEN_USER = re.compile(r"^(\d+)-")


def comparable(text: str) -> str:
    """``text`` with every URL one placeholder and whitespace collapsed."""
    return " ".join(_URLS.sub(URL, text).split())


def same_post(ours: str, theirs: str, expanded: list[str] | None = None) -> bool:
    """Whether X's ``text`` of a post (t.co links, HTML-escaped) is our ``ours``; with
    ``expanded``, the post's links as X expanded them (media links left out), those too."""
    mine, found = comparable(ours), comparable(html.unescape(theirs))
    while found != mine and found.endswith(" " + URL):  # X's link to attached media
        found = found[: -len(URL) - 1]
    if found != mine:
        return False
    return expanded is None or [_bare(u) for u in expanded] == [
        _bare(u) for u in _URLS.findall(ours)
    ]


def expanded_links(post: dict[str, Any]) -> list[str] | None:
    """The links X expanded in a post (``entities.urls``, media left out); None when X gave
    no entities to compare."""
    entities = post.get("entities")
    if not isinstance(entities, dict):
        return None
    urls = [u for u in entities.get("urls") or [] if isinstance(u, dict)]
    return [str(u.get("expanded_url") or "") for u in urls if not u.get("media_key")]


def _bare(url: str) -> str:
    """A link as compared: no scheme, no www., no trailing slash, lower case."""
    url = re.sub(r"^https?://", "", url.strip(), flags=re.IGNORECASE).lower()
    return url.removeprefix("www.").rstrip("/")


def user_id_of(access_token: str) -> str | None:
    """The numeric user id an OAuth 1.0a access token starts with, if it does."""
    match = _TOKEN_USER.match(access_token)
    return match.group(1) if match else None


class XTimelineLookup:
    """Looks for one of the account's own recent posts by its text (see the module doc)."""

    def __init__(
        self,
        client: tweepy.Client,
        account: str,
        *,
        user_auth: bool,
        access_token: str = "",
        secrets: tuple[str, ...] = (),
    ) -> None:
        self._client = client
        self._account = account
        self._user_auth = user_auth
        self._user_id = user_id_of(access_token) if user_auth else None
        self._secrets = [s for s in secrets if s]
        self.posts_read = 0  # posts the last lookup was given: X bills each

    def find(self, text: str, since: datetime) -> Receipt | None:
        """The newest of the account's own posts since ``since`` whose text is ``text``;
        None when there is none or the timeline could not be read."""
        self.posts_read = 0
        since = since if since.tzinfo is not None else since.replace(tzinfo=UTC)
        start = since.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        try:
            user_id = self._user_id or self._me()
            found = self._search(user_id, text, start)
        except (tweepy.TweepyException, requests.RequestException, ValueError, KeyError,
                TypeError, AttributeError) as exc:  # fmt: skip
            self._failed(exc)
            return None
        log_event(log, "x-lookup", account=self._account, since=start,
                  posts_read=self.posts_read, found=found.remote_id if found else None)  # fmt: skip
        return found

    def _me(self) -> str:
        response = self._client.get_me(user_auth=self._user_auth)
        user_id = str(response.json()["data"]["id"])
        self._user_id = user_id
        return user_id

    def _search(self, user_id: str, text: str, start: str) -> Receipt | None:
        token: str | None = None
        for _ in range(MAX_PAGES):
            response = self._client.get_users_tweets(
                user_id,
                start_time=start,
                max_results=PAGE_SIZE,
                exclude=["retweets"],
                tweet_fields=["created_at", "entities"],
                pagination_token=token,
                user_auth=self._user_auth,
            )
            body: dict[str, Any] = response.json()
            posts = body.get("data") or []
            self.posts_read += len(posts)
            for post in posts:  # newest first
                if same_post(text, str(post["text"]), expanded_links(post)):
                    post_id = str(post["id"])
                    return Receipt(remote_id=post_id, url=f"https://x.com/i/web/status/{post_id}")
            token = (body.get("meta") or {}).get("next_token")
            if not token:
                break
        return None

    def _failed(self, exc: Exception) -> None:
        status = None
        if isinstance(exc, tweepy.HTTPException):
            status = exc.response.status_code
        reason = scrub(f"{type(exc).__name__}: {exc}", self._secrets)[:300]
        log_event(log, "x-lookup-failed", logging.WARNING, account=self._account,
                  status=status, posts_read=self.posts_read, reason=reason)  # fmt: skip
