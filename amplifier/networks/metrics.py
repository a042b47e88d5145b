"""Reading a post's public counts back: the shapes each network answers, as ``PostCounts``.

Each adapter's ``read_metrics(ids)`` asks for at most its network's batch size of its own
posts in one request (``BATCH``) and answers a ``MetricsAnswer``: the counts of the posts it
found, and the ids it did not find (deleted, or no longer visible). Counts a network does not
give stay None: Mastodon has no impressions or bookmarks, Bluesky no impressions, and a
Mastodon before 4.5 no quotes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from amplifier.errors import NetworkError
from amplifier.networks.base import NetworkName, RateLimitWindow

# Ids one request may carry: GET /api/v1/statuses?id[]= (Mastodon 4.3+), getPosts, GET /2/tweets.
BATCH: dict[NetworkName, int] = {"mastodon": 40, "bluesky": 25, "x": 100}


@dataclass(frozen=True)
class PostCounts:
    """What the network says of one post now; None where it gives no such count."""

    likes: int | None = None
    reposts: int | None = None
    replies: int | None = None
    quotes: int | None = None
    bookmarks: int | None = None
    impressions: int | None = None

    def as_dict(self) -> dict[str, int | None]:
        return {
            "likes": self.likes,
            "reposts": self.reposts,
            "replies": self.replies,
            "quotes": self.quotes,
            "bookmarks": self.bookmarks,
            "impressions": self.impressions,
        }


@dataclass(frozen=True)
class MetricsAnswer:
    """One read: counts by remote id, the ids not found, the requests made, the windows seen.

    ``error`` is set when the read stopped part way (one status at a time, then a 429): the
    ids in neither ``counts`` nor ``missing`` were not asked, and are asked again later.
    """

    counts: Mapping[str, PostCounts]
    missing: tuple[str, ...]
    requests: int = 1
    rate_limits: tuple[RateLimitWindow, ...] = ()
    error: NetworkError | None = None


@runtime_checkable
class MetricsReader(Protocol):
    """An adapter that can read its own posts' counts (the real ones; not the dry run)."""

    network: NetworkName
    account: str

    def read_metrics(self, remote_ids: Sequence[str]) -> MetricsAnswer: ...


def _count(value: Any) -> int | None:
    return int(value) if isinstance(value, int) and not isinstance(value, bool) else None


def mastodon_counts(status: Mapping[str, Any]) -> PostCounts:
    """A Mastodon status's favourites, reblogs, replies, and quotes where the server has them."""
    return PostCounts(
        likes=_count(status.get("favourites_count")),
        reposts=_count(status.get("reblogs_count")),
        replies=_count(status.get("replies_count")),
        quotes=_count(status.get("quotes_count")),
    )


def bluesky_counts(view: Any) -> PostCounts:
    """An ``app.bsky.feed.defs#postView`` (atproto's model): likes, reposts, replies, quotes."""
    return PostCounts(
        likes=_count(getattr(view, "like_count", None)),
        reposts=_count(getattr(view, "repost_count", None)),
        replies=_count(getattr(view, "reply_count", None)),
        quotes=_count(getattr(view, "quote_count", None)),
        bookmarks=_count(getattr(view, "bookmark_count", None)),
    )


def x_counts(tweet: Mapping[str, Any]) -> PostCounts:
    """A v2 post's ``public_metrics``."""
    metrics = tweet.get("public_metrics") or {}
    return PostCounts(
        likes=_count(metrics.get("like_count")),
        reposts=_count(metrics.get("retweet_count")),
        replies=_count(metrics.get("reply_count")),
        quotes=_count(metrics.get("quote_count")),
        bookmarks=_count(metrics.get("bookmark_count")),
        impressions=_count(metrics.get("impression_count")),
    )


def answer(
    asked: Sequence[str],
    found: Mapping[str, PostCounts],
    *,
    requests: int = 1,
    rate_limits: tuple[RateLimitWindow, ...] = (),
) -> MetricsAnswer:
    """The answer to ``asked``: what was found, and every other asked id as missing."""
    counts = {remote_id: found[remote_id] for remote_id in asked if remote_id in found}
    missing = tuple(remote_id for remote_id in asked if remote_id not in found)
    return MetricsAnswer(counts, missing, requests, rate_limits)
