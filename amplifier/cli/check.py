"""``amplifier check``: every problem at its file and line, then the summary.

Needs no database and no network: a check runs where only the posts and the config are;
``--fetch-cards`` reads each Bluesky link's page now (the card the worker would make), nothing
stored. When
the state database exists, each Mastodon server's stored limits are read from it (nothing is
created or migrated), so posts too long for an account's own server are errors here too.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import TextIO

from amplifier.check import card_report, format_problem, run_check, summary_lines
from amplifier.config import Settings
from amplifier.networks.mastodon_limits import InstanceLimits

Clock = Callable[[], datetime]


def cmd_check(args: argparse.Namespace, out: TextIO, clock: Clock) -> int:
    report = run_check(args.config, args.posts, stored=_stored)
    card_lines: list[str] = []
    if args.fetch_cards and report.settings is not None and report.library is not None:
        found, card_lines = card_report(report.settings, report.library)
        problems = sorted([*report.problems, *found], key=lambda p: (str(p.file), p.line or 0))
        report = replace(report, problems=tuple(problems))
    for problem in report.problems:
        print(format_problem(problem, args.format), file=out)
    for line in [*card_lines, *summary_lines(report)]:
        print(line, file=out)
    if report.settings is None:
        return 2
    return 0 if report.ok else 1


def _stored(settings: Settings) -> dict[str, InstanceLimits]:
    """Each server's stored limits; with no SQLite file (a pull request's check) the store is
    not even loaded."""
    url = settings.sqlalchemy_url
    if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).is_file():
        return {}
    from amplifier.store import stored_instance_limits

    return stored_instance_limits(url)
