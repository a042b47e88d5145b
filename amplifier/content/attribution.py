"""Link attribution: which network, post and kind of share brought a visitor to a link.

A campaign's ``attribution`` setting tags its posts' links (each post's ``link:``) the same
way wherever a text is rendered: by the worker and ``preview`` (medium ``social``) and by the
share kit (medium ``share-kit``). ``"utm"`` adds ``utm_source`` (the network),
``utm_medium``, ``utm_campaign`` (the campaign's name in the config) and ``utm_content``
(the post's id); a template adds source codes (``source=``, ``refcode=``) filled from the
same four values. A link's own query and fragment are kept; a link that already carries a
``utm_`` parameter (or, for a template, one of its parameters) is left as written; a link
that is not http(s) cannot be tagged (``check`` warns). Nothing about a reader is ever added.

On Bluesky a tagged link is shown as Bluesky's apps show links (``networks.links``): the
text carries the short form, the facet the whole tagged address, and the length is that of
the text shown.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

from amplifier.config import Settings, attribution_pairs, fill_pairs
from amplifier.content.templates import Template
from amplifier.networks.links import shown_link

Medium = Literal["social", "share-kit"]
UTM = ("utm_source", "utm_medium", "utm_campaign", "utm_content")


@dataclass(frozen=True)
class PostLink:
    """A post's link as one network gets it: ``url`` the address (tagged where the campaign
    asks), ``shown`` what the text shows in its place (the address itself, but on Bluesky)."""

    url: str
    shown: str


def taggable(link: str) -> bool:
    """Whether a link can carry parameters: an http(s) address with a host."""
    try:
        parts = urlsplit(link)
    except ValueError:
        return False
    return parts.scheme.lower() in ("http", "https") and bool(parts.netloc)


def tag_link(
    link: str, attribution: str, *, network: str, medium: Medium, campaign: str, post: str
) -> str:
    """``link`` tagged as ``attribution`` says ("none", "utm" or a template)."""
    if attribution == "none" or not taggable(link):
        return link
    parts = urlsplit(link)
    present = {key for key, _ in parse_qsl(parts.query, keep_blank_values=True)}
    values = {"network": network, "medium": medium, "campaign": campaign, "post": post}
    if attribution == "utm":
        if any(key.lower().startswith("utm_") for key in present):
            return link  # tagged by hand: left as written
        pairs = list(zip(UTM, (network, medium, campaign, post), strict=True))
    else:
        pairs = fill_pairs(attribution_pairs(attribution), values)
        if any(name in present for name, _ in pairs):
            return link
    added = urlencode(pairs, quote_via=quote)
    query = f"{parts.query}&{added}" if parts.query else added
    return urlunsplit(parts._replace(query=query))


def attribution_of(settings: Settings, template: Template) -> str:
    """The campaign's attribution setting ("none" for a campaign the config does not name)."""
    campaign = settings.campaigns.get(template.campaign)
    return campaign.attribution if campaign is not None else "none"


def post_link(
    settings: Settings, template: Template, network: str, medium: Medium = "social"
) -> PostLink | None:
    """The post's link for ``network``: tagged as its campaign says, shown as the network
    shows it (Bluesky's short form for a tagged link the campaign's own account posts)."""
    if template.link is None:
        return None
    url = tag_link(
        template.link,
        attribution_of(settings, template),
        network=network,
        medium=medium,
        campaign=template.campaign,
        post=template.original_id,
    )
    shown = url
    if network == "bluesky" and medium == "social" and url != template.link:
        shown = shown_link(url)
    return PostLink(url, shown)
