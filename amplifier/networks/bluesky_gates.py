"""Who may reply to a Bluesky post and whether it may be quoted: its threadgate and postgate.

Both are records of their own in the author's repository, under the post's own record key,
naming the post. A post that has either is written with ``applyWrites``: the post and its
gates in one commit, so a post never stands without the gates it was meant to have, and the
record-key read-back after a lost answer (``bluesky.py``) still proves all of it landed. A
post with neither is a plain ``createRecord``, as before. What the network enforces: the
AppView hides replies the threadgate does not allow and quote posts the postgate disables;
the records themselves can still be written by anyone's client (docs/operators.md).
"""

from __future__ import annotations

from typing import Any

from atproto_client import models
from atproto_client.models.utils import get_response_model

from amplifier.networks.base import Replies

POST_COLLECTION = "app.bsky.feed.post"
THREADGATE = "app.bsky.feed.threadgate"
POSTGATE = "app.bsky.feed.postgate"


def gate_records(post_uri: str, created_at: str, replies: Replies, quotes: bool) -> list[Any]:
    """(collection, record) of each gate the post needs; none for everyone and quotes on."""
    gates: list[Any] = []
    if replies != "everyone":
        rules = {
            "nobody": [],
            "following": [models.AppBskyFeedThreadgate.FollowingRule()],
            "mentioned": [models.AppBskyFeedThreadgate.MentionRule()],
        }[replies]
        record = models.AppBskyFeedThreadgate.Record(
            post=post_uri, created_at=created_at, allow=rules
        )
        gates.append((THREADGATE, record))
    if not quotes:
        record = models.AppBskyFeedPostgate.Record(
            post=post_uri,
            created_at=created_at,
            embedding_rules=[models.AppBskyFeedPostgate.DisableRule()],
        )
        gates.append((POSTGATE, record))
    return gates


def write_post(
    client: Any, did: str, rkey: str, record: Any, replies: Replies, quotes: bool
) -> tuple[str, Any]:
    """Create the post (and its gates, in the same commit); (its at:// URI, the answer)."""
    uri = f"at://{did}/{POST_COLLECTION}/{rkey}"
    gates = gate_records(uri, record.created_at, replies, quotes)
    # Raw invoke rather than send_post: the answer's ratelimit-* headers go in the receipt.
    if not gates:
        data = models.ComAtprotoRepoCreateRecord.Data(
            repo=did, collection=POST_COLLECTION, record=record, rkey=rkey
        )
        response = client.invoke_procedure(
            "com.atproto.repo.createRecord", data=data, input_encoding="application/json"
        )
        created = get_response_model(response, models.ComAtprotoRepoCreateRecord.Response)
        return str(created.uri), response
    writes = [models.ComAtprotoRepoApplyWrites.Create(collection=POST_COLLECTION, rkey=rkey,
                                                      value=record)]  # fmt: skip
    writes += [
        models.ComAtprotoRepoApplyWrites.Create(collection=collection, rkey=rkey, value=gate)
        for collection, gate in gates
    ]
    data = models.ComAtprotoRepoApplyWrites.Data(repo=did, writes=writes)
    response = client.invoke_procedure(
        "com.atproto.repo.applyWrites", data=data, input_encoding="application/json"
    )
    return uri, response
