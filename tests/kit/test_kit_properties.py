"""Whatever a volunteer writes, the kit builder never raises and every text it offers fits its
composer (Hypothesis over post texts, links, hashtags and per-network variants)."""

from __future__ import annotations

import tempfile
from datetime import date
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from amplifier.check import load
from amplifier.content import extract_urls
from amplifier.content.length import bluesky_length, mastodon_length, utf8_bytes, x_length
from amplifier.kit import build_kit
from amplifier.networks.links import shown_link

from .pages import campaign_pages, decoded_text

CONFIG = """
posts_dir = "posts"
[networks.mastodon]
max_length = 1000
[networks.bluesky]
max_hashtags = 3
[campaigns.c]
language = "en"
[campaigns.c.hashtags]
always = ["FamiliesBelongTogether"]
pool = ["KeepFamiliesTogether", "EndFamilySeparation", "AsylumIsARight", "Ñandú_2026"]
per_post = 2
[schedules.s]
timezone = "UTC"
times = ["09:00"]
"""
HEAD = "---\nid: p{n}\ncampaign: c\nlanguage: en\nsource: 'A test'\n{extra}---\n"
LIMITS = {"x": 280, "bluesky": 300, "mastodon": 500, "threads": 500}

words = st.sampled_from(
    ["families", "belong", "together", "niñas", "家族", "👨‍👩‍👧", "e\u0301", "#Tag", "{hashtags}",
     "{link}", "@someone", "$CASH", "https://example.org/a?b=c", "&amp;", "<b>", "\n", "  "]
)  # fmt: skip
texts = st.one_of(
    st.lists(words, min_size=1, max_size=250).map(" ".join),
    st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=700),
)
links = st.one_of(st.none(), st.sampled_from(["https://example.org/petition", "http://a.example"]))


@st.composite
def posts(draw: st.DrawFn) -> list[str]:
    files = []
    for n in range(draw(st.integers(1, 3))):
        extra = ""
        link = draw(links)
        if link:
            extra += f"link: {link}\n"
        if draw(st.booleans()):
            extra += "hashtags: [Refugees, FamiliesBelongTogether]\n"
        if draw(st.booleans()):  # long texts the campaign's server takes, composers may not
            extra += "networks: [mastodon]\n"
        if draw(st.booleans()):
            variant = draw(texts).replace("\n", " ").replace("'", "''")
            extra += f"variants:\n  x: '{variant}'\n"
        padding = "together " * draw(st.sampled_from([0, 0, 20, 50, 60, 70, 100]))
        files.append(HEAD.format(n=n, extra=extra) + draw(texts) + " " + padding + "\n")
    return files


def _length(network: str, text: str) -> int:
    if network == "x":
        return x_length(text)
    if network == "mastodon":
        return mastodon_length(text)
    if network == "bluesky":  # the app counts a link as it shows it
        for url in extract_urls(text):
            text = text.replace(url, shown_link(url))
    return bluesky_length(text)  # Threads: graphemes, a link at its full length


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(posts())
def test_the_builder_never_raises_and_every_text_fits(files: list[str]) -> None:
    """Built from any posts the library accepts: no exception, every share text within its
    composer's limit, and every link's text decoding to the text shown."""
    with tempfile.TemporaryDirectory() as name:
        root = Path(name)
        (root / "posts").mkdir()
        (root / "config.toml").write_text(CONFIG, encoding="utf-8")
        for index, text in enumerate(files):
            (root / "posts" / f"p{index}.md").write_text(text, encoding="utf-8")
        config, library = load(root / "config.toml", None)
        built = build_kit(
            config, library, root / "site", campaigns=["c"], seed="1", today=date(2026, 12, 5)
        )
        for page in built.pages:
            for card in page.cards:
                for version in card.versions:
                    for share in version.shares:
                        assert 0 < _length(share.network, share.text) <= LIMITS[share.network]
                        assert share.network != "bluesky" or utf8_bytes(share.text) <= 3000
        for read in campaign_pages(root / "site"):
            for group in read.groups:
                for button in group.buttons:
                    assert decoded_text(button.href) == group.text
