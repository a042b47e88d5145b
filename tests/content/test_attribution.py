"""Link attribution in the shared renderer: each network's link tagged as the campaign says,
measured after tagging (X and Mastodon count any link as 23, Bluesky the text it shows)."""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import pytest

from amplifier.check import load
from amplifier.config import Settings
from amplifier.content import Library, Template, post_link, render, tag_link
from amplifier.content.length import measure
from amplifier.errors import ConfigError
from amplifier.networks.links import shown_link

LINK = "https://example.org/sign/now?ref=mail#form"


def _settings(tmp_path: Path, attribution: str) -> tuple[Settings, Library]:
    (tmp_path / "posts").mkdir(exist_ok=True)
    (tmp_path / "posts" / "sign.md").write_text(
        f"---\nid: sign\ncampaign: fbt\nlanguage: en\nsource: test\nlink: {LINK}\n---\n"
        "Sign the petition: {link} today.\n",
        encoding="utf-8",
    )
    (tmp_path / "config.toml").write_text(
        f'posts_dir = "posts"\n[campaigns.fbt]\nattribution = {attribution!r}\n', encoding="utf-8"
    )
    return load(tmp_path / "config.toml", None)


def _template(library: Library) -> Template:
    return library.originals["sign"]


@pytest.mark.parametrize("network", ["x", "mastodon", "bluesky"])
def test_utm_for_the_campaigns_accounts(tmp_path: Path, network: str) -> None:
    """utm_source the network, utm_medium social, utm_campaign, utm_content the post's id;
    the link's own query first and its fragment kept."""
    settings, library = _settings(tmp_path, "utm")
    link = post_link(settings, _template(library), network)  # type: ignore[arg-type]
    assert link is not None
    parts = urlsplit(link.url)
    assert (parts.netloc, parts.path, parts.fragment) == ("example.org", "/sign/now", "form")
    assert parse_qsl(parts.query) == [
        ("ref", "mail"),
        ("utm_source", network),
        ("utm_medium", "social"),
        ("utm_campaign", "fbt"),
        ("utm_content", "sign"),
    ]
    assert link.shown == (shown_link(link.url) if network == "bluesky" else link.url)


def test_a_source_code_template(tmp_path: Path) -> None:
    """A template of source codes (Action Network's source=, ActBlue's refcode=), filled with
    the network, medium, campaign and post."""
    settings, library = _settings(tmp_path, "source={campaign}-{network}&refcode={medium}_{post}")
    link = post_link(settings, _template(library), "x")
    assert link is not None
    assert link.url == (
        "https://example.org/sign/now?ref=mail&source=fbt-x&refcode=social_sign#form"
    )
    kit = post_link(settings, _template(library), "x", "share-kit")
    assert kit is not None and "refcode=share-kit_sign" in kit.url


def test_switched_off_links_are_as_written(tmp_path: Path) -> None:
    settings, library = _settings(tmp_path, "none")
    for network in ("x", "mastodon", "bluesky"):
        link = post_link(settings, _template(library), network)
        assert link is not None and link.url == link.shown == LINK


@pytest.mark.parametrize(
    ("link", "attribution"),
    [
        ("https://example.org/?utm_source=newsletter", "utm"),  # tagged by hand
        ("https://example.org/?source=mail", "source={network}"),  # its own code
        ("mailto:office@example.org", "utm"),  # not http(s): nothing to tag
        ("ftp://example.org/file", "utm"),
    ],
)
def test_links_left_alone(link: str, attribution: str) -> None:
    tagged = tag_link(link, attribution, network="x", medium="social", campaign="c", post="p")
    assert tagged == link


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ("source", "name=value"),
        ("source={email}", "unknown placeholder {email}"),
        ("source={network", "unbalanced braces"),
        ("=x", "name=value"),
    ],
)
def test_bad_templates_are_config_errors(tmp_path: Path, value: str, words: str) -> None:
    with pytest.raises(ConfigError) as caught:
        _settings(tmp_path, value)
    assert words in str(caught.value)


@pytest.mark.parametrize(("network", "counted"), [("x", 23), ("mastodon", 23)])
def test_x_and_mastodon_count_the_tagged_link_as_23(
    tmp_path: Path, network: str, counted: int
) -> None:
    settings, library = _settings(tmp_path, "utm")
    link = post_link(settings, _template(library), network)  # type: ignore[arg-type]
    assert link is not None and len(link.url) > 80
    limits = settings.networks.limits(network)  # type: ignore[arg-type]
    rendered = render(
        _template(library).body, network=network, limits=limits,  # type: ignore[arg-type]
        link=link.url, hashtags=[], shown_link=link.shown,
    )  # fmt: skip
    assert rendered.text == f"Sign the petition: {link.url} today."
    assert rendered.length == len("Sign the petition:  today.") + counted


def test_bluesky_shows_the_short_form_and_counts_it(tmp_path: Path) -> None:
    """The text shows the link as Bluesky's apps do, and is measured as shown; the rendered
    post keeps the whole tagged address for the facet."""
    settings, library = _settings(tmp_path, "utm")
    link = post_link(settings, _template(library), "bluesky")
    assert link is not None
    assert link.shown == "example.org/sign/now?ref..."
    rendered = render(
        _template(library).body, network="bluesky", limits=settings.networks.limits("bluesky"),
        link=link.url, hashtags=["FamiliesBelongTogether"], shown_link=link.shown,
    )  # fmt: skip
    assert rendered.text == (
        "Sign the petition: example.org/sign/now?ref... today.\n\n#FamiliesBelongTogether"
    )
    assert rendered.link == link.url
    assert rendered.length == measure(rendered.text, "bluesky", settings.networks.limits("bluesky"))
    assert rendered.length == len(rendered.text)


def test_a_variable_switches_tagging_off(
    tmp_path: Path, repo_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The sample campaign tags its links; its AMPLIFIER_ variable set to none stops it,
    for the worker's renderings and the kit's alike."""
    for name in list(os.environ):
        if name.upper().startswith("AMPLIFIER_"):
            monkeypatch.delenv(name)
    config = repo_root / "config.example.toml"
    settings, library = load(config, repo_root / "posts")
    template = library.originals["sign-petition"]
    tagged = post_link(settings, template, "x")
    assert tagged is not None and "utm_medium=social" in tagged.url
    monkeypatch.setenv("AMPLIFIER_CAMPAIGNS__FAMILIES_BELONG_TOGETHER__ATTRIBUTION", "none")
    settings, library = load(config, repo_root / "posts")
    for medium in ("social", "share-kit"):
        link = post_link(settings, template, "bluesky", medium)  # type: ignore[arg-type]
        assert link is not None and link.url == link.shown == template.link
