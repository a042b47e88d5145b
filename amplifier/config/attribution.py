"""The ``attribution`` setting of a campaign: how its links are tagged, read and checked.

``"none"`` leaves links as written; ``"utm"`` adds the four UTM parameters; anything else is a
template of query parameters for the source codes advocacy tools read, such as
``"source={campaign}-{network}"`` (Action Network, ActionKit) or
``"refcode={medium}_{network}_{post}"`` (ActBlue): ``name=value`` pairs joined by ``&``,
whose values may use {network}, {medium}, {campaign} and {post}, and nothing else: nothing
about a reader can be put in a link.
"""

from __future__ import annotations

import re
from string import Formatter

FIELDS = ("network", "medium", "campaign", "post")
_NAME = re.compile(r"^[A-Za-z0-9_.\-]{1,64}$")


def attribution_pairs(value: str) -> tuple[tuple[str, str], ...]:
    """The (name, value template) pairs of an attribution template; ValueError saying why
    one is unusable. "utm" and "none" are not templates (the caller handles them)."""
    pairs: list[tuple[str, str]] = []
    for part in value.split("&"):
        name, sep, template = part.partition("=")
        if not sep or not _NAME.match(name):
            raise ValueError(
                f"attribution {value!r}: each part is name=value (such as source={{network}} "
                'or refcode={post}), joined by "&"; or "utm", or "none"'
            )
        try:
            fields = [field for _, field, _, _ in Formatter().parse(template) if field is not None]
        except ValueError as error:
            raise ValueError(
                f"attribution {value!r}: unbalanced braces in {part!r} ({error})"
            ) from error
        unknown = [field for field in fields if field not in FIELDS]
        if unknown:
            allowed = ", ".join("{" + field + "}" for field in FIELDS)
            raise ValueError(
                f"attribution {value!r}: unknown placeholder {{{unknown[0]}}}; allowed are "
                f"{allowed} (nothing about the reader can go in a link)"
            )
        pairs.append((name, template))
    return tuple(pairs)


def fill_pairs(pairs: tuple[tuple[str, str], ...], values: dict[str, str]) -> list[tuple[str, str]]:
    """The pairs with their placeholders filled from ``values`` (every one of FIELDS)."""
    filled: list[tuple[str, str]] = []
    for name, template in pairs:
        out = ""
        for literal, field, _, _ in Formatter().parse(template):
            out += literal + (values[field] if field is not None else "")
        filled.append((name, out))
    return filled
