"""Link attribution in the share kit: which network and post brought a visitor.

With a campaign's ``attribution = "utm"``, the post's link (its ``link:``) carries UTM
parameters in the kit: ``utm_source`` the network (x, bluesky, mastodon, threads),
``utm_medium`` ``share-kit``, ``utm_campaign`` the campaign's name in the config,
``utm_content`` the post's id. Parameters the link already has are kept as written, never
replaced; nothing about the supporter is ever added. The texts are rendered with the tagged
link, so each still fits its composer (Bluesky and Threads count a link in full).
"""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

MEDIUM = "share-kit"


def utm_tagged(link: str, *, source: str, campaign: str, content: str) -> str:
    """``link`` with the four UTM parameters added (those it already has kept)."""
    parts = urlsplit(link)
    present = {key for key, _ in parse_qsl(parts.query, keep_blank_values=True)}
    wanted = {
        "utm_source": source,
        "utm_medium": MEDIUM,
        "utm_campaign": campaign,
        "utm_content": content,
    }
    added = urlencode({key: value for key, value in wanted.items() if key not in present})
    if not added:
        return link
    query = f"{parts.query}&{added}" if parts.query else added
    return urlunsplit(parts._replace(query=query))
