"""Reading the account's own Bluesky records back: the crash look-up, a thread's reply refs.

A reply on Bluesky names its thread's first post (root) and the post it answers (parent), each
by URI and CID (a strong ref). The delivery keeps the URIs; the CIDs are read from the PDS
(``getRecord``) when the reply is made, so a part recovered after a crash, whose receipt
holds only the URI, is answered exactly as one published a moment ago.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from atproto_client import models

from amplifier.networks.base import Receipt
from amplifier.networks.bluesky_xrpc import get_record, parse_time

POST_COLLECTION = "app.bsky.feed.post"


def strong_ref(client: Any, uri: str) -> Any:
    """The post at ``uri`` as a strong ref (URI and CID), read from its own repository."""
    repo, collection, rkey = uri.removeprefix("at://").split("/", 2)
    found = get_record(client, repo, collection, rkey)
    return models.ComAtprotoRepoStrongRef.Main(uri=str(found["uri"]), cid=str(found["cid"]))


def reply_ref(client: Any, root: str, parent: str) -> Any:
    """The reply field of a post answering ``parent`` in the thread that ``root`` began."""
    root_ref = strong_ref(client, root)
    parent_ref = root_ref if parent == root else strong_ref(client, parent)
    return models.AppBskyFeedPost.ReplyRef(root=root_ref, parent=parent_ref)


def find_by_text(
    client: Any,
    did: str | None,
    text: str,
    since: datetime,
    *,
    page_size: int,
    max_pages: int,
    url_of: Callable[[str], str],
) -> Receipt | None:
    """The newest of the account's own posts with exactly ``text``, created since ``since``:
    pages through listRecords (newest first), stopping at the first record created before
    ``since`` or after ``max_pages`` pages."""
    cursor: str | None = None
    for _ in range(max_pages):
        params = models.ComAtprotoRepoListRecords.Params(
            repo=did, collection=POST_COLLECTION, limit=page_size, cursor=cursor
        )
        response = client.invoke_query("com.atproto.repo.listRecords", params=params)
        content = response.content if isinstance(response.content, dict) else {}
        records = content.get("records") or []
        for record in records:
            value = record.get("value") or {}
            created_at = parse_time(value.get("createdAt"))
            if created_at is not None and created_at < since:
                return None
            uri = str(record.get("uri") or "")
            if uri and value.get("text") == text:
                return Receipt(uri, url_of(uri))
        cursor = content.get("cursor")
        if not cursor or not records:
            return None
    return None
