"""``with_link``: the text ``render`` sends with no hashtags added, composed without measuring."""

from __future__ import annotations

from pathlib import Path

import pytest

from amplifier.config import DEFAULT_LIMITS, load_settings
from amplifier.content import (
    is_thread,
    load_library,
    parts_with_link,
    render,
    render_parts,
    with_link,
)
from amplifier.errors import RenderError
from amplifier.networks.base import NETWORK_NAMES


def test_with_link_is_renders_text_for_every_sample_post(repo_root: Path) -> None:
    """Every sample post (originals and translations) on each of its networks."""
    settings = load_settings(repo_root / "config.example.toml")
    library = load_library(
        settings.posts_path,
        campaigns=settings.campaigns,
        limits={network: settings.networks.limits(network) for network in NETWORK_NAMES},
    )
    templates = [*library.originals.values()]
    templates += [t for versions in library.translations.values() for t in versions.values()]
    assert len(templates) > 40
    compared = 0
    for template in templates:
        for network in template.networks:
            text = template.text_for(network)
            limits = settings.networks.limits(network)
            if is_thread(text):  # each part on its own (the sample's thread)
                parts = render_parts(text, network=network, limits=limits, link=template.link,
                                     hashtags=())  # fmt: skip
                assert parts_with_link(text, template.link) == [p.text for p in parts]
                compared += 1
                continue
            rendered = render(text, network=network, limits=limits, link=template.link, hashtags=())
            assert with_link(text, template.link) == rendered.text, template.path
            compared += 1
    assert compared > 100


@pytest.mark.parametrize(
    ("text", "link", "expected"),
    [
        ("Read it:  ", "https://example.org/a", "Read it: https://example.org/a"),
        ("Read {link} today", "https://example.org/a", "Read https://example.org/a today"),
        ("No link at all.", None, "No link at all."),
        ("Tags {hashtags} here {link}", "https://e.org", "Tags here https://e.org"),
    ],
)
def test_with_link_places_the_link_as_render_does(
    text: str, link: str | None, expected: str
) -> None:
    limits = DEFAULT_LIMITS["mastodon"]
    rendered = render(text, network="mastodon", limits=limits, link=link, hashtags=())
    assert with_link(text, link) == rendered.text == expected


def test_with_link_refuses_a_bad_placeholder_as_render_does() -> None:
    with pytest.raises(RenderError):
        with_link("Hello {nobody}", None)
    with pytest.raises(RenderError):
        render("Hello {nobody}", network="x", limits=DEFAULT_LIMITS["x"], link=None, hashtags=())
