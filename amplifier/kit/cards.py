"""What the kit offers: per campaign and language, a card per post, each in a few versions.

A version is the post with one pick of the campaign's rotated hashtags, rendered for each
network by the worker's own ``render`` (link placed, hashtags fitted, never cut) against the
composer's limits. The picks come from the worker's rotation (``schedule.next_items``) run
over the cards in order, so every pool tag is offered once before any repeats, and a build is
the same for the same seed. Which version a card shows first is drawn from the seed too.
"""

from __future__ import annotations

import fnmatch
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from amplifier.config import NetworkLimits, Settings
from amplifier.content import (
    Library,
    RenderedPost,
    Template,
    TooLong,
    is_thread,
    post_link,
    render,
    render_alternatives,
)
from amplifier.errors import RenderError
from amplifier.kit.intents import SHARE_NETWORKS, TARGETS, ShareNetwork, share_limits
from amplifier.networks.links import shown_link
from amplifier.schedule import RotationState, next_items

MAX_VERSIONS = 3


@dataclass(frozen=True)
class Share:
    """One network's text in one version: exactly what the composer receives."""

    network: ShareNetwork
    rendered: RenderedPost  # the text as the composer counts it
    # A tagged link on Bluesky: the composer gets the whole address and counts it as the
    # app shows it, this short form (``networks.links``), which ``rendered`` holds.
    shown: str | None = None

    @property
    def text(self) -> str:
        if self.shown is None or self.rendered.link is None:
            return self.rendered.text
        return self.rendered.text.replace(self.shown, self.rendered.link)

    @property
    def length(self) -> int:
        """As the network counts it: measured when asked (the pages do not show it)."""
        return self.rendered.length

    @property
    def limit(self) -> int:
        return self.rendered.limit


@dataclass(frozen=True)
class Refused:
    """A network the post gets no button for, and why."""

    network: ShareNetwork
    reason: str


@dataclass(frozen=True)
class Version:
    hashtags: tuple[str, ...]  # the rotated tags this version adds
    shares: tuple[Share, ...]


@dataclass(frozen=True)
class Card:
    template: Template  # the post in the page's language
    versions: tuple[Version, ...]
    refused: tuple[Refused, ...]
    first: int  # index of the version shown first

    @property
    def post_id(self) -> str:
        return self.template.original_id


@dataclass(frozen=True)
class KitPage:
    campaign: str
    title: str
    language: str
    cards: tuple[Card, ...]


def campaign_posts(settings: Settings, library: Library, campaign: str) -> list[Template]:
    """The campaign's original posts, by id, as the campaign's ``posts`` patterns select them;
    threads are left out (a composer takes one post, not a chain of replies)."""
    patterns = settings.campaigns[campaign].posts
    return [
        template
        for post_id, template in sorted(library.originals.items())
        if template.campaign == campaign
        and not is_thread(template.body)
        and any(fnmatch.fnmatchcase(post_id, pattern) for pattern in patterns)
    ]


def languages(settings: Settings, library: Library, campaign: str) -> list[str]:
    """The campaign's own language first, then every language a post is translated into."""
    own = settings.campaigns[campaign].language
    found = {own}
    for template in campaign_posts(settings, library, campaign):
        found.add(template.language)
        found.update(library.translations.get(template.id, {}))
    return [own, *sorted(found - {own})]


def share_text(template: Template, network: ShareNetwork) -> str:
    """The template text a network's share starts from: its variant, or the body."""
    return template.body if network == "threads" else template.text_for(network)


def offered(template: Template, network: ShareNetwork) -> bool:
    """A post restricted to some networks keeps that restriction; Threads is every post's."""
    return network == "threads" or network in template.networks


def share_link(settings: Settings, template: Template, network: ShareNetwork) -> str | None:
    """The post's link as the kit shares it on ``network``: tagged where the campaign asks."""
    # The composer gets the whole address (Bluesky's app shortens it as it posts).
    link = post_link(settings, template, network, "share-kit")
    return link.url if link is not None else None


def counted_as(template: Template, network: ShareNetwork, link: str | None) -> str | None:
    """How the composer counts the shared link where that is not in full: Bluesky's app
    counts a link as it shows it. Only a tagged link is counted so (as the campaign's own
    Bluesky accounts show only a tagged link short)."""
    if network != "bluesky" or link is None or link == template.link:
        return None
    return shown_link(link)


def _render(
    template: Template,
    network: ShareNetwork,
    limits: NetworkLimits,
    tags: list[str],
    link: str | None,
) -> Share:
    shown = counted_as(template, network, link)
    rendered = render(
        share_text(template, network),
        network=TARGETS[network].measured_as,
        limits=limits,
        link=link,
        hashtags=tags,
        shown_link=shown,
    )
    return Share(network, rendered, shown)


def _refused(network: ShareNetwork, error: RenderError) -> Refused:
    if isinstance(error, TooLong):
        return Refused(
            network, f"too long for its composer: {error.length} of {error.limit} {error.unit}"
        )
    return Refused(network, str(error))


def refusal(
    template: Template, network: ShareNetwork, limits: NetworkLimits, link: str | None
) -> Refused | None:
    """Why the post cannot be shared on ``network`` at all (too long before any hashtag)."""
    try:
        _render(template, network, limits, [], link)
    except RenderError as error:
        return _refused(network, error)
    return None


def _fixed_tags(settings: Settings, template: Template) -> list[str]:
    """Priority order as the worker's: the campaign's always-tags, then the post's own."""
    chosen: list[str] = []
    for tag in (*settings.campaigns[template.campaign].hashtags.always, *template.hashtags):
        if tag.lower() not in {t.lower() for t in chosen}:
            chosen.append(tag)
    return chosen


def _first_version(seed: str, post_id: str, language: str, count: int) -> int:
    digest = hashlib.sha256(f"{seed}:{post_id}:{language}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % count


class _Rotation:
    """The campaign's hashtag pool, rotated over a page's cards as an account rotates it."""

    def __init__(self, settings: Settings, campaign: str, seed: str) -> None:
        hashtags = settings.campaigns[campaign].hashtags
        self.pool = hashtags.pool
        self.per_post = hashtags.per_post
        self.seed = seed
        self.state = RotationState()

    def versions(self, fixed: list[str]) -> list[list[str]]:
        """Up to MAX_VERSIONS picks of the pool (tags the post holds already left out)."""
        taken = {tag.lower() for tag in fixed}
        pool = {tag: 1 for tag in self.pool if tag.lower() not in taken}
        if not pool or not self.per_post:
            return [[]]
        count = max(1, min(MAX_VERSIONS, len(pool) // self.per_post))
        picks: list[list[str]] = []
        for _ in range(count):
            picked, self.state = next_items(self.state, pool, self.seed, self.per_post)
            picks.append(picked)
        return picks


def _network_shares(
    template: Template,
    network: ShareNetwork,
    limits: NetworkLimits,
    fixed: list[str],
    picks: list[list[str]],
    link: str | None,
) -> list[Share]:
    """The network's share in each version: ``render`` for the fixed tags and each pick,
    their common part done once (``render_alternatives``)."""
    shown = counted_as(template, network, link)
    rendered = render_alternatives(
        share_text(template, network),
        network=TARGETS[network].measured_as,
        limits=limits,
        link=link,
        hashtags=fixed,
        alternatives=picks,
        shown_link=shown,
    )
    return [Share(network, post, shown) for post in rendered]


def build_card(
    settings: Settings,
    template: Template,
    limits: Mapping[ShareNetwork, NetworkLimits],
    rotation: _Rotation,
    seed: str,
) -> Card:
    """One post's card: its versions (identical renderings merged) and refused networks."""
    fixed = _fixed_tags(settings, template)
    picks = rotation.versions(fixed)
    refused: list[Refused] = []
    columns: list[list[Share]] = []
    for network in SHARE_NETWORKS:
        if not offered(template, network):
            continue
        try:
            link = share_link(settings, template, network)
            columns.append(_network_shares(template, network, limits[network], fixed, picks, link))
        except RenderError as error:
            refused.append(_refused(network, error))
    versions: list[Version] = []
    seen: set[tuple[str, ...]] = set()
    for index, picked in enumerate(picks):
        shares = tuple(column[index] for column in columns)
        texts = tuple(share.text for share in shares)
        if texts not in seen:
            seen.add(texts)
            versions.append(Version(tuple(picked), shares))
    first = _first_version(seed, template.original_id, template.language, len(versions))
    return Card(template, tuple(versions), tuple(refused), first)


def build_pages(
    settings: Settings,
    library: Library,
    campaigns: list[str],
    *,
    seed: str,
    today: date,
) -> list[KitPage]:
    """Every page of the kit: per campaign, one per language, the posts valid ``today``."""
    limits = share_limits(settings)
    pages: list[KitPage] = []
    for campaign in campaigns:
        title = settings.campaigns[campaign].name or campaign
        originals = campaign_posts(settings, library, campaign)
        for language in languages(settings, library, campaign):
            rotation = _Rotation(settings, campaign, f"{seed}:kit:{campaign}:{language}")
            cards = []
            for original in originals:
                template = library.version(original.id, language)
                if template is None or not template.valid_on(today):
                    continue
                cards.append(build_card(settings, template, limits, rotation, seed))
            pages.append(KitPage(campaign, title, language, tuple(cards)))
    return pages
