"""Each Mastodon account's own server limits in ``check``: what its server would refuse.

``accounts verify`` and the worker store each server's limits (its ``max_characters``, image
size and count); ``check`` reads them from the database if there is one (never creating it)
and reports, as errors, the posts too long for an account's server or with images it does not
take: the worker would pass them over for that account. One ``limits:`` line per Mastodon
account says which limits were used and where they came from.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping

from amplifier.config import Account, AccountLimits, Settings, account_limits
from amplifier.content import Library, Template, limits_for_post, media_refusal, render
from amplifier.errors import Problem, RenderError
from amplifier.networks.mastodon_limits import InstanceLimits


def limits_lines(settings: Settings, stored: Mapping[str, InstanceLimits]) -> list[str]:
    """'limits: <account>: <figures>: stored from <server> at <time>' (or: the default)."""
    return [
        f"limits: {account.name}: {account_limits(settings, account, stored).describe()}"
        for account in _mastodon_accounts(settings)
    ]


def instance_problems(
    settings: Settings, library: Library, stored: Mapping[str, InstanceLimits]
) -> list[Problem]:
    """Errors for posts a Mastodon account's own server would refuse (from stored limits)."""
    found: dict[tuple[str, int | None, str], list[str]] = {}
    for account in _mastodon_accounts(settings):
        limits = account_limits(settings, account, stored)
        if limits.stored is None:
            continue  # the defaults: the library's own checks measured with them already
        for template in _posts_of(settings, library, account):
            for line, why in _unfit(template, limits):
                found.setdefault((str(template.path), line, why), []).append(account.name)
    problems = []
    for (path, line, why), accounts in found.items():
        names = ", ".join(accounts)
        message = f"{why} (the server of {names}); the worker passes it over there"
        problems.append(Problem(path, line, message))
    return problems


def _mastodon_accounts(settings: Settings) -> list[Account]:
    return [a for a in settings.accounts if a.enabled and a.network == "mastodon"]


def _posts_of(settings: Settings, library: Library, account: Account) -> list[Template]:
    """Every post (in the account's language) its campaigns may send to Mastodon, any day."""
    posts: list[Template] = []
    for name in account.campaigns:
        campaign = settings.campaigns.get(name)
        if campaign is None:
            continue
        language = account.language or campaign.language
        for post_id, original in library.originals.items():
            if original.campaign != name or "mastodon" not in original.networks:
                continue
            if not any(fnmatch.fnmatchcase(post_id, pattern) for pattern in campaign.posts):
                continue
            version = library.version(post_id, language)
            if version is not None:
                posts.append(version)
    return posts


def _unfit(template: Template, limits: AccountLimits) -> list[tuple[int | None, str]]:
    found: list[tuple[int | None, str]] = []
    try:
        render(
            template.text_for("mastodon"),
            network="mastodon",
            limits=limits_for_post(limits.text, "mastodon", template.content_warning),
            link=template.link,
            hashtags=(),
        )
    except RenderError as error:
        found.append((template.text_line("mastodon"), str(error)))
    refusal = media_refusal(template.media, limits.media, "mastodon")
    if refusal is not None:
        found.append((template.field_lines.get("media"), refusal))
    return found
