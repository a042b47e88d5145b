"""``amplifier results``: the results report, read from the store and printed."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from datetime import UTC, datetime, tzinfo
from typing import TextIO
from zoneinfo import ZoneInfo

from amplifier.cli.common import CommandError, closest
from amplifier.cli.database import opened
from amplifier.results import (
    COLUMNS,
    FORMATS,
    Report,
    build_report,
    configured_ages,
    report_from_totals,
)

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
        final = configured_ages(settings)[-1][1]
        report: Report
        if args.by in COLUMNS:  # summed by the database
            totals = store.results_totals(
                COLUMNS[args.by], campaign=args.campaign, since=since, age=args.age,
                final_age_seconds=final,
            )  # fmt: skip
            report = report_from_totals(totals, args.by, args.age)
        else:
            zones: dict[str, tzinfo] = {}
            for account in settings.accounts:
                schedule = settings.schedules.get(account.schedule)
                if schedule is not None:
                    zones[account.name] = ZoneInfo(schedule.timezone)
            rows = store.results_rows(campaign=args.campaign, since=since, age=args.age)
            report = build_report(
                rows, args.by, final_age_seconds=final, gone=store.gone_deliveries(),
                zones=zones, age=args.age,
            )  # fmt: skip
        out.write(FORMATS[args.format](report))
    return 0
