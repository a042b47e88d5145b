"""The ages at which a post's counts are read, and which accounts are read at all."""

from __future__ import annotations

from amplifier.config import Account, Settings

UNITS = {"m": 60, "h": 3_600, "d": 86_400}


def age_seconds(label: str) -> int:
    """'90m' -> 5400, '24h' -> 86400, '7d' -> 604800 (labels the config has checked)."""
    return int(label[:-1]) * UNITS[label[-1]]


def configured_ages(settings: Settings) -> list[tuple[str, int]]:
    """The configured ages as (label, seconds), youngest first, each once."""
    found = {age_seconds(label): label for label in settings.results.ages}
    return [(found[seconds], seconds) for seconds in sorted(found)]


def collects(account: Account) -> bool:
    """Whether this account's posts are read: as set, else yes on Mastodon and Bluesky (free)
    and no on X (billed per post read)."""
    if account.results is not None:
        return account.results
    return account.network != "x"
