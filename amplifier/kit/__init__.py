"""The supporters' share kit: a static site from the posts folder, every post ready to share.

``build_kit`` writes, for each campaign and language, a page of cards: each post rendered for
X, Bluesky, Mastodon and Threads by the worker's own ``render`` (link, hashtags fitted,
exact lengths) against each composer's limit, in a few versions with the campaign's hashtags
rotated, with a link per network that opens the supporter's own composer pre-filled (the
supporter presses Post), copy-to-clipboard, and the images with their alt text. Pages load
nothing from any other site and work without JavaScript. ``share_warnings`` tells
``amplifier check`` which posts get no button on a network.

The kit sits above the guards and below ``check`` (which reports its warnings); the worker
never imports it. Modules: intents.py (composer links and limits), cards.py (what a card
offers), pages.py and site.py (the HTML), words.py (the kit's words per language), build.py
(writing OUT), warnings.py (the check's warnings), static/ (the stylesheet and the script).
"""

from __future__ import annotations

from amplifier.kit.build import BuiltKit, KitError, build_kit
from amplifier.kit.intents import SHARE_NETWORKS, TARGETS, ShareNetwork, intent_url
from amplifier.kit.warnings import share_warnings

__all__ = [
    "SHARE_NETWORKS",
    "TARGETS",
    "BuiltKit",
    "KitError",
    "ShareNetwork",
    "build_kit",
    "intent_url",
    "share_warnings",
]
