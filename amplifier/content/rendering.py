"""Turn a template body into the exact text one network receives.

Templates may use two placeholders, ``{hashtags}`` and ``{link}``; ``{{`` and ``}}`` are
literal braces. Placeholders are tokenised with ``string.Formatter().parse`` and
substituted by hand: user text is never passed to ``str.format`` (which would evaluate
``{x.__class__}``-style lookups).

Hashtags are fitted, never forced: each is added in priority order only while the cap
and the network's length limit allow, so a post is never cut or truncated.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from functools import cached_property
from string import Formatter

import regex

from amplifier.config import NetworkLimits
from amplifier.content.length import (
    graphemes,
    mastodon_length_bound,
    measure,
    utf8_bytes,
    x_invalid_characters,
    x_length_bound,
)
from amplifier.errors import RenderError
from amplifier.networks.base import NetworkName

PLACEHOLDERS = ("hashtags", "link")
_ALLOWED = "{hashtags} and {link}"
_LITERAL_HINT = "write {{ or }} for a literal brace"


def limits_for_post(
    limits: NetworkLimits, network: NetworkName, content_warning: str | None
) -> NetworkLimits:
    """Mastodon counts a content warning toward the status limit; the others show none."""
    if network != "mastodon" or not content_warning:
        return limits
    return replace(limits, max_length=limits.max_length - graphemes(content_warning))


_RULES: dict[NetworkName, str] = {
    "x": "X counts URLs as {url}, emoji and CJK as 2",
    "mastodon": "Mastodon counts URLs as {url} and @user@server as @user",
    "bluesky": "Bluesky counts graphemes and URLs in full",
}


class TooLong(RenderError):
    """The text is over the network's limit before any hashtag is added."""

    def __init__(
        self, *, network: NetworkName, length: int, limit: int, unit: str, rule: str
    ) -> None:
        self.network = network
        self.length = length
        self.limit = limit
        self.unit = unit
        # Said with how much to cut, and that the hashtags added from hashtags: and the
        # campaign are not in the count: render adds them only where they fit.
        super().__init__(
            f"too long for {network}: {length} of {limit} {unit}, cut at least "
            f"{length - limit} ({rule}; hashtags from 'hashtags:' and the campaign are not "
            "counted: they are added only where they fit)"
        )


@dataclass(frozen=True)
class RenderedPost:
    """The text for one network and how the hashtags were fitted.

    ``hashtags`` are the tags render added, in order; ``skipped_hashtags`` are requested
    tags left out by the cap or the length limit. Tags the text already held are in neither.
    ``link`` is the address the post links to: in the text as it is, or (a tagged link on
    Bluesky) in a shorter form the text shows, the address then going in the link's facet.
    """

    network: NetworkName
    text: str
    limit: int
    hashtags: tuple[str, ...]
    skipped_hashtags: tuple[str, ...]
    link: str | None
    limits: NetworkLimits = dataclasses.field(repr=False, compare=False)

    @cached_property
    def length(self) -> int:
        """The length the network counts (measured when first asked: the library's checks
        only need to know that a text fits, which is often known without measuring)."""
        return measure(self.text, self.network, self.limits)


# --- placeholders ------------------------------------------------------------------------

_Token = tuple[str, str | None]  # (literal text, placeholder name or None)


def _brace_problem(reason: str) -> str:
    if "Single '}'" in reason:
        return f"unbalanced braces: a '}}' without a matching '{{'; {_LITERAL_HINT}"
    if "Single '{'" in reason or "expected '}'" in reason:
        return f"unbalanced braces: a '{{' without a matching '}}'; {_LITERAL_HINT}"
    return f"malformed placeholder; {_LITERAL_HINT}"


def _field_problems(field: str, conversion: str | None, spec: str) -> list[str]:
    shown = (
        "{" + field + (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else "") + "}"
    )
    base = re.split(r"[.\[]", field, maxsplit=1)[0]
    problems: list[str] = []
    # One message per placeholder: the first reason it is wrong, plus any conversion or spec.
    if base == "" or base.isdigit():
        problems.append(f"positional placeholder {shown}: name it, allowed are {_ALLOWED}")
    elif base != field:
        problems.append(
            f"placeholder {shown} uses attribute or index access; only plain {_ALLOWED} are allowed"
        )
    elif base not in PLACEHOLDERS:
        problems.append(f"unknown placeholder {{{base}}}: allowed are {_ALLOWED} ({_LITERAL_HINT})")
    if conversion:
        problems.append(f"placeholder {shown} has a conversion (!{conversion}); remove it")
    if spec:
        problems.append(f"placeholder {shown} has a format spec (:{spec}); remove it")
    return ["; ".join(problems)] if problems else []


def _scan(text: str) -> tuple[list[_Token], list[tuple[int, str]]]:
    """Tokens of ``text`` and its problems as (0-based line, message)."""
    tokens: list[_Token] = []
    problems: list[tuple[int, str]] = []
    # Line by line, so a problem knows its line and one bad brace hides nothing after it.
    for line_no, line in enumerate(text.split("\n")):
        if line_no:
            tokens.append(("\n", None))
        parsed = Formatter().parse(line)
        try:
            for literal, field, spec, conversion in parsed:
                tokens.append((literal, None))
                if field is None:
                    continue
                found = _field_problems(field, conversion, spec or "")
                problems.extend((line_no, message) for message in found)
                tokens.append(("", field if not found else None))
        except ValueError as error:
            problems.append((line_no, _brace_problem(str(error))))
    return tokens, problems


def placeholder_problems(text: str) -> list[tuple[int, str]]:
    """Every placeholder problem in ``text`` as (0-based line within text, message)."""
    return _scan(text)[1]


def placeholder_lines(text: str) -> dict[str, int]:
    """The first line (0-based within ``text``) where each valid placeholder is used."""
    found: dict[str, int] = {}
    line = 0
    for literal, name in _scan(text)[0]:
        line += literal.count("\n")
        if name is not None:
            found.setdefault(name, line)
    return found


def _tokens(text: str) -> list[_Token]:
    tokens, problems = _scan(text)
    if problems:
        raise RenderError("; ".join(f"line {line + 1}: {message}" for line, message in problems))
    return tokens


def placeholders_used(text: str) -> set[str]:
    """The placeholder names ``text`` uses (raises RenderError on any problem)."""
    return {field for _, field in _tokens(text) if field is not None}


def _substitute(tokens: list[_Token], values: Mapping[str, str]) -> str:
    out = ""
    drop_space = False
    for literal, field in tokens:
        if field is None:
            # An empty value after a space or line start would leave a double or leading
            # space: drop the space that follows it.
            out += literal[1:] if drop_space and literal.startswith(" ") else literal
            drop_space = drop_space and literal == ""
            continue
        if field not in values:
            raise RenderError(f"no value for placeholder {{{field}}}")
        value = values[field]
        out += value
        drop_space = value == "" and (out == "" or out[-1] in " \n")
    return out


def fill(text: str, values: Mapping[str, str]) -> str:
    """Replace each {name} in ``text`` with values[name]; RenderError on any problem.

    An empty value right after a space or a line start also drops the space after it.
    """
    return _substitute(_tokens(text), values)


# --- hashtags ----------------------------------------------------------------------------

_TAG_BODY = regex.compile(r"[\p{L}\p{M}\p{Nd}_]+")
_HAS_LETTER = regex.compile(r"\p{L}")
# A hashtag in text: not glued to a word, a URL path or another tag ("/#frag", "a#b").
_TAG_IN_TEXT = regex.compile(r"(?<![\p{L}\p{M}\p{Nd}_&/=#@])[#＃]([\p{L}\p{M}\p{Nd}_]+)")


def normalize_hashtag(tag: str) -> str:
    """'#Tag' from 'Tag' or '#Tag'; RenderError naming a tag no network would link."""
    body = tag.strip()
    body = body[1:] if body.startswith("#") else body
    if not _TAG_BODY.fullmatch(body) or not _HAS_LETTER.search(body):
        raise RenderError(
            f"bad hashtag {tag!r}: use letters, digits and underscores, with at least one letter"
        )
    return "#" + body


def hashtags_in(text: str) -> list[str]:
    """The hashtags a text already holds, as written, in order."""
    return ["#" + match.group(1) for match in _TAG_IN_TEXT.finditer(text)]


# --- render ------------------------------------------------------------------------------

_TRAILING_SPACE = re.compile(r"[ \t]+$", re.MULTILINE)
_BLANK_LINES = re.compile(r"\n{3,}")


def _tidy(text: str) -> str:
    """No trailing spaces, at most one blank line in a row, nothing around the text."""
    return _BLANK_LINES.sub("\n\n", _TRAILING_SPACE.sub("", text)).strip()


def _compose(tokens: list[_Token], used: set[str], link: str | None, tags: list[str]) -> str:
    joined = " ".join(tags)
    body = _substitute(tokens, {"hashtags": joined, "link": link or ""})
    if link and "link" not in used:
        body = body.rstrip() + " " + link
    if tags and "hashtags" not in used:
        body = body.rstrip() + "\n\n" + joined
    return _tidy(body)


def _overflow(text: str, network: NetworkName, limits: NetworkLimits) -> TooLong | None:
    if not _surely_fits(text, network, limits):
        length = measure(text, network, limits)
        if length > limits.max_length:
            rule = _RULES[network].format(url=limits.url_length)
            return TooLong(
                network=network,
                length=length,
                limit=limits.max_length,
                unit="characters",
                rule=rule,
            )
    if limits.max_bytes is not None and utf8_bytes(text) > limits.max_bytes:
        return TooLong(
            network=network,
            length=utf8_bytes(text),
            limit=limits.max_bytes,
            unit="bytes",
            rule="counted in UTF-8",
        )
    return None


def _surely_fits(text: str, network: NetworkName, limits: NetworkLimits) -> bool:
    """A bound on the length within the limit: no exact count (and none of the URL patterns
    it needs: twitter-text's for X, Mastodon's own) is needed to know the text fits."""
    if network == "x":
        bound = x_length_bound(text, limits.url_length)
    elif network == "mastodon":
        bound = mastodon_length_bound(text, limits.url_length)
    else:
        return False
    return bound is not None and bound <= limits.max_length


def with_link(text: str, link: str | None) -> str:
    """The text ``render`` gives with no hashtags added (placeholders filled, link placed),
    without measuring it: for texts already validated, whose length is known to fit.

    Raises RenderError for a bad placeholder, as ``render`` does.
    """
    tokens = _tokens(text)
    used = {field for _, field in tokens if field is not None}
    return _compose(tokens, used, link, [])


def render(
    text: str,
    *,
    network: NetworkName,
    limits: NetworkLimits,
    link: str | None,
    hashtags: Sequence[str],
    shown_link: str | None = None,
) -> RenderedPost:
    """The post for ``network``: link placed, hashtags fitted, length checked.

    ``shown_link`` is what the text shows in the link's place, where that is not the link
    itself (a tagged link on Bluesky, shown short; its facet carries ``link``): the text is
    measured as shown. Raises TooLong when the text with its link is already over the limit,
    and RenderError for a bad placeholder or hashtag.
    """
    tokens = _tokens(text)
    used = {field for _, field in tokens if field is not None}
    wanted: list[str] = []
    for tag in hashtags:
        normalized = normalize_hashtag(tag)
        if normalized.lower() not in {w.lower() for w in wanted}:
            wanted.append(normalized)

    link_text = shown_link if link is not None and shown_link is not None else link
    base = _compose(tokens, used, link_text, [])
    too_long = _overflow(base, network, limits)
    if too_long is not None:
        raise too_long
    if network == "x" and (refused := x_invalid_characters(base)):
        raise RenderError(f"X refuses these characters: {', '.join(refused)}")

    present = {tag.lower() for tag in hashtags_in(base)}
    count = len(present)
    chosen: list[str] = []
    skipped: list[str] = []
    for tag in wanted:
        if tag.lower() in present:
            continue
        if count >= limits.max_hashtags:
            skipped.append(tag)
            continue
        candidate = _compose(tokens, used, link_text, [*chosen, tag])
        if _overflow(candidate, network, limits) is None:
            chosen.append(tag)
            count += 1
        else:
            skipped.append(tag)

    final = _compose(tokens, used, link_text, chosen)
    return RenderedPost(
        network=network,
        text=final,
        limit=limits.max_length,
        hashtags=tuple(chosen),
        skipped_hashtags=tuple(skipped),
        link=link,
        limits=limits,
    )
