"""XNetwork.find_existing: the account's own timeline read through real tweepy, against the
fake X answering ``GET /2/users/:id/tweets`` as X does (t.co links, HTML escaping)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from amplifier.networks.base import HttpSettings, OutgoingPost
from amplifier.networks.x import XNetwork
from amplifier.networks.x_lookup import same_post, user_id_of
from amplifier.testing.fake_x import FakeX, make_fake_x
from amplifier.testing.fake_x_timeline import USER_ID, as_x_shows, timeline_fault
from amplifier.testing.fakeserver import Fault

SECRET = "ats-SECRET-3c1f-do-not-print"
LINKED = "Rally & vigil <tonight> at 7: https://example.org/rally?day=sat&time=7. Bring a friend"


@pytest.fixture(scope="module")
def fake_server() -> Iterator[FakeX]:
    with make_fake_x() as server:
        yield server


@pytest.fixture
def fake(fake_server: FakeX) -> FakeX:
    fake_server.reset()
    return fake_server


def network(fake: FakeX, **kwargs: Any) -> XNetwork:
    options: dict[str, Any] = {
        "consumer_key": "ck", "consumer_secret": "cs-SECRET-77aa", "access_token": "at-public",
        "access_token_secret": SECRET, "api_base": fake.base_url, "upload_base": fake.base_url,
        "http": HttpSettings(connect_timeout=2.0, read_timeout=2.0),
    }  # fmt: skip
    options.update(kwargs)
    return XNetwork("campaign-x", **options)


def _since() -> datetime:
    return datetime.now(UTC) - timedelta(minutes=5)


def _publish(net: XNetwork, text: str) -> str:
    return net.publish(OutgoingPost("campaign-x", text, "k")).remote_id


def test_a_post_with_a_link_and_an_ampersand_is_found_despite_tco_and_escaping(
    fake: FakeX,
) -> None:
    """X gives the text back with a t.co link and &amp;/&lt;/&gt;: still our post, with its id
    and URL; the read is billed per post returned."""
    net = network(fake)
    _publish(net, "An earlier post of the account")
    posted = _publish(net, LINKED)
    _publish(net, "A later post of the account")
    shown = as_x_shows(fake.posts[1])
    assert "https://t.co/" in shown and "&amp;" in shown and "example.org" not in shown
    found = net.find_existing(LINKED, _since())
    assert found is not None
    assert found.remote_id == posted
    assert found.url == f"https://x.com/i/web/status/{posted}"
    assert net.posts_read == fake.returned == 3
    assert net.find_existing("Rally & vigil tonight at 7", _since()) is None


def test_two_posts_differing_only_in_their_links_are_told_apart(fake: FakeX) -> None:
    """X shows both links as t.co; the entities it expands tell which post is ours, even when
    the other is newer (a bare domain is expanded with http://)."""
    net = network(fake)
    ours = _publish(net, "Sign the petition: example.org/sign today")
    _publish(net, "Sign the petition: https://example.org/other today")
    assert as_x_shows(fake.posts[0]).split()[3] != "example.org/sign"  # both are t.co links
    found = net.find_existing("Sign the petition: example.org/sign today", _since())
    assert found is not None and found.remote_id == ours
    assert net.find_existing("Sign the petition: https://example.org/third today", _since()) is None


def test_only_posts_since_start_time_are_read(fake: FakeX) -> None:
    net = network(fake)
    _publish(net, "Vigil tonight at 7")
    assert net.find_existing("Vigil tonight at 7", datetime.now(UTC) + timedelta(minutes=1)) is None
    assert net.posts_read == 0
    [timeline] = [r for r in fake.received if r.path.endswith("/tweets") and r.method == "GET"]
    assert timeline.query["start_time"][0].endswith("Z")
    assert timeline.query["exclude"] == ["retweets"]


def test_the_user_id_comes_from_the_token_else_from_users_me_once(fake: FakeX) -> None:
    assert user_id_of(f"{USER_ID}-AbCdEf") == USER_ID
    assert user_id_of("at-public") is None
    by_token = network(fake, access_token=f"{USER_ID}-AbCdEf")
    _publish(by_token, "Vigil tonight at 7")
    assert by_token.find_existing("Vigil tonight at 7", _since()) is not None
    assert not [r for r in fake.received if r.path == "/2/users/me"]
    by_me = network(fake)
    by_me.find_existing("Vigil tonight at 7", _since())
    assert by_me.find_existing("Vigil tonight at 7", _since()) is not None
    assert len([r for r in fake.received if r.path == "/2/users/me"]) == 1


def test_a_post_with_media_is_matched_despite_its_media_link(fake: FakeX) -> None:
    net = network(fake)
    _publish(net, "Poster for Saturday")
    fake.posts[0].media_ids.append("1234")  # as X shows a post with an image
    assert as_x_shows(fake.posts[0]).startswith("Poster for Saturday https://t.co/")
    assert net.find_existing("Poster for Saturday", _since()) is not None


@pytest.mark.parametrize("status", [429, 500, 503, 401])
def test_a_failed_lookup_finds_nothing_and_logs_one_line(
    fake: FakeX, status: int, caplog: pytest.LogCaptureFixture
) -> None:
    net = network(fake, access_token=f"{USER_ID}-AbCdEf")
    _publish(net, "Vigil tonight at 7")
    if status == 401:
        fake.add_fault(Fault(method="GET", path_prefix=f"/2/users/{USER_ID}/tweets", status=401,
                             body={"title": "Unauthorized", "detail": "Unauthorized"}))  # fmt: skip
    else:
        fake.add_fault(timeline_fault(status))
    with caplog.at_level(logging.WARNING, logger="amplifier.networks.x_lookup"):
        assert net.find_existing("Vigil tonight at 7", _since()) is None
    [line] = [r.getMessage() for r in caplog.records if r.name == "amplifier.networks.x_lookup"]
    assert "x-lookup-failed" in line and f"status={status}" in line
    assert SECRET not in line


def test_a_timeout_or_an_unreadable_answer_finds_nothing(fake: FakeX) -> None:
    net = network(fake, http=HttpSettings(connect_timeout=1.0, read_timeout=0.3))
    _publish(net, "Vigil tonight at 7")
    path = f"/2/users/{USER_ID}/tweets"
    fake.add_fault(Fault(method="GET", path_prefix=path, delay=1.0))
    assert net.find_existing("Vigil tonight at 7", _since()) is None
    fake.add_fault(Fault(method="GET", path_prefix=path, status=200, body="not json"))
    assert net.find_existing("Vigil tonight at 7", _since()) is None


def test_matching_rules() -> None:
    assert same_post("See https://a.example/x.", "See https://t.co/abc.")
    assert same_post("See example.org/report now", "See https://t.co/abc now")
    assert same_post("A  &  B\nC", "A &amp; B C")
    assert not same_post("A &amp; B", "A &amp; B")  # ours had the entity itself: X escapes it
    assert not same_post("Vigil at 7", "Vigil at 8")
    assert not same_post("Vigil at 7", "Vigil at 7 tonight")
    assert same_post("See https://a.example/x.", "See https://t.co/abc.", ["https://a.example/x"])
    assert same_post("See WWW.a.example/x/", "See https://t.co/abc", ["http://www.a.example/x"])
    assert not same_post("See https://a.example/x", "See https://t.co/abc", ["https://b.example"])
    assert not same_post("See https://a.example/x", "See https://t.co/abc", [])
