"""Check: the pre-flight report of ``amplifier check``, the flow up to the guard, sending nothing.

``run_check`` loads the config and every post (config and content stages), lists each problem
at its file and line, warns of campaigns and accounts left with nothing to post, and adds the
guards' warnings: texts a rule would refuse, posts too alike, schedules the caps or budgets
would cut short (schedule and guards stages), and links a tagging campaign would publish
untagged (attribution.py). ``load`` is how every command gets its settings and posts.
``card_report`` reads each Bluesky link's card on request (``--fetch-cards``).

``load``, ``display_path`` and ``format_problem`` come without the report: the worker and
``post-now`` load their posts here, and need none of the warnings (the near-duplicate search
among them), which are imported when a report is first asked for; nor ``card_report``, which
brings the card reader (its HTML parser and fetcher) only to ``check --fetch-cards``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from amplifier.check.loading import load, load_posts
from amplifier.check.problems import display_path, format_problem

if TYPE_CHECKING:
    from amplifier.check.cards import card_report
    from amplifier.check.report import CheckReport, run_check, summary_lines
    from amplifier.check.warnings import guard_warnings

_REPORT = {"CheckReport", "run_check", "summary_lines"}


def __getattr__(name: str) -> Any:
    if name in _REPORT:
        from amplifier.check.report import CheckReport, run_check, summary_lines

        found: dict[str, Any] = {
            "CheckReport": CheckReport,
            "run_check": run_check,
            "summary_lines": summary_lines,
        }
        return found[name]
    if name == "card_report":
        from amplifier.check.cards import card_report

        return card_report
    if name == "guard_warnings":
        from amplifier.check.warnings import guard_warnings

        return guard_warnings
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "CheckReport",
    "card_report",
    "display_path",
    "format_problem",
    "guard_warnings",
    "load",
    "load_posts",
    "run_check",
    "summary_lines",
]
