"""The fake X's user timeline, ``GET /2/users/:id/tweets``, shaped as X answers it.

The user's own posts, newest first, those created before ``start_time`` left out, at most
``max_results`` (5..100, else 400) a page with ``meta.next_token`` for the next. Each
``text`` is as X gives it back: every URL rewritten to a t.co link, one more t.co link for
attached media, and &, < and > HTML-escaped; asked for, ``entities.urls`` expand them. X
bills each post returned (``returned``). A failure (429, 500) is scripted with ``timeline_fault``.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from amplifier.testing.fakeserver import Fault, Request, Response

if TYPE_CHECKING:
    from amplifier.testing.fake_x import FakeTweet

USER_ID = "2244994945"  # the fake account's id, as GET /2/users/me gives it
PATH = "/2/users/"
# What X turns into a t.co link: a URL with a scheme or a bare domain; trailing punctuation
# is left outside.
_LINK = re.compile(r"(?:https?://|\b[\w-]+\.(?:org|com|net|io|social|example)\b)\S*")
_TRAILING = ".,;:!?)'\""


def timeline_fault(status: int) -> Fault:
    """The next timeline read answered ``status`` (429: with its rate-limit headers)."""
    body = {"title": "Too Many Requests" if status == 429 else "Internal Server Error",
            "status": status}  # fmt: skip
    headers = {"x-rate-limit-remaining": "0"} if status == 429 else {}
    path = f"{PATH}{USER_ID}/tweets"
    return Fault(method="GET", path_prefix=path, status=status, body=body, headers=headers)


def _tco(url: str) -> str:
    return "https://t.co/" + hashlib.sha1(url.encode()).hexdigest()[:10]


def as_x_shows(tweet: FakeTweet) -> str:
    """The post's text as X's API gives it back."""

    def rewrite(match: re.Match[str]) -> str:
        link = match.group(0)
        kept = link.rstrip(_TRAILING)
        return _tco(kept) + link[len(kept) :]

    text = _LINK.sub(rewrite, tweet.text)
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    if tweet.media_ids:
        text += " " + _tco("media:" + tweet.media_ids[0])
    return text


def url_entities(tweet: FakeTweet) -> list[dict[str, Any]]:
    """``entities.urls`` as X gives them: each link's t.co and expanded address (a bare
    domain with http://), then the attached media's link, which carries a media key."""
    found = []
    for match in _LINK.finditer(tweet.text):
        kept = match.group(0).rstrip(_TRAILING)
        expanded = kept if re.match(r"https?://", kept) else f"http://{kept}"
        display = re.sub(r"^https?://(www\.)?", "", kept)
        found.append({"url": _tco(kept), "expanded_url": expanded, "display_url": display})
    if tweet.media_ids:
        link = _tco("media:" + tweet.media_ids[0])
        found.append({"url": link, "media_key": f"3_{tweet.media_ids[0]}",
                      "expanded_url": f"https://x.com/i/web/status/{tweet.id}/photo/1",
                      "display_url": "pic.x.com/media"})  # fmt: skip
    return found


def _stamp(moment: float) -> str:
    return datetime.fromtimestamp(moment, UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _invalid(message: str) -> Response:
    problem = "https://api.twitter.com/2/problems/invalid-request"
    body = {"errors": [{"message": message}], "title": "Invalid Request", "type": problem}
    return Response(400, body)


def user_tweets(
    request: Request, posts: Sequence[FakeTweet], deleted: set[str]
) -> tuple[Response, int]:
    """The answer to one timeline read over ``posts`` (oldest first, as stored), and how many
    posts it returned."""
    parts = request.path[len(PATH) :].split("/")
    if len(parts) != 2 or parts[1] != "tweets" or not parts[0].isdigit():
        return Response(404, {"title": "Not Found Error", "status": 404}), 0
    query = {name: values[-1] for name, values in request.query.items() if values}
    try:
        size = int(query.get("max_results", "10"))
    except ValueError:
        return _invalid("max_results must be a number"), 0
    if not 5 <= size <= 100:
        return _invalid(f"The `max_results` value [{size}] is not between 5 and 100"), 0
    since = 0.0
    if "start_time" in query:
        try:
            since = datetime.fromisoformat(query["start_time"].replace("Z", "+00:00")).timestamp()
        except ValueError:
            return _invalid(f"Invalid start_time {query['start_time']!r}"), 0
    own = parts[0] == USER_ID
    newest_first = [p for p in reversed(posts) if own and p.id not in deleted]
    shown = [p for p in newest_first if p.created_at >= since]
    offset = int(query.get("pagination_token", "0") or 0)
    page = shown[offset : offset + size]
    fields = query.get("tweet.fields", "").split(",")
    data: list[dict[str, Any]] = []
    for tweet in page:
        item: dict[str, Any] = {"id": tweet.id, "text": as_x_shows(tweet),
                                "edit_history_tweet_ids": [tweet.id]}  # fmt: skip
        if "created_at" in fields:
            item["created_at"] = _stamp(tweet.created_at)
        if "entities" in fields and (links := url_entities(tweet)):
            item["entities"] = {"urls": links}
        data.append(item)
    meta: dict[str, Any] = {"result_count": len(data)}
    if data:
        meta |= {"newest_id": data[0]["id"], "oldest_id": data[-1]["id"]}
    if offset + size < len(shown):
        meta["next_token"] = str(offset + size)
    body: dict[str, Any] = {"meta": meta}
    if data:
        body["data"] = data
    return Response(200, body), len(data)
