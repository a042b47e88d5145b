"""Cross-checks the schema cannot make: names that must match, fields one network needs.

Accounts are named by name, and a name that matches nothing comes with the closest valid one.
"""

from __future__ import annotations

from amplifier.config import messages
from amplifier.config.locator import Loc
from amplifier.config.models import Account, Settings
from amplifier.config.secrets import REQUIRED_SECRETS


def cross_check(settings: Settings) -> list[tuple[Loc, str]]:
    problems: list[tuple[Loc, str]] = []
    first_index: dict[str, int] = {}
    for index, account in enumerate(settings.accounts):
        loc: Loc = ("accounts", index)
        label = f"account {account.name!r}"
        if account.name in first_index:
            problems.append(
                (
                    (*loc, "name"),
                    f"{label} name: used by the {messages.ordinal(first_index[account.name] + 1)} "
                    f"and the {messages.ordinal(index + 1)} [[accounts]]; give each its own name",
                )
            )
        first_index.setdefault(account.name, index)
        for campaign in account.campaigns:
            if campaign not in settings.campaigns:
                problems.append(
                    (
                        (*loc, "campaigns"),
                        f"{label} campaigns: "
                        + messages.unknown_name("campaign", campaign, settings.campaigns),
                    )
                )
        if account.schedule not in settings.schedules:
            problems.append(
                (
                    (*loc, "schedule"),
                    f"{label} schedule: "
                    + messages.unknown_name("schedule", account.schedule, settings.schedules),
                )
            )
        problems += [((*loc, *key), f"{label}{text}") for key, text in _network_fields(account)]
    for name, dates in settings.campaigns.items():
        if dates.start and dates.end and dates.end < dates.start:
            problems.append(
                (
                    ("campaigns", name, "end"),
                    f"campaigns.{name}.end: {dates.end} is before start {dates.start}",
                )
            )
    return problems


def _network_fields(account: Account) -> list[tuple[Loc, str]]:
    """What one network needs of an account, and what it cannot take; messages after the name."""
    problems: list[tuple[Loc, str]] = []
    if account.network == "mastodon" and not account.instance:
        problems.append(
            ((), ': a Mastodon account needs instance = "https://your.instance"'),
        )
    if account.network == "bluesky" and not account.handle:
        problems.append(((), ': a Bluesky account needs handle = "name.bsky.social"'))
    if account.monthly_budget_usd is not None and account.network != "x":
        problems.append(
            (
                ("monthly_budget_usd",),
                f" monthly_budget_usd: only X bills per post; remove it from this "
                f"{account.network} account",
            )
        )
    allowed = sorted({key for option in REQUIRED_SECRETS[account.network] for key in option})
    for key in account.secrets_from_env:
        if key not in allowed:
            hint = messages.did_you_mean(key, allowed)
            problems.append(
                (
                    ("secrets_from_env", key),
                    f" secrets_from_env.{key}: not a {account.network} credential{hint}"
                    f"{' ' if hint else '; '}allowed: {', '.join(allowed)}",
                )
            )
    return problems
