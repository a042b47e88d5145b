"""Why an account has nothing to post, or cannot post the one asked for: said in full.

"Nothing to post" always names its cause: the campaign's dates, no valid post in it, its
``posts`` patterns, the network, the language, the posts' own dates. A post asked for by id
(``post-now --post``) that cannot go out says whether the id exists at all, whether its file
is invalid (and where), or which of those rules leaves it out for this account today.
"""

from __future__ import annotations

from datetime import date
from difflib import get_close_matches
from fnmatch import fnmatchcase

from amplifier.config import Account, Settings
from amplifier.content import Library, Template


def why_no_post(settings: Settings, library: Library, account: Account, day: date) -> str:
    """Why the account has no post to choose from on ``day``, campaign by campaign."""
    language_of = {name: account.language or settings.campaigns[name].language for name in
                   account.campaigns}  # fmt: skip
    reasons = []
    for name in account.campaigns:
        campaign = settings.campaigns[name]
        language = language_of[name]
        if (campaign.start and day < campaign.start) or (campaign.end and day > campaign.end):
            span = f"{campaign.start or 'its start'} to {campaign.end or 'its end'}"
            reasons.append(f"campaign {name!r} runs {span}, not on {day}")
            continue
        posts = [t for t in library.originals.values() if t.campaign == name]
        if not posts:
            reasons.append(_no_valid_post(library, name))
            continue
        matching = [t for t in posts if any(fnmatchcase(t.id, p) for p in campaign.posts)]
        if not matching:
            patterns = ", ".join(campaign.posts)
            reasons.append(_none_of(name, len(posts), "posts", f"matches its posts ({patterns})"))
            continue
        here = [t for t in matching if account.network in t.networks]
        if not here:
            reasons.append(_none_of(name, len(matching), "posts", f"is for {account.network}"))
            continue
        versions = [v for t in here if (v := library.version(t.id, language)) is not None]
        if not versions:
            reasons.append(
                _none_of(name, len(here), f"{account.network} posts", f"has a {language!r} version")
            )
            continue
        reasons.append(
            _none_of(name, len(versions), f"{language!r} posts", f"is valid on {day}")
            + " (valid_from / valid_until)"
        )
    return "no post to choose from: " + "; ".join(reasons or ["the account has no campaign"])


_NEGATED = {"matches": "does not match", "is": "is not", "has": "has no"}


def _none_of(campaign: str, count: int, kind: str, holds: str) -> str:
    """'none of campaign 'c''s 2 posts is for x', or for one: 'campaign 'c''s only post is
    not for x'."""
    if count != 1:
        return f"none of campaign {campaign!r}'s {count} {kind} {holds}"
    verb, _, rest = holds.partition(" ")
    rest = rest.removeprefix("a ") if verb == "has" else rest
    return f"campaign {campaign!r}'s only {kind.removesuffix('s')} {_NEGATED[verb]} {rest}"


def _no_valid_post(library: Library, name: str) -> str:
    """No post at all in the campaign, or only invalid ones (how many)."""
    invalid = sum(1 for f in library.files if f.campaign == name and not f.ok)
    if not invalid:
        return f"campaign {name!r} has no posts (no file in the posts folder says campaign: {name})"
    which = "its one post file is" if invalid == 1 else f"all {invalid} of its post files are"
    return f"campaign {name!r} has no valid post: {which} invalid (amplifier check shows why)"


def why_not_post(
    settings: Settings, library: Library, account: Account, post_id: str, day: date
) -> str:
    """Why the post ``post_id`` is not among the account's posts on ``day``."""
    original = library.originals.get(post_id) or _original_of(library, post_id)
    if original is None:
        return _missing(library, post_id)
    name = original.campaign
    where = f"post {post_id!r} ({original.path})"
    if name not in account.campaigns:
        return (
            f"{where} belongs to campaign {name!r}; {account.name} posts for "
            f"{', '.join(account.campaigns)}"
        )
    campaign = settings.campaigns[name]
    if (campaign.start and day < campaign.start) or (campaign.end and day > campaign.end):
        span = f"{campaign.start or 'its start'} to {campaign.end or 'its end'}"
        return f"{where}: campaign {name!r} runs {span}, not on {day}"
    if not any(fnmatchcase(original.id, pattern) for pattern in campaign.posts):
        return f"{where} is not among campaign {name!r}'s posts ({', '.join(campaign.posts)})"
    if account.network not in original.networks:
        networks = ", ".join(sorted(original.networks))
        return f"{where} is not for {account.network} (its networks: {networks})"
    language = account.language or campaign.language
    version = library.version(original.id, language)
    if version is None:
        return f"{where} has no {language!r} version, the language {account.name} posts in"
    if version.id != post_id:
        asked = next(
            (v for v in library.translations.get(original.id, {}).values() if v.id == post_id),
            original,
        )
        return (
            f"post {post_id!r} is the {asked.language!r} version of {original.id!r}; "
            f"{account.name} posts in {language!r}: ask for {version.id!r}"
        )
    if not version.valid_on(day):
        span = f"{version.valid_from or 'any day'} to {version.valid_until or 'any day'}"
        return f"{where} may go out from {span} ({version.path}), not on {day}"
    return f"{where} cannot go out on {account.name} on {day}"


def _original_of(library: Library, post_id: str) -> Template | None:
    """The original of a translation's id, if ``post_id`` is one."""
    for original, versions in library.translations.items():
        if any(version.id == post_id for version in versions.values()):
            return library.originals.get(original)
    return None


def _missing(library: Library, post_id: str) -> str:
    """No valid post has this id: an invalid file (where and why), or no file at all."""
    for result in library.files:
        if result.post_id == post_id and not result.ok:
            problems = [str(p) for p in library.problems if str(p.file) == str(result.path)]
            detail = "; ".join(problems) or str(result.path)
            return f"post {post_id!r} cannot be used: its file is invalid: {detail}"
    known = sorted({*library.originals, *(v.id for vs in library.translations.values()
                                          for v in vs.values())})  # fmt: skip
    close = get_close_matches(post_id, known, n=3)
    hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
    return f"no post has the id {post_id!r} (the id: field of a file in the posts folder){hint}"
