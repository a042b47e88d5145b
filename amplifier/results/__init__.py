"""Results: what each published post achieved, read back from the networks and reported.

Collection (collect.py) is the worker's low-priority housework: at fixed ages after a post
went out (1 h, 24 h, 7 d by default) it reads the post's public counts in batches of the
network's size, stores them as snapshots (the store's 0012 table), and yields to publishing:
no batch starts while a slot or a deferred post is due, an account's shut rate-limit window
holds its reads too, and X reads, billed per post, only spend what the month's posts will not
need (budget.py). Reports (report.py) group the latest snapshot of each post by post,
template, language, hashtag, network, account or hour; formats.py prints them; reading.py reads
one from the store (the command and the console alike); those three load on first use, so
the worker, which only collects, never imports them.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from amplifier.results.ages import age_seconds, collects, configured_ages
from amplifier.results.budget import affordable_reads
from amplifier.results.collect import Collector, RoundReport

if TYPE_CHECKING:
    from amplifier.results.formats import FORMATS
    from amplifier.results.reading import read_report, since_moment
    from amplifier.results.report import (
        COLUMNS,
        GROUPINGS,
        Report,
        build_report,
        report_from_totals,
    )

# The reports' side, imported when first asked for: the worker collects, it never reports.
_REPORTING = {
    "FORMATS": "amplifier.results.formats",
    "read_report": "amplifier.results.reading",
    "since_moment": "amplifier.results.reading",
    "COLUMNS": "amplifier.results.report",
    "GROUPINGS": "amplifier.results.report",
    "Report": "amplifier.results.report",
    "build_report": "amplifier.results.report",
    "report_from_totals": "amplifier.results.report",
}


def __getattr__(name: str) -> Any:
    if name in _REPORTING:
        return getattr(import_module(_REPORTING[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "COLUMNS",
    "FORMATS",
    "GROUPINGS",
    "Collector",
    "Report",
    "RoundReport",
    "affordable_reads",
    "age_seconds",
    "build_report",
    "collects",
    "configured_ages",
    "read_report",
    "report_from_totals",
    "since_moment",
]
