"""A post's link as the apps show it, read back as the network's id (review --url); anything
else is None, never an exception."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from amplifier.networks.post_links import remote_id_of

RKEY = "3lbzqmqmq2c2a"


@pytest.mark.parametrize(
    ("network", "url", "expected"),
    [
        ("x", "https://x.com/families/status/1864000000000000000", "1864000000000000000"),
        ("x", "https://twitter.com/families/status/123/", "123"),
        ("x", "https://mobile.twitter.com/a_b/status/9", "9"),
        ("x", "https://x.com/families/status/77?s=46&t=AbC", "77"),
        ("mastodon", "https://mastodon.social/@families/5#replies", "5"),
        ("mastodon", "https://mastodon.social/@families/113500000000000000", "113500000000000000"),
        ("mastodon", "https://m.example/users/families/statuses/42", "42"),
        ("bluesky", f"https://bsky.app/profile/families.bsky.social/post/{RKEY}",
         f"at://families.bsky.social/app.bsky.feed.post/{RKEY}"),
        ("bluesky", f"https://bsky.app/profile/did:plc:abc123/post/{RKEY}",
         f"at://did:plc:abc123/app.bsky.feed.post/{RKEY}"),
        ("x", "https://x.com/families", None),
        ("x", "https://mastodon.social/@families/1", None),
        ("mastodon", "https://x.com/families/status/1", None),
        ("mastodon", "https://mastodon.social/@families", None),
        ("bluesky", "https://bsky.app/profile/families.bsky.social", None),
        ("bluesky", "https://bsky.app/profile/a/post/../../x", None),
        ("x", "https://x.com/families/status/1?s=20 extra", None),
        ("threads", "https://x.com/families/status/1", None),
    ],
)  # fmt: skip
def test_links_of_each_network(network: str, url: str, expected: str | None) -> None:
    assert remote_id_of(network, url) == expected


@given(st.sampled_from(["x", "mastodon", "bluesky"]), st.text())
def test_no_text_makes_it_raise(network: str, url: str) -> None:
    found = remote_id_of(network, url)
    assert found is None or (found and "/" not in found) or found.startswith("at://")
