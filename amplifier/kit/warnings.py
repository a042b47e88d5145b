"""What ``amplifier check`` says about the share kit: posts that get no button on a network.

A post the worker publishes fits the limits the config sets; a supporter's composer may keep
a lower one (Mastodon's stock 500 where the campaign's own server allows more) or be a network
the worker does not publish to (Threads). Such a post is shared without that button, and the
check warns, at the line where the text starts, with the measured length and the limit.
"""

from __future__ import annotations

from collections.abc import Iterator

from amplifier.config import Settings
from amplifier.content import Library, Template
from amplifier.errors import Problem
from amplifier.kit.cards import campaign_posts, offered, refusal, share_link, share_text
from amplifier.kit.intents import SHARE_NETWORKS, TARGETS, ShareNetwork, share_limits


def _versions(settings: Settings, library: Library) -> Iterator[Template]:
    for campaign in settings.campaigns:
        for original in campaign_posts(settings, library, campaign):
            yield original
            yield from library.translations.get(original.id, {}).values()


def share_warnings(settings: Settings, library: Library) -> list[Problem]:
    """A warning per post and network the share kit gives no button for."""
    limits = share_limits(settings)
    # Where the config's limits are no higher than the composer's, the library has already
    # refused every post that does not fit: nothing to measure again.
    checked: set[ShareNetwork] = set()
    for network in SHARE_NETWORKS:
        if network == "threads":
            continue
        configured = settings.networks.limits(TARGETS[network].measured_as)
        kit = limits[network]
        if configured.max_length <= kit.max_length and configured.url_length >= kit.url_length:
            checked.add(network)
    found: list[Problem] = []
    for template in _versions(settings, library):
        tagged = settings.campaigns[template.campaign].attribution != "none"
        for network in SHARE_NETWORKS:
            if not offered(template, network):
                continue
            # A tagged link is longer where links count in full (Bluesky): measure it there.
            if network in checked and not (tagged and TARGETS[network].limits.url_length == 0):
                continue
            link = share_link(settings, template, network)
            bound = len(share_text(template, network)) + len(link or "") + 1
            if network == "threads" and bound <= limits[network].max_length:
                continue  # graphemes never outnumber code points: it fits
            problem = refusal(template, network, limits[network], link)
            if problem is not None:
                line = template.body_line if network == "threads" else template.text_line(network)
                found.append(
                    Problem(
                        template.path,
                        line,
                        f"share kit: no {TARGETS[network].label} button for post "
                        f"{template.id!r}: {problem.reason}",
                        severity="warning",
                    )
                )
    return found
