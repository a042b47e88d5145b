"""Link attribution in the kit: with ``attribution = "utm"``, each network's text carries the
post's link tagged with that network, the kit as medium, the campaign and the post; without
it, links are left as written."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from amplifier.check import load, run_check
from amplifier.content import extract_urls, tag_link
from amplifier.content.length import bluesky_length, x_length
from amplifier.kit import build_kit
from amplifier.networks.links import shown_link

CONFIG = """
posts_dir = "posts"
[campaigns.demo]
language = "en"
{attribution}
[campaigns.demo.hashtags]
always = ["Demo"]
pool = ["One", "Two"]
"""
POST = """---
id: petition
campaign: demo
language: en
source: 'A test'
link: https://example.org/sign?ref=newsletter#form
---
Sign the petition today: {link}
"""


def _build(root: Path, attribution: str) -> list[tuple[str, str]]:
    (root / "posts").mkdir(parents=True)
    (root / "config.toml").write_text(CONFIG.format(attribution=attribution), encoding="utf-8")
    (root / "posts" / "petition.md").write_text(POST, encoding="utf-8")
    settings, library = load(root / "config.toml", None)
    built = build_kit(
        settings, library, root / "site", campaigns=["demo"], seed="1", today=date(2026, 12, 5)
    )
    return [
        (share.network, share.text)
        for page in built.pages
        for card in page.cards
        for version in card.versions
        for share in version.shares
    ]


def test_each_networks_link_is_tagged_with_that_network(tmp_path: Path) -> None:
    """utm_source is the network the text is for; the link's own parameters and fragment
    stay; X still counts the link as 23 and Bluesky in full, within their limits."""
    shares = _build(tmp_path, 'attribution = "utm"')
    assert {network for network, _ in shares} == {"x", "bluesky", "mastodon", "threads"}
    for network, text in shares:
        [link] = extract_urls(text)
        parts = urlsplit(link)
        assert parts.fragment == "form"
        assert parse_qs(parts.query) == {
            "ref": ["newsletter"],
            "utm_source": [network],
            "utm_medium": ["share-kit"],
            "utm_campaign": ["demo"],
            "utm_content": ["petition"],
        }
        if network == "x":
            assert x_length(text) <= 280
        else:
            assert bluesky_length(text) <= (300 if network == "bluesky" else 500)


def test_without_the_setting_links_are_left_as_written(tmp_path: Path) -> None:
    """No attribution: the link is the post's, untouched."""
    for _, text in _build(tmp_path, ""):
        assert extract_urls(text) == ["https://example.org/sign?ref=newsletter#form"]


@pytest.mark.parametrize(
    ("link", "expected"),
    [
        ("https://a.example/", "https://a.example/?utm_source=x&utm_medium=share-kit"
         "&utm_campaign=c&utm_content=p"),
        ("https://a.example/p?utm_source=mail", "https://a.example/p?utm_source=mail"),
        ("https://a.example/p?UTM_Campaign=x#f", "https://a.example/p?UTM_Campaign=x#f"),
    ],
)  # fmt: skip
def test_links_tagged_by_hand_are_left_as_written(link: str, expected: str) -> None:
    """A link that already carries a utm_ parameter was tagged by its author: left alone."""
    tagged = tag_link(link, "utm", network="x", medium="share-kit", campaign="c", post="p")
    assert tagged == expected


def test_check_warns_when_the_tagged_link_leaves_no_room_on_threads(tmp_path: Path) -> None:
    """A post that fits Threads with its bare link but not with the tagged one (Threads
    counts a link in full): the kit leaves out the Threads button and check says so, at the
    post's text line."""
    (tmp_path / "posts").mkdir()
    config = CONFIG.format(attribution='attribution = "utm"')
    (tmp_path / "config.toml").write_text(config, encoding="utf-8")
    text = "word " * 90 + "{link}"  # 450 + 44 graphemes: fits 500 bare, not tagged
    post = POST.replace("Sign the petition today: {link}", text)
    post = post.replace("language: en\n", "language: en\nnetworks: [mastodon]\n")
    (tmp_path / "posts" / "petition.md").write_text(post, encoding="utf-8")
    report = run_check(tmp_path / "config.toml", None)
    messages = [str(problem) for problem in report.problems]
    assert any(
        "petition.md:9: warning: share kit: no Threads button for post 'petition': too long "
        "for its composer: " in message
        for message in messages
    ), messages
    assert report.ok
    (tmp_path / "config.toml").write_text(CONFIG.format(attribution=""), encoding="utf-8")
    assert not [m for m in map(str, run_check(tmp_path / "config.toml", None).problems)
                if "Threads button" in m]  # fmt: skip


def test_bluesky_counts_the_tagged_link_as_its_app_shows_it(tmp_path: Path) -> None:
    """Bluesky's composer counts a link as the app shows it (host and path start): a text
    that fits with its bare link still fits tagged, and the composer gets the whole tagged
    address."""
    (tmp_path / "posts").mkdir()
    (tmp_path / "config.toml").write_text(
        CONFIG.format(attribution='attribution = "utm"'), encoding="utf-8"
    )
    text = "word " * 50 + "{link}"  # 250 + 44 graphemes bare; tagged, it shows as 29
    (tmp_path / "posts" / "petition.md").write_text(
        POST.replace("Sign the petition today: {link}", text), encoding="utf-8"
    )
    settings, library = load(tmp_path / "config.toml", None)
    built = build_kit(
        settings, library, tmp_path / "site", campaigns=["demo"], seed="1",
        today=date(2026, 12, 5),
    )  # fmt: skip
    [card] = built.pages[0].cards
    assert not card.refused
    shares = [s for v in card.versions for s in v.shares if s.network == "bluesky"]
    assert shares
    for share in shares:
        [link] = extract_urls(share.text)
        assert "utm_source=bluesky" in link and share.shown == shown_link(link)
        assert share.length == bluesky_length(share.text.replace(link, share.shown)) <= 300
        assert bluesky_length(share.text) > 300  # in full it would not fit
    assert not [m for m in map(str, run_check(tmp_path / "config.toml", None).problems)
                if "Bluesky button" in m]  # fmt: skip
