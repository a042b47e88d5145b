"""Cross-checks the schema cannot make: names that must match, fields one network needs."""

from __future__ import annotations

from amplifier.config.locator import Loc
from amplifier.config.models import Settings
from amplifier.config.secrets import REQUIRED_SECRETS


def cross_check(settings: Settings) -> list[tuple[Loc, str]]:
    problems: list[tuple[Loc, str]] = []
    seen: set[str] = set()
    campaigns = ", ".join(sorted(settings.campaigns)) or "(none defined)"
    schedules = ", ".join(sorted(settings.schedules)) or "(none defined)"
    for index, account in enumerate(settings.accounts):
        loc: Loc = ("accounts", index)
        if account.name in seen:
            problems.append(
                ((*loc, "name"), f"accounts[{index}].name: {account.name!r} is used twice")
            )
        seen.add(account.name)
        for campaign in account.campaigns:
            if campaign not in settings.campaigns:
                problems.append(
                    (
                        (*loc, "campaigns"),
                        f"accounts[{index}].campaigns: unknown campaign {campaign!r}; "
                        f"defined campaigns: {campaigns}",
                    )
                )
        if account.schedule not in settings.schedules:
            problems.append(
                (
                    (*loc, "schedule"),
                    f"accounts[{index}].schedule: unknown schedule {account.schedule!r}; "
                    f"defined schedules: {schedules}",
                )
            )
        if account.network == "mastodon" and not account.instance:
            problems.append(
                (
                    loc,
                    f"accounts[{index}] ({account.name}): a Mastodon account needs "
                    'instance = "https://your.instance"',
                )
            )
        if account.network == "bluesky" and not account.handle:
            problems.append(
                (
                    loc,
                    f"accounts[{index}] ({account.name}): a Bluesky account needs "
                    'handle = "name.bsky.social"',
                )
            )
        if account.monthly_budget_usd is not None and account.network != "x":
            problems.append(
                (
                    (*loc, "monthly_budget_usd"),
                    f"accounts[{index}].monthly_budget_usd: only X bills per post; remove it "
                    f"from this {account.network} account",
                )
            )
        allowed = {key for option in REQUIRED_SECRETS[account.network] for key in option}
        for key in account.secrets_from_env:
            if key not in allowed:
                problems.append(
                    (
                        (*loc, "secrets_from_env", key),
                        f"accounts[{index}].secrets_from_env.{key}: not a {account.network} "
                        f"credential; allowed: {', '.join(sorted(allowed))}",
                    )
                )
    for name, dates in settings.campaigns.items():
        if dates.start and dates.end and dates.end < dates.start:
            problems.append(
                (
                    ("campaigns", name, "end"),
                    f"campaigns.{name}.end: {dates.end} is before start {dates.start}",
                )
            )
    return problems
