"""The fake X's ``GET /2/tweets?ids=…&tweet.fields=public_metrics``, shaped as X answers it.

Up to 100 ids (more: 400); the posts found under ``data`` with their ``public_metrics`` when
asked for them, and one ``errors`` entry per id not found (deleted or never there), as X's
"resource-not-found" problems. X bills each post returned; ``returned`` counts them, so a test
can compare the bill with amplifier's own count. 900 lookups per 15 minutes per user.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from amplifier.testing.fakeserver import Response

MAX_IDS = 100
LOOKUPS_PER_15_MIN = 900


@dataclass
class PublicMetrics:
    """What readers did with one post (tests set them)."""

    likes: int = 0
    retweets: int = 0
    replies: int = 0
    quotes: int = 0
    bookmarks: int = 0
    impressions: int = 0

    def as_json(self) -> dict[str, int]:
        return {
            "retweet_count": self.retweets,
            "reply_count": self.replies,
            "like_count": self.likes,
            "quote_count": self.quotes,
            "bookmark_count": self.bookmarks,
            "impression_count": self.impressions,
        }


def not_found(post_id: str) -> dict[str, Any]:
    return {
        "value": post_id,
        "detail": f"Could not find tweet with ids: [{post_id}].",
        "title": "Not Found Error",
        "resource_type": "tweet",
        "parameter": "ids",
        "resource_id": post_id,
        "type": "https://api.twitter.com/2/problems/resource-not-found",
    }


def lookup(
    ids: Sequence[str],
    texts: dict[str, str],
    metrics: dict[str, PublicMetrics],
    fields: Sequence[str],
    headers: dict[str, str],
) -> tuple[Response, int]:
    """The answer to one lookup of ``ids`` over the posts ``texts`` (id -> text), and how
    many posts it returned (X bills each)."""
    if not ids or len(ids) > MAX_IDS:
        problem = {
            "errors": [
                {
                    "parameters": {"ids": [",".join(ids)]},
                    "message": f"The number of values in the `ids` query parameter list "
                    f"[{len(ids)}] is not between 1 and {MAX_IDS}",
                }
            ],
            "title": "Invalid Request",
            "detail": "One or more parameters to your request was invalid.",
            "type": "https://api.twitter.com/2/problems/invalid-request",
        }
        return Response(400, problem, headers), 0
    data: list[dict[str, Any]] = []
    errors: list[dict[str, Any]] = []
    for post_id in ids:
        if post_id not in texts:
            errors.append(not_found(post_id))
            continue
        tweet: dict[str, Any] = {
            "id": post_id,
            "text": texts[post_id],
            "edit_history_tweet_ids": [post_id],
        }
        if "public_metrics" in fields:
            tweet["public_metrics"] = metrics.setdefault(post_id, PublicMetrics()).as_json()
        data.append(tweet)
    body: dict[str, Any] = {}
    if data:
        body["data"] = data
    if errors:
        body["errors"] = errors
    return Response(200, body, headers), len(data)
