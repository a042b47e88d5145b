"""The fake PDS's ``app.bsky.feed.getPosts`` (which a real PDS proxies to the AppView).

As the AppView answers it: up to 25 AT URIs (more: 400 InvalidRequest), each found post as a
``postView`` with its author, record and counts, in the order asked; deleted or unknown
posts are left out without an error.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any

from amplifier.testing.fake_bluesky_data import FakeAccount, FakePost, xrpc_error
from amplifier.testing.fakeserver import Request, Response

if TYPE_CHECKING:
    from amplifier.testing.fake_bluesky import FakeBluesky

MAX_URIS = 25


def post_view(post: FakePost, author: FakeAccount | None) -> dict[str, Any]:
    """The ``app.bsky.feed.defs#postView`` of one post."""
    created = str(post.value.get("createdAt") or "2026-01-01T00:00:00.000Z")
    return {
        "uri": post.uri,
        "cid": post.cid,
        "author": {
            "did": post.repo,
            "handle": author.handle if author else "handle.invalid",
            "displayName": author.display_name if author else "",
            "labels": [],
            "createdAt": "2026-01-01T00:00:00.000Z",
        },
        "record": post.value,
        "replyCount": post.replies,
        "repostCount": post.reposts,
        "likeCount": post.likes,
        "quoteCount": post.quotes,
        "indexedAt": created,
        "viewer": {"threadMuted": False, "embeddingDisabled": False},
        "labels": [],
    }


def get_posts(
    uris: Sequence[str],
    records: Sequence[FakePost],
    accounts: Mapping[str, FakeAccount],
    lock: AbstractContextManager[Any],
) -> Response:
    """``app.bsky.feed.getPosts``: the views of the posts still there (read under ``lock``)."""
    if len(uris) > MAX_URIS:
        return xrpc_error(
            400, "InvalidRequest", f"uris must not have more than {MAX_URIS} elements"
        )
    with lock:
        by_uri = {post.uri: post for post in records if not post.deleted}
        by_did = {account.did: account for account in accounts.values()}
    found = [by_uri[uri] for uri in uris if uri in by_uri]
    return Response(200, {"posts": [post_view(p, by_did.get(p.repo)) for p in found]})


def read_posts(fake: FakeBluesky, request: Request) -> Response:
    """The fake's ``getPosts`` route: a session's read of the posts it names."""
    account = fake._account_for(request, fake._access_tokens)
    if isinstance(account, Response):
        return account
    return get_posts(request.query.get("uris", []), fake.records, fake.accounts, fake._lock)
