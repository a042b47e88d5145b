"""The kit's HTML: the index, a page per campaign and language, the Mastodon chooser.

Written by hand with every value escaped (``html.escape``): no template engine to install,
and the worker never loads any of it. Pages work without JavaScript (every share is a plain
link, the versions switch with radio buttons and CSS); the script only adds copying, the
remembered Mastodon server and a fresh version per visit. Nothing is loaded from any other
origin, and the Content-Security-Policy says so to the browser.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from html import escape

from amplifier.kit.cards import Card, Share, Version
from amplifier.kit.intents import TARGETS, ShareNetwork, chooser_url, compose_url, encoded
from amplifier.kit.words import language_name, words

CSP = (
    "default-src 'none'; img-src 'self'; media-src 'self'; style-src 'self'; script-src 'self'; "
    "form-action 'self'; base-uri 'none'"
)
VIDEO_SUFFIXES = (".mp4", ".mov")
TITLE_WORDS = 60  # characters of a post's text in its card's heading


@dataclass(frozen=True)
class PageLinks:
    """Where a page sits: its file, its language's siblings, the base URL for Open Graph."""

    file: str
    siblings: Mapping[str, str]  # language -> file of the same campaign
    base_url: str | None


def page_file(campaign: str, language: str) -> str:
    """A campaign's page in one language; a campaign's name is the config's, kept to what a
    file name and a URL take unescaped."""
    slug = "".join(c if c.isascii() and (c.isalnum() or c in "-_") else "_" for c in campaign)
    return f"{slug}.{language}.html"


def chooser_file(language: str) -> str:
    return f"mastodon.{language}.html"


def head(language: str, title: str, description: str, links: PageLinks) -> str:
    og_url = ""
    if links.base_url:
        og_url = f'<meta property="og:url" content="{escape(links.base_url + links.file)}">\n'
    return (
        f'<!doctype html>\n<html lang="{escape(language)}">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">\n'
        '<meta name="referrer" content="no-referrer">\n'
        f"<title>{escape(title)}</title>\n"
        f'<meta name="description" content="{escape(description)}">\n'
        '<meta property="og:type" content="website">\n'
        f'<meta property="og:title" content="{escape(title)}">\n'
        f'<meta property="og:description" content="{escape(description)}">\n'
        f"{og_url}"
        '<link rel="stylesheet" href="kit.css">\n<script src="kit.js" defer></script>\n'
        "</head>\n"
    )


def header(language: str, title: str, links: PageLinks, heading: str) -> str:
    w = words(language)
    others = "".join(
        f'<li><a href="{escape(file)}" lang="{escape(code)}" hreflang="{escape(code)}">'
        f"{escape(language_name(code))}</a></li>"
        for code, file in links.siblings.items()
        if code != language
    )
    nav = (
        f'<nav aria-label="{escape(w["languages"])}"><ul>'
        f'<li><a href="index.html">{escape(w["all"])}</a></li>{others}</ul></nav>'
    )
    return (
        f'<body>\n<a class="skip" href="#main">{escape(w["skip"])}</a>\n'
        f'<header>\n<p class="campaign">{escape(title)}</p>\n<h1>{escape(heading)}</h1>\n'
        f"{nav}\n</header>\n"
    )


def footer(language: str) -> str:
    return (
        f"<footer><p>{escape(words(language)['footer'])}</p></footer>\n"
        '<p id="status" class="status" role="status" aria-live="polite"></p>\n'
        "</body>\n</html>\n"
    )


def _heading(text: str) -> str:
    line = " ".join(text.split())
    if len(line) <= TITLE_WORDS:
        return line
    cut = line[:TITLE_WORDS].rsplit(" ", 1)[0]
    return cut + "…"


def _first_text(card: Card) -> str:
    for version in card.versions:
        for share in version.shares:
            return share.text
    return card.template.body


@cache
def _said(language: str) -> Mapping[str, str]:
    """The kit's words in ``language``, escaped once for every page."""
    return {key: escape(value) for key, value in words(language).items()}


@cache
def _button_label(language: str, network: ShareNetwork) -> str:
    return escape(words(language)["post_on"].format(network=TARGETS[network].label))


def _share_group(shares: list[Share], language: str, group_id: str, card_id: str) -> str:
    """One text and the buttons of every network it is exactly that text for.

    Links are written unescaped: a percent-encoded text and the composers' addresses hold
    no character HTML gives a meaning to."""
    said = _said(language)
    text = shares[0].text
    labels = ", ".join(TARGETS[share.network].label for share in shares)
    limits = ", ".join(f"{TARGETS[s.network].label} {s.limit}" for s in shares)
    query = encoded(text)  # once for every button of the group
    buttons = []
    for share in shares:
        network = share.network
        if network == "mastodon":
            href = chooser_url(query, chooser_file(language))
            extra = f' data-share-path="{compose_url("mastodon", query)}"'
        else:
            href, extra = compose_url(network, query), ""
        buttons.append(
            f'<a class="button {network}" data-network="{network}" href="{href}"{extra} '
            f'aria-describedby="{card_id}-h">{_button_label(language, network)}</a>'
        )
    buttons.append(
        f'<button type="button" class="copy" data-copy="{group_id}" '
        f'data-done="{said["copied"]}" data-failed="{said["copy_failed"]}" '
        f'aria-describedby="{card_id}-h" hidden>{said["copy"]}</button>'
    )
    return (
        f'<div class="share">\n<p class="for">{said["for"].replace("{networks}", labels)}'
        f'</p>\n<p class="text" id="{group_id}">{escape(text)}</p>\n'
        f'<p class="counts">{said["limits"].replace("{limits}", limits)}</p>\n'
        f'<p class="buttons">{" ".join(buttons)}</p>\n</div>\n'
    )


def _groups(version: Version) -> dict[str, list[Share]]:
    """The version's shares by text: networks given the same text share one block."""
    groups: dict[str, list[Share]] = {}
    for share in version.shares:
        groups.setdefault(share.text, []).append(share)
    return groups


def _key(shares: list[Share]) -> tuple[str, tuple[str, ...]]:
    return shares[0].text, tuple(share.network for share in shares)


def _versions(card: Card, language: str, card_id: str) -> list[str]:
    """Blocks every version has alike, once; then each version's own, in a block shown when
    that version is chosen."""
    groups = [_groups(version) for version in card.versions]
    common = [
        shares
        for shares in groups[0].values()
        if all(_key(shares) in {_key(other) for other in rest.values()} for rest in groups[1:])
    ]
    keys = {_key(shares) for shares in common}
    parts = [
        _share_group(shares, language, f"{card_id}-g{index}", card_id)
        for index, shares in enumerate(common, start=1)
    ]
    count = len(card.versions)
    for number, version_groups in enumerate(groups, start=1):
        own = [shares for shares in version_groups.values() if _key(shares) not in keys]
        if not own:
            continue
        label = (
            f'<p class="version-name">'
            f"{escape(words(language)['version_of'].format(n=number, count=count))}</p>\n"
        )
        body = "".join(
            _share_group(shares, language, f"{card_id}-v{number}-g{index}", card_id)
            for index, shares in enumerate(own, start=1)
        )
        parts.append(f'<div class="version" data-version="{number}">\n{label}{body}</div>\n')
    return parts


def _choices(card: Card, language: str, card_id: str) -> str:
    if len(card.versions) < 2:
        return ""
    w = words(language)
    options = []
    for index, version in enumerate(card.versions):
        number = index + 1
        checked = " checked" if index == card.first else ""
        tags = " ".join(f"#{tag.lstrip('#')}" for tag in version.hashtags)
        shown = f' <span class="tags">{escape(tags)}</span>' if tags else ""
        options.append(
            f'<span class="choice"><input type="radio" name="{card_id}-v" '
            f'id="{card_id}-v{number}" value="{number}"{checked}>'
            f'<label for="{card_id}-v{number}">{escape(w["version"].format(n=number))}'
            f"{shown}</label></span>"
        )
    return (
        f'<fieldset class="versions"><legend>{escape(w["versions"])}</legend>'
        f"{''.join(options)}</fieldset>\n"
    )


def card_html(card: Card, index: int, language: str, media_url: Callable[[str], str]) -> str:
    """A post's card: heading, content warning, images, versions, networks without a button."""
    w = words(language)
    template = card.template
    card_id = f"c{index}"
    parts = [
        f'<article class="card" id="post-{escape(card.post_id)}" '
        f'lang="{escape(template.language)}" aria-labelledby="{card_id}-h">\n'
        f'<h2 id="{card_id}-h">{escape(_heading(_first_text(card)))}</h2>\n'
    ]
    if template.content_warning:
        parts.append(
            f'<p class="cw"><strong>{escape(w["cw"])}</strong> '
            f"{escape(template.content_warning)}</p>\n"
        )
    for item in template.media:
        url = escape(media_url(str(item.path)))
        if item.path.suffix.lower() in VIDEO_SUFFIXES:  # the check knew it from its bytes
            parts.append(
                f'<figure class="image"><video controls preload="metadata" src="{url}" '
                f'aria-label="{escape(item.alt)}"></video>'
                f"<figcaption><strong>{escape(w['video'])}</strong> {escape(item.alt)} "
                f'<a href="{url}" download>{escape(w["download_video"])}</a></figcaption>'
                "</figure>\n"
            )
            continue
        parts.append(
            f'<figure class="image"><img src="{url}" alt="{escape(item.alt)}">'
            f"<figcaption><strong>{escape(w['image'])}</strong> {escape(item.alt)} "
            f'<a href="{url}" download>{escape(w["download"])}</a></figcaption></figure>\n'
        )
    parts.append(_choices(card, language, card_id))
    if not any(version.shares for version in card.versions):
        parts.append(f'<p class="note">{escape(w["none_fit"])}</p>\n')
    else:
        parts += _versions(card, language, card_id)
    for refused in card.refused:
        note = w["no_button"].format(network=TARGETS[refused.network].label, reason=refused.reason)
        parts.append(f'<p class="note">{escape(note)}</p>\n')
    parts.append("</article>\n")
    return "".join(parts)
