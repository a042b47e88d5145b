"""The arguments of ``amplifier kit``: checked at parse time like every other command's."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

MAX_SEED = 2**63 - 1


def seed(text: str) -> int:
    """An argparse type: a whole number from 0 to 2**63-1."""
    try:
        value = int(text)
    except ValueError:
        value = -1
    if not 0 <= value <= MAX_SEED:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number from 0 to 2**63-1")
    return value


def base_url(text: str) -> str:
    """An argparse type: the address the kit is published at (for its Open Graph tags)."""
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not an http(s) address; give where the kit is published, e.g. "
            "https://example.org/kit/"
        )
    if parts.query or parts.fragment or any(c.isspace() for c in text):
        raise argparse.ArgumentTypeError(
            f"{text!r} has a query, a fragment or a space; give the folder's address only"
        )
    return text


def kit_commands(commands: Any, add: Callable[..., argparse.ArgumentParser]) -> None:
    """``kit build``, made with the parser's ``add`` (the options every command has)."""
    kit = commands.add_parser(
        "kit",
        help="the supporters' share kit: a static site of every post, ready to share",
        description="Commands about the supporters' share kit. The one action is 'build'.",
        epilog="example:\n  amplifier kit build site/",
    )
    actions = kit.add_subparsers(
        dest="kit_command", metavar="ACTION", parser_class=type(kit), required=True
    )
    build = add(
        actions,
        "build",
        "write the supporters' share kit (a static site) into OUT",
        "Write the share kit into the folder OUT (made if missing; a folder holding a kit "
        "built before is emptied first; any other folder that is not empty is refused): an "
        "index, and per campaign and language a page where every post valid today is a card, "
        "rendered for X, Bluesky, Mastodon and Threads exactly as the worker renders it, each "
        "with a link that opens the supporter's own composer with the text filled in, a copy "
        "button and its images with their alt text. A post too long for a composer gets no "
        "button there (amplifier check warns). The pages load nothing from any other site and "
        "work without JavaScript; publish the folder as it is (docs/organizers.md).",
        "amplifier kit build site/ --base-url https://example.org/kit/",
    )
    build.add_argument("out", metavar="OUT", help="the folder to write the kit into")
    build.add_argument(
        "--campaign",
        metavar="C",
        action="append",
        help="only this campaign (a campaign name in the config), repeatable (default: all)",
    )
    build.add_argument(
        "--base-url",
        metavar="URL",
        type=base_url,
        help="the address the kit will be published at, for the pages' Open Graph tags "
        "(default: none, and no og:url)",
    )
    build.add_argument(
        "--seed",
        metavar="N",
        type=seed,
        help="which version of each post is shown first and how hashtags rotate, 0 to 2**63-1 "
        "(default: the config's seed)",
    )
