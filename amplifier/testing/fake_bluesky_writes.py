"""The fake PDS's ``com.atproto.repo.applyWrites``: a post and its gates in one commit.

Creates only (what the adapter sends). Like the real PDS, every write is checked before any
is kept, a record key already taken refuses the whole commit (500), and a gate must name a
post of the same commit or repository. Posts go to ``records``; threadgates and postgates to
``gates``, where ``getRecord`` finds them too.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from amplifier.networks.bluesky_keys import is_tid
from amplifier.testing.fake_bluesky_data import POST_COLLECTION, FakePost, fake_cid, xrpc_error
from amplifier.testing.fakeserver import Request, Response

if TYPE_CHECKING:
    from amplifier.testing.fake_bluesky import FakeBluesky

CREATE = "com.atproto.repo.applyWrites#create"
GATES = ("app.bsky.feed.threadgate", "app.bsky.feed.postgate")


def apply_writes(fake: FakeBluesky, request: Request) -> Response:
    account = fake._account_for(request, fake._access_tokens)
    if isinstance(account, Response):
        return account
    data = request.json() or {}
    if data.get("repo") not in (account.did, account.handle):
        return xrpc_error(401, "AuthenticationRequired", "Input/repo must be the session's")
    writes = data.get("writes")
    if not isinstance(writes, list) or not writes:
        return xrpc_error(400, "InvalidRequest", "Input/writes must be a non-empty array")
    made: list[FakePost] = []
    for write in writes:
        problem = _problem(fake, write, made, account.did)
        if problem:
            return xrpc_error(400, "InvalidRequest", problem)
        uri = f"at://{account.did}/{write['collection']}/{write['rkey']}"
        body = json.dumps(write["value"], sort_keys=True).encode()
        made.append(FakePost(uri, fake_cid("bafyrei", body), account.did, write["value"]))
    with fake._lock:
        taken = {p.uri for p in [*fake.records, *fake.gates]}
        if any(p.uri in taken for p in made):
            return xrpc_error(500, "InternalServerError", "Internal Server Error")
        for post in made:
            is_post = post.uri.split("/")[3] == POST_COLLECTION
            (fake.records if is_post else fake.gates).append(post)
    results = [{"$type": f"{CREATE}Result", "uri": p.uri, "cid": p.cid} for p in made]
    return Response(200, {"commit": {"cid": "bafyreicommit", "rev": "3k"}, "results": results})


def _problem(fake: FakeBluesky, write: Any, made: list[FakePost], did: str) -> str | None:
    if not isinstance(write, dict) or write.get("$type") != CREATE:
        return "Input/writes must be applyWrites#create"
    value, collection, rkey = write.get("value"), write.get("collection"), write.get("rkey")
    if not isinstance(value, dict) or not isinstance(rkey, str) or not is_tid(rkey):
        return "Input/writes/value and a TID record key are required"
    if collection == POST_COLLECTION:
        return fake._post_problem(value)
    if collection not in GATES:
        return f"Unexpected collection {collection!r}"
    post = value.get("post")
    known = {p.uri for p in [*made, *fake.records]}
    if post not in known or post != f"at://{did}/{POST_COLLECTION}/{rkey}":
        return f"Record/post of a {collection} must be the post under the same record key"
    if collection == GATES[0] and not isinstance(value.get("allow", []), list):
        return "Record/allow must be an array"
    if collection == GATES[1] and not isinstance(value.get("embeddingRules"), list):
        return "Record/embeddingRules must be an array"
    return None
