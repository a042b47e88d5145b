"""``amplifier check``: every problem at its file and line, then the summary.

Imports no store and no network: a check runs where only the posts and the config are.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from datetime import datetime
from typing import TextIO

from amplifier.check import format_problem, run_check, summary_lines

Clock = Callable[[], datetime]


def cmd_check(args: argparse.Namespace, out: TextIO, clock: Clock) -> int:
    report = run_check(args.config, args.posts)
    for problem in report.problems:
        print(format_problem(problem, args.format), file=out)
    for line in summary_lines(report):
        print(line, file=out)
    if report.settings is None:
        return 2
    return 0 if report.ok else 1
