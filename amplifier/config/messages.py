"""The wording of config problems: where a key is (accounts by name), and the closest valid name.

Every config message is built here, so they read alike: ``account 'fbt-x' schedule: unknown
schedule 'us-daytme'; did you mean 'us-daytime'? defined schedules: spain-evening, us-daytime``.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from typing import Any

from amplifier.config.locator import Loc, dotted

VARIABLE = "environment variable"


def closest(word: str, options: Iterable[str]) -> str | None:
    """The option most like ``word`` (difflib's ratio of at least 0.6), if any."""
    matches = difflib.get_close_matches(word, list(options), n=1, cutoff=0.6)
    return matches[0] if matches else None


def did_you_mean(word: str, options: Iterable[str]) -> str:
    """``"; did you mean 'x'?"`` for the closest option, or nothing when none is close."""
    match = closest(word, options)
    return f"; did you mean {match!r}?" if match is not None else ""


def listing(names: Iterable[str]) -> str:
    return ", ".join(sorted(names)) or "(none defined)"


def ordinal(number: int) -> str:
    suffix = (
        "th" if 10 <= number % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(number % 10, "th")
    )
    return f"{number}{suffix}"


def account_label(index: int, raw: Mapping[str, Any]) -> str:
    """``account 'fbt-x'``; the position only when the account has no usable name."""
    accounts = raw.get("accounts")
    entry = accounts[index] if isinstance(accounts, list) and index < len(accounts) else None
    name = entry.get("name") if isinstance(entry, Mapping) else None
    if isinstance(name, str) and name:
        return f"account {name!r}"
    return f"the {ordinal(index + 1)} [[accounts]] (no name)"


def where(loc: Loc, raw: Mapping[str, Any]) -> str:
    """A key path as messages write it: accounts by name, everything else dotted."""
    if len(loc) >= 2 and loc[0] == "accounts" and isinstance(loc[1], int):
        label = account_label(loc[1], raw)
        rest = dotted(loc[2:]) if len(loc) > 2 else ""
        return f"{label} {rest}" if rest else label
    return dotted(loc)


def unknown_name(kind: str, given: str, names: Iterable[str]) -> str:
    """``unknown schedule 'x'; did you mean 'y'? defined schedules: …``."""
    names = list(names)
    hint = did_you_mean(given, names)
    return f"unknown {kind} {given!r}{hint}{' ' if hint else '; '}defined {kind}s: {listing(names)}"


def unknown_variable(what: str, suggestion: str | None, here: str) -> str:
    """A variable that reaches no setting: the closest real one, and what exists there."""
    hint = f"did you mean {suggestion}? " if suggestion else ""
    return (
        f"{what + ' ' if what else ''}matches no setting, so it would change nothing; "
        f"{hint}{here}. "
        "Rename or unset it (amplifier reads every AMPLIFIER_* variable)"
    )


def no_such_entry(kind: str, given: str, names: Iterable[str], suggestion: str | None) -> str:
    """A variable naming a schedule, campaign or account the file does not define."""
    hint = f"did you mean {suggestion}? " if suggestion else ""
    return (
        f"no {kind} named {given!r} in the config file; an override changes a setting but "
        f"never adds {'an' if kind[0] in 'aeiou' else 'a'} {kind}; {hint}"
        f"defined {kind}s: {listing(names)}"
    )


def credential_variable(key: str) -> str:
    return (
        f"{key} is a credential, never a setting (value not shown): put it in the variable "
        f'the account names under [accounts.secrets_from_env] {key} = "VARIABLE"'
    )


def not_json(error: str, example: str) -> str:
    return f"not JSON ({error}); write it as JSON, e.g. {example}"


# What a pattern in models.py asks for, in words.
PATTERNS = {
    r"^[a-z0-9][a-z0-9_-]{0,63}$": "lower-case letters, digits, '-' and '_', starting with a "
    "letter or a digit, at most 64 characters, e.g. 'fbt-x'",
    r"^[a-z]{2,3}$": "a two- or three-letter language code in lower case, e.g. 'en' or 'es'",
    r"^https?://[^\s/]+": "an address starting with https://, e.g. 'https://mastodon.social'",
}


def pattern_words(pattern: str) -> str:
    return PATTERNS.get(pattern, f"text matching {pattern}")


BOOLEAN_WORDS = "true or false (also yes/no, on/off, 1/0)"


def date_problem(key: str, value: str, reason: str) -> str:
    return f"{key}: {value} is not a date ({reason}); write a real date as YYYY-MM-DD"
