"""The rules that look at a post's text alone: hashtag cap, $cashtags, @mentions.

The patterns follow twitter-text (what X itself links): a mention is not after a word
character, @ or a URL path and is not an e-mail address; a cashtag is $ and 1-6 letters after
a space or the start ($5 is a price).
"""

from __future__ import annotations

import regex

from amplifier.config import GuardSettings
from amplifier.content import hashtags_in
from amplifier.guards.refusals import Refusal

# twitter-text's mention rule: not after a word character, @ or a URL path; not an e-mail.
MENTION = regex.compile(
    r"(?<![\p{L}\p{M}\p{Nd}_!#$%&*@＠/=.+-])[@＠]([A-Za-z0-9_]{1,30}(?:@[\w.-]+\w)?)(?![@＠\w]|://)"
)
# twitter-text's cashtag: $ then 1-6 letters (optionally .xx or _xx), after a space or start.
CASHTAG = regex.compile(
    r"(?:^|(?<=\s))\$([A-Za-z]{1,6}(?:[._][A-Za-z]{1,2})?)(?=$|\s|[!-/:-@\[-`{-~])"
)


def hashtag_count(text: str) -> int:
    """Distinct hashtags in the text, as the networks link them (case-insensitive)."""
    return len({tag.casefold() for tag in hashtags_in(text)})


def cashtags(text: str) -> list[str]:
    """Every $cashtag in the text, in order ($5 is a price, not a cashtag)."""
    return ["$" + match.group(1) for match in CASHTAG.finditer(text)]


def mentions(text: str) -> list[str]:
    """Every @mention in the text (e-mail addresses and URL paths are not mentions)."""
    return ["@" + match.group(1) for match in MENTION.finditer(text)]


def text_refusals(
    text: str,
    network: str,
    *,
    allow_mentions: bool,
    max_hashtags: int,
    rules: GuardSettings,
) -> list[Refusal]:
    """Every rule that looks at the text alone and refuses it: hashtag cap, cashtags, mentions."""
    found: list[Refusal] = []
    tags = hashtag_count(text)
    if tags > max_hashtags:
        detail = f"{tags} hashtags, the {network} cap is {max_hashtags}"
        found.append(Refusal("hashtag-cap", "post", detail))
    money = cashtags(text)
    if network == "x" and len(money) > rules.x_max_cashtags:
        detail = f"{len(money)} cashtags ({' '.join(money)}), X allows {rules.x_max_cashtags}"
        found.append(Refusal("cashtags", "post", detail))
    named = mentions(text)
    if named and rules.mentions_need_allow and not allow_mentions:
        detail = (
            f"mentions {' '.join(named)} but the post does not say allow_mentions: true "
            "(automated @mentions are treated as spam)"
        )
        found.append(Refusal("mentions", "post", detail))
    return found
