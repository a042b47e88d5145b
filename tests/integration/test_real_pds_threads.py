"""A thread on a real PDS (npm @atproto/pds): three posts, each later one a reply whose root
and parent strong refs (URI and CID) are the records the PDS itself holds."""

from __future__ import annotations

import uuid
from dataclasses import replace

from amplifier.networks.base import MemorySessionStore

from .conftest import LocalPds, PdsAccount
from .test_real_pds import adapter, get_record, post


def test_a_thread_is_stored_as_replies_with_root_and_parent(local_pds: LocalPds) -> None:
    account: PdsAccount = local_pds.create_account(f"thread{uuid.uuid4().hex[:6]}")
    net = adapter(local_pds, account, MemorySessionStore())
    first = net.publish(post("A thread about family detention, in three parts."))
    second = net.publish(
        replace(
            post("First: children held far longer than the law allows."),
            reply_to=first.remote_id,
            reply_root=first.remote_id,
        )
    )
    third = net.publish(
        replace(
            post("Second: families kept apart for months."),
            reply_to=second.remote_id,
            reply_root=first.remote_id,
        )
    )
    root, middle, last = (get_record(local_pds, r.remote_id) for r in (first, second, third))
    assert "reply" not in root["value"]
    for part in (middle, last):
        assert (part["value"]["reply"]["root"]["uri"], part["value"]["reply"]["root"]["cid"]) == (
            root["uri"],
            root["cid"],
        )
    assert middle["value"]["reply"]["parent"]["cid"] == root["cid"]
    reply = last["value"]["reply"]
    assert (reply["root"]["uri"], reply["root"]["cid"]) == (root["uri"], root["cid"])
    assert (reply["parent"]["uri"], reply["parent"]["cid"]) == (middle["uri"], middle["cid"])
