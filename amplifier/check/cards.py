"""``check --fetch-cards``: each Bluesky link read now, as the worker would read it.

A link whose page cannot be made a card is a warning at the post's ``link:`` line (the post
still goes out, as a plain link); a card is one line of the summary. Nothing is stored.
"""

from __future__ import annotations

from amplifier.cards import FetchPolicy, card_links, fetch_card
from amplifier.config import Settings
from amplifier.content import Library
from amplifier.errors import Problem


def card_report(
    settings: Settings, library: Library, policy: FetchPolicy | None = None
) -> tuple[list[Problem], list[str]]:
    """(a warning per post whose link makes no card, one line per link read)."""
    links = card_links(library, settings)
    if not links:
        return [], ["cards: no post needs one (no Bluesky account, or no link without images)"]
    templates = [*library.originals.values()]
    templates += [t for versions in library.translations.values() for t in versions.values()]
    problems: list[Problem] = []
    lines: list[str] = []
    for url in links:
        outcome = fetch_card(url, policy)
        card = outcome.card
        if card is not None:
            image = f"thumbnail {len(card.thumb)} bytes" if card.thumb else "no thumbnail"
            lines.append(f"card {url}: {card.title!r} ({image})")
            continue
        lines.append(f"card {url}: none, plain link ({outcome.failure})")
        for template in templates:
            if template.link == url and not template.media and "bluesky" in template.networks:
                message = (
                    f"no Bluesky link card for {url}: {outcome.failure}; the post goes out on "
                    "Bluesky as a plain link (give the page og:title, og:description and "
                    "og:image tags, or check the address)"
                )
                line = template.field_lines.get("link")
                problems.append(Problem(template.path, line, message, severity="warning"))
    return problems, lines
