"""The arguments of ``amplifier results``: checked at parse time like every other command's."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from datetime import date
from typing import Any

# The report's groupings (amplifier.results.GROUPINGS; not imported, so the parser loads no
# store). tests/results/test_report_cli.py fails when the two differ.
GROUPINGS = ("post", "template", "language", "hashtag", "network", "account", "hour")
FORMATS = ("table", "csv", "json")

DESCRIPTION = (
    "What the campaign's published posts achieved, from the public counts the worker reads "
    "back at fixed ages after each post went out ([results] ages: 1h, 24h and 7d by default; "
    "X only for accounts with results = true, since X bills each post read). One row per "
    "group, best first. Columns: posts (published), counted (with a reading), young (not at "
    "the last age yet: too young to judge), gone (deleted since), likes, reposts, replies and "
    "quotes (sums of each post's latest reading, or of the --age reading), engagements (their "
    "sum: interactions, not reach; only X says how many saw a post, as impressions), per post "
    "(engagements / counted: the mean over the group's sends, so a template sent ten times is "
    "judged by its average). --by hashtag counts a post under each of its hashtags; --by hour "
    "is the local hour it went out in its account's schedule timezone. docs/organizers.md, "
    "'Reading results', says more."
)


def since(text: str) -> date:
    """An argparse type: a day, YYYY-MM-DD."""
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a day like 2026-11-01") from None


def results_command(commands: Any, add: Callable[..., argparse.ArgumentParser]) -> None:
    """``results`` and ``report`` (one command under both names organizers use), made with
    the parser's ``add`` (the options every command has)."""
    for name in ("results", "report"):
        summary = (
            "what the published posts achieved, by post, template, language, hashtag, network, "
            "account or hour"
        )
        if name == "report":
            summary = "the same as amplifier results: " + summary
        results = add(
            commands,
            name,
            summary,
            DESCRIPTION,
            f"amplifier {name} --by template\n"
            f"amplifier {name} --campaign families-belong-together --by hashtag"
            " --since 2026-11-01\n"
            f"amplifier {name} --by network --age 24h --format csv > by-network.csv",
        )
        _results_options(results)


def _results_options(results: argparse.ArgumentParser) -> None:
    results.add_argument(
        "--campaign",
        metavar="C",
        help="only this campaign's posts (a campaign key in the config; default: all)",
    )
    results.add_argument(
        "--by",
        choices=GROUPINGS,
        default="template",
        metavar="GROUP",
        help=f"group by one of: {', '.join(GROUPINGS)} (default: template)",
    )
    results.add_argument(
        "--since",
        type=since,
        metavar="DATE",
        help="only posts sent on or after this day (UTC), YYYY-MM-DD (default: all)",
    )
    results.add_argument(
        "--age",
        metavar="AGE",
        help="compare every post at this age, one of the config's [results] ages such as 24h "
        "(default: each post's latest reading)",
    )
    results.add_argument(
        "--format",
        choices=FORMATS,
        default="table",
        help="table: columns for people (default); csv: a header row and one row per group; "
        "json: the same rows for programs",
    )
