"""``amplifier check``: validate the config and every post, and say exactly what is wrong.

Problems print as ``file:line: message`` (or as GitHub Actions annotations), then a summary
of valid and invalid posts per campaign and network.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from amplifier.check.attribution import attribution_warnings
from amplifier.check.coverage import coverage_warnings
from amplifier.check.instances import instance_problems, limits_lines
from amplifier.check.loading import load
from amplifier.check.problems import counted
from amplifier.check.sensitive import sensitive_warnings
from amplifier.check.warnings import guard_warnings
from amplifier.config import Settings
from amplifier.content import Library
from amplifier.errors import ConfigError, Problem
from amplifier.networks.base import NETWORK_NAMES, NetworkName
from amplifier.networks.mastodon_limits import InstanceLimits

# Each Mastodon server's stored limits, read for the settings (the CLI reads the database).
StoredLimits = Callable[[Settings], Mapping[str, InstanceLimits]]


@dataclass(frozen=True)
class CheckReport:
    problems: tuple[Problem, ...]
    settings: Settings | None
    library: Library | None
    limits: tuple[str, ...] = ()  # a 'limits:' line per Mastodon account

    @property
    def ok(self) -> bool:
        return not any(p.severity == "error" for p in self.problems)


def run_check(
    config: str | Path | None = None,
    posts: str | Path | None = None,
    *,
    stored: StoredLimits | None = None,
) -> CheckReport:
    try:
        settings, library = load(config, posts)
    except ConfigError as exc:
        return CheckReport(tuple(exc.problems), None, None)
    # Here, not at the top: only a report needs the share kit, which the worker never imports.
    from amplifier.kit import share_warnings

    known = stored(settings) if stored is not None else {}
    found = [
        *library.problems,
        *coverage_warnings(settings, library),
        *guard_warnings(settings, library),
        *sensitive_warnings(library),
        *instance_problems(settings, library, known),
        *share_warnings(settings, library),
        *attribution_warnings(settings, library),
    ]
    ordered = sorted(found, key=lambda p: (str(p.file), p.line or 0))
    return CheckReport(tuple(ordered), settings, library, tuple(limits_lines(settings, known)))


def summary_lines(report: CheckReport) -> list[str]:
    lines: list[str] = []
    if report.settings is None or report.library is None:
        lines.append("config: invalid; fix the problems above, then run amplifier check again")
        return lines
    settings, library = report.settings, report.library
    lines.append(
        f"config: ok ({counted(len(settings.accounts), 'account')}, "
        f"{counted(len(settings.campaigns), 'campaign')})"
    )
    valid: Counter[tuple[str, NetworkName]] = Counter()
    invalid: Counter[str] = Counter()
    valid_files: Counter[str] = Counter()
    # A file whose campaign could not be read, or names none in the config, belongs to no
    # campaign: it is counted apart, never under a made-up "unknown campaign".
    outside = 0
    for result in library.files:
        campaign = result.campaign
        if campaign not in settings.campaigns:
            outside += 1
            continue
        if not result.ok:
            invalid[campaign] += 1
            continue
        valid_files[campaign] += 1
        for network in result.networks:
            valid[(campaign, network)] += 1
    for campaign in sorted(settings.campaigns):
        per_network = "  ".join(
            f"{network} {valid[(campaign, network)]}" for network in NETWORK_NAMES
        )
        lines.append(
            f"campaign {campaign}: {counted(valid_files[campaign], 'valid post file')}, "
            f"{invalid[campaign]} invalid; valid per network: {per_network}"
        )
    if outside:
        lines.append(
            f"in no campaign of the config: {counted(outside, 'invalid post file')} (campaign "
            "unknown or unreadable; the errors above say why)"
        )
    lines += report.limits
    errors = sum(1 for p in report.problems if p.severity == "error")
    warnings = len(report.problems) - errors
    verdict = "ok" if report.ok else "FAILED"
    lines.append(
        f"{verdict}: {counted(len(library.files), 'file')} checked, "
        f"{counted(errors, 'error')}, {counted(warnings, 'warning')}"
    )
    return lines
