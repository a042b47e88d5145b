"""Who may reply and whether a post may be quoted, through each real SDK against its fake:
X's reply_settings (tweepy), Mastodon's quote policy (Mastodon.py), Bluesky's threadgate and
postgate written in one applyWrites commit with the post (atproto)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from amplifier.networks.base import HttpSettings, MemorySessionStore, OutgoingPost, Replies
from amplifier.networks.bluesky import BlueskyNetwork
from amplifier.networks.mastodon import MastodonNetwork
from amplifier.networks.x import XNetwork
from amplifier.testing.fake_bluesky import FakeBluesky
from amplifier.testing.fake_mastodon import FakeMastodon, FakeMastodonSettings
from amplifier.testing.fake_x import FakeX

HTTP = HttpSettings(connect_timeout=2.0, read_timeout=2.0, media_processing_timeout=5)


def _post(replies: Replies = "everyone", quotes: bool = True) -> OutgoingPost:
    key = uuid.uuid4().hex
    return OutgoingPost("acct", f"Keep families together {key[:6]}", key, replies=replies,
                        quotes=quotes)  # fmt: skip


def test_x_reply_settings() -> None:
    """following and mentioned map to X's values, nobody to mentionedUsers (a post that
    mentions no one: only the author may reply); everyone sends nothing."""
    with FakeX() as fake:
        net = XNetwork("acct", consumer_key="k", consumer_secret="s", access_token="t",
                       access_token_secret="ts", api_base=fake.base_url,
                       upload_base=fake.base_url, http=HTTP)  # fmt: skip
        for replies in ("everyone", "following", "mentioned", "nobody"):
            net.publish(_post(replies))
    sent = [post.reply_settings for post in fake.posts]
    assert sent == [None, "following", "mentionedUsers", "mentionedUsers"]


def test_mastodon_quote_policy() -> None:
    """Quotes off sends quote_approval_policy=nobody; quotes on sends none (the server's)."""
    token = "tok-quotes"
    with FakeMastodon(FakeMastodonSettings(token=token)) as fake:
        net = MastodonNetwork("acct", instance_url=fake.base_url, access_token=token,
                              sleep=lambda s: None, http=HTTP)  # fmt: skip
        net.publish(_post(quotes=False))
        net.publish(_post(replies="nobody"))
    assert [s.quote_approval_policy for s in fake.statuses] == ["nobody", None]


@pytest.fixture
def bluesky() -> Iterator[tuple[FakeBluesky, BlueskyNetwork]]:
    with FakeBluesky(handle="gates.test", password="pw") as fake:
        net = BlueskyNetwork("acct", handle="gates.test", app_password="pw",
                             sessions=MemorySessionStore(), service_url=fake.base_url)  # fmt: skip
        yield fake, net
        net.close()


@pytest.mark.parametrize(
    ("replies", "allow"),
    [("nobody", []), ("following", ["app.bsky.feed.threadgate#followingRule"]),
     ("mentioned", ["app.bsky.feed.threadgate#mentionRule"])],
)  # fmt: skip
def test_bluesky_threadgate(
    bluesky: tuple[FakeBluesky, BlueskyNetwork], replies: Replies, allow: list[str]
) -> None:
    """A threadgate under the post's record key names the post and allows only the rule."""
    fake, net = bluesky
    receipt = net.publish(_post(replies))
    [post] = fake.records
    [gate] = fake.gates
    assert post.uri == receipt.remote_id
    assert gate.uri == receipt.remote_id.replace("app.bsky.feed.post", "app.bsky.feed.threadgate")
    assert gate.value["post"] == post.uri
    assert [rule["$type"] for rule in gate.value["allow"]] == allow


def test_bluesky_postgate_and_no_gates_by_default(
    bluesky: tuple[FakeBluesky, BlueskyNetwork],
) -> None:
    """Quotes off: a postgate with the disable rule; everyone and quotes on: no gate at all."""
    fake, net = bluesky
    net.publish(_post())
    assert fake.gates == []
    receipt = net.publish(_post(quotes=False))
    [gate] = fake.gates
    assert gate.uri.endswith(receipt.remote_id.rsplit("/", 1)[1])
    assert "app.bsky.feed.postgate" in gate.uri
    assert gate.value["embeddingRules"] == [{"$type": "app.bsky.feed.postgate#disableRule"}]


def test_bluesky_a_repeated_commit_is_found_under_its_key(
    bluesky: tuple[FakeBluesky, BlueskyNetwork],
) -> None:
    """Sent again under the same delivery (a lost answer), the commit is refused whole and the
    post is read back under its key: one post, one gate."""
    fake, net = bluesky
    post = _post("nobody", quotes=False)
    first = net.publish(post)
    again = net.publish(post)
    assert again.remote_id == first.remote_id
    assert len(fake.records) == 1 and len(fake.gates) == 2
