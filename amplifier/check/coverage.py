"""What the config asks for and the posts cannot give: said at check time, not on the day.

A campaign no post belongs to, a campaign whose posts are all invalid, an account none of
whose campaign's posts is for its network or has a version in its language: each leaves an
account with nothing to post, which ``preview`` would only show day by day. Warnings at the
config's line (the posts may be on their way), never errors.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from amplifier.check.problems import counted
from amplifier.config import Account, KeyLocator, Settings
from amplifier.content import Library
from amplifier.errors import Problem


def coverage_warnings(
    settings: Settings, library: Library, today: date | None = None
) -> list[Problem]:
    """Campaigns and accounts that will have nothing to post, each at its config line."""
    day = today or date.today()
    try:
        locator = KeyLocator(Path(settings.config_path).read_text(encoding="utf-8"))
    except OSError:
        locator = KeyLocator("")
    config = settings.config_path or "config"
    warnings: list[Problem] = []
    enabled = [a for a in settings.accounts if a.enabled]
    for name in settings.campaigns:
        message = _campaign_message(library, name, [a.name for a in enabled if name in a.campaigns])
        if message:
            line = locator.line(("campaigns", name))
            warnings.append(Problem(config, line, message, "warning"))
    for index, account in enumerate(settings.accounts):
        if not account.enabled:
            continue
        for message in _account_messages(settings, library, account, day):
            warnings.append(Problem(config, locator.line(("accounts", index)), message, "warning"))
    return warnings


def _campaign_message(library: Library, name: str, accounts: list[str]) -> str | None:
    if any(t.campaign == name for t in library.originals.values()):
        return None
    files = [f for f in library.files if f.campaign == name]
    if accounts:
        effect = f"so its accounts ({', '.join(accounts)}) have nothing to post"
    else:
        effect = "and no account posts it"
    if not files:
        return (
            f"campaign {name!r} has no posts: no file in the posts folder says "
            f"'campaign: {name}', {effect}; add posts, or remove the campaign"
        )
    which = "its one post file is" if len(files) == 1 else f"all {len(files)} of its post files are"
    return (
        f"campaign {name!r} has no valid post: {which} invalid (the errors above say why), "
        f"{effect} until one is fixed"
    )


def _account_messages(
    settings: Settings, library: Library, account: Account, day: date
) -> list[str]:
    found: list[str] = []
    for name in account.campaigns:
        campaign = settings.campaigns[name]
        language = account.language or campaign.language
        posts = [t for t in library.originals.values() if t.campaign == name]
        if not posts:
            continue  # said once, for the campaign
        here = [t for t in posts if account.network in t.networks]
        if not here:
            found.append(
                f"account {account.name} ({account.network}) posts campaign {name!r}, but none "
                f"of its {counted(len(posts), 'valid post')} is for {account.network} "
                "(their 'networks:'): the account has nothing to post"
            )
            continue
        versions = [v for t in here if (v := library.version(t.id, language)) is not None]
        if versions and all(v.valid_until and v.valid_until < day for v in versions):
            found.append(
                f"account {account.name} ({account.network}) posts campaign {name!r}, but "
                f"{'its one' if len(versions) == 1 else f'all {len(versions)} of its'} "
                f"{language!r} {account.network} post{'' if len(versions) == 1 else 's'} "
                f"ended before {day} (valid_until): the account has nothing to post; add "
                "posts, or move valid_until later"
            )
        if not versions:
            which = "account's 'language'" if account.language else "campaign's 'language'"
            found.append(
                f"account {account.name} ({account.network}) posts campaign {name!r} in "
                f"{language!r}, but none of its {counted(len(here), account.network + ' post')} "
                f"has a {language!r} version: the account has nothing to post; add "
                f"translations (translation_of:, language: {language}) or change the {which}"
            )
    return found
