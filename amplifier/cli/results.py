"""``amplifier results``: the results report, read from the store and printed."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from datetime import UTC, datetime, tzinfo
from typing import TextIO
from zoneinfo import ZoneInfo

from amplifier.cli.common import CommandError, closest
from amplifier.cli.database import opened
from amplifier.results import FORMATS, build_report, configured_ages

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
        since = None
        if args.since is not None:
            since = datetime(args.since.year, args.since.month, args.since.day, tzinfo=UTC)
        rows = store.results_rows(campaign=args.campaign, since=since, age=args.age)
        zones: dict[str, tzinfo] = {}
        for account in settings.accounts:
            schedule = settings.schedules.get(account.schedule)
            if schedule is not None:
                zones[account.name] = ZoneInfo(schedule.timezone)
        report = build_report(
            rows,
            args.by,
            final_age_seconds=configured_ages(settings)[-1][1],
            gone=store.gone_deliveries(),
            zones=zones,
            age=args.age,
        )
        out.write(FORMATS[args.format](report))
    return 0
