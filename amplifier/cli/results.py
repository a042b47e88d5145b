"""``amplifier results``: the results report, read from the store and printed."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from datetime import datetime
from typing import TextIO

from amplifier.cli.common import CommandError, closest
from amplifier.cli.database import opened
from amplifier.results import FORMATS, configured_ages, read_report, since_moment

Clock = Callable[[], datetime]


def cmd_results(args: argparse.Namespace, out: TextIO, clock: Clock) -> int:
    with opened(args, clock) as (settings, store):
        if args.campaign is not None and args.campaign not in settings.campaigns:
            names = sorted(settings.campaigns)
            raise CommandError(
                f"no campaign {args.campaign!r} in the config{closest(args.campaign, names)} "
                f"Campaigns: {', '.join(names) or 'none'}"
            )
        configured = [label for label, _ in configured_ages(settings)]
        if args.age is not None and args.age not in configured:
            raise CommandError(
                f"--age {args.age!r} is not one of the ages results are read at "
                f"({', '.join(configured)}; [results] ages in the config)"
            )
        since = since_moment(args.since)
        report = read_report(
            settings, store, args.by, campaign=args.campaign, since=since, age=args.age
        )
        out.write(FORMATS[args.format](report))
    return 0
