"""Whole pages of the kit: a campaign's page in one language, the index, the Mastodon chooser."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from html import escape

from amplifier.kit.cards import KitPage
from amplifier.kit.pages import (
    PageLinks,
    card_html,
    chooser_file,
    footer,
    head,
    header,
    page_file,
)
from amplifier.kit.words import language_name, words


def campaign_page(page: KitPage, links: PageLinks, media_url: Callable[[str], str]) -> str:
    w = words(page.language)
    description = w["description"].format(title=page.title)
    title = f"{page.title}: {w['kit']}"
    server = (
        f'<p id="mastodon-server" class="server-note" hidden>'
        f"{escape(w['mastodon_on']).replace('{host}', '<strong data-instance></strong>')} "
        f'<a href="{escape(chooser_file(page.language))}">{escape(w["change"])}</a></p>\n'
    )
    cards = "".join(
        card_html(card, index, page.language, media_url)
        for index, card in enumerate(page.cards, start=1)
    )
    return (
        head(page.language, title, description, links)
        + header(page.language, page.title, links, w["kit"])
        + f'<main id="main" data-rotate="per-visit">\n<p class="intro">{escape(w["intro"])}</p>\n'
        + server
        + cards
        + "</main>\n"
        + footer(page.language)
    )


def index_page(pages: Sequence[KitPage], base_url: str | None) -> str:
    """Every campaign, each with its languages; in the first page's language."""
    language = pages[0].language if pages else "en"
    w = words(language)
    titles = sorted({page.title for page in pages})
    title = f"{', '.join(titles)}: {w['kit']}" if titles else w["kit"]
    description = w["description"].format(title=", ".join(titles) or "amplifier")
    links = PageLinks("index.html", {}, base_url)
    items = []
    for campaign in dict.fromkeys(page.campaign for page in pages):
        own = [page for page in pages if page.campaign == campaign]
        entries = "".join(
            f'<li><a href="{escape(page_file(campaign, page.language))}" '
            f'lang="{escape(page.language)}" hreflang="{escape(page.language)}">'
            f"{escape(language_name(page.language))}</a> "
            f"({escape(words(page.language)['posts'].format(count=len(page.cards)))})</li>"
            for page in own
        )
        items.append(
            f'<section class="campaign-entry" aria-labelledby="k-{escape(campaign)}">'
            f'<h2 id="k-{escape(campaign)}">{escape(own[0].title)}</h2><ul>{entries}</ul>'
            "</section>\n"
        )
    return (
        head(language, title, description, links)
        + '<body>\n<a class="skip" href="#main">'
        + f"{escape(w['skip'])}</a>\n<header><h1>{escape(w['kit'])}</h1></header>\n"
        + f'<main id="main">\n<p class="intro">{escape(w["intro"])}</p>\n'
        + "".join(items)
        + "</main>\n"
        + footer(language)
    )


def chooser_page(language: str, base_url: str | None) -> str:
    """Asks once for the supporter's Mastodon server, remembers it, opens its composer."""
    w = words(language)
    file = chooser_file(language)
    links = PageLinks(file, {}, base_url)
    return (
        head(language, w["chooser_title"], w["server_hint"], links)
        + f"<body>\n<header><h1>{escape(w['chooser_title'])}</h1></header>\n"
        + '<main id="main">\n'
        + f'<noscript><p class="note">{escape(w["noscript"])}</p></noscript>\n'
        + f'<div id="share-preview" hidden><p>{escape(w["chooser_text"])}</p>'
        + '<p class="text" id="share-text"></p></div>\n'
        + f'<form id="mastodon-form" action="{escape(file)}" method="get" hidden '
        + f'data-saved="{escape(w["saved"])}" data-bad="{escape(w["bad_server"])}" '
        + f'data-forgotten="{escape(w["forgotten"])}">\n'
        + f'<label for="instance">{escape(w["server"])}</label>\n'
        + f'<p id="instance-hint" class="hint">{escape(w["server_hint"])}</p>\n'
        + '<input id="instance" name="instance" type="text" inputmode="url" '
        + 'autocomplete="off" spellcheck="false" aria-describedby="instance-hint" required>\n'
        + '<input type="hidden" name="text" id="text-field">\n'
        + f'<p><button type="submit">{escape(w["open"])}</button> '
        + f'<button type="button" id="forget">{escape(w["forget"])}</button></p>\n'
        + "</form>\n"
        + f'<p><a href="index.html">{escape(w["back"])}</a></p>\n'
        + "</main>\n"
        + footer(language)
    )
