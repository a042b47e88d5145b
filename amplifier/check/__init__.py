"""Check: the pre-flight report of ``amplifier check``, the flow up to the guard, sending nothing.

``run_check`` loads the config and every post (config and content stages), lists each problem
at its file and line, warns of campaigns and accounts left with nothing to post, and adds the
guards' warnings: texts a rule would refuse, posts too alike, schedules the caps or budgets
would cut short (schedule and guards stages), and links a tagging campaign would publish
untagged (attribution.py). ``load`` is how every command gets its settings and posts.
``card_report`` reads each Bluesky link's card on request (``--fetch-cards``).
"""

from __future__ import annotations

from amplifier.check.cards import card_report
from amplifier.check.problems import display_path, format_problem
from amplifier.check.report import CheckReport, load, run_check, summary_lines
from amplifier.check.warnings import guard_warnings

__all__ = [
    "CheckReport",
    "card_report",
    "display_path",
    "format_problem",
    "guard_warnings",
    "load",
    "run_check",
    "summary_lines",
]
