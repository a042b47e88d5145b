"""One post rendered in several versions that differ only in their last hashtags.

The share kit offers each post with a few picks of the campaign's rotated tags. Each version
is exactly what ``render`` gives for its tags; the steps the versions share (the text, its
length, the fixed tags fitted) run once. tests/content/test_render_alternatives.py checks the
two agree on any text and tags.
"""

from __future__ import annotations

from collections.abc import Sequence

from amplifier.config import NetworkLimits
from amplifier.content.length import x_invalid_characters
from amplifier.content.rendering import (
    RenderedPost,
    _compose,
    _overflow,
    _tokens,
    hashtags_in,
    normalize_hashtag,
)
from amplifier.errors import RenderError
from amplifier.networks.base import NetworkName


def render_alternatives(
    text: str,
    *,
    network: NetworkName,
    limits: NetworkLimits,
    link: str | None,
    hashtags: Sequence[str],
    alternatives: Sequence[Sequence[str]],
    shown_link: str | None = None,
) -> list[RenderedPost]:
    """``[render(..., hashtags=[*hashtags, *alternative]) for alternative in alternatives]``,
    with the work the renderings share (the text, its length, ``hashtags`` fitted) done once:
    the share kit renders each post in several versions that differ only in their last tags.

    Raises as ``render`` does; ``shown_link`` is ``render``'s.
    """
    shown = shown_link if link is not None and shown_link is not None else link
    tokens = _tokens(text)
    used = {field for _, field in tokens if field is not None}
    wanted: list[str] = []
    for tag in hashtags:
        normalized = normalize_hashtag(tag)
        if normalized.lower() not in {w.lower() for w in wanted}:
            wanted.append(normalized)
    base = _compose(tokens, used, shown, [])
    too_long = _overflow(base, network, limits)
    if too_long is not None:
        raise too_long
    if network == "x" and (refused := x_invalid_characters(base)):
        raise RenderError(f"X refuses these characters: {', '.join(refused)}")
    present = {tag.lower() for tag in hashtags_in(base)}

    def fit(
        tags: Sequence[str], chosen: list[str], skipped: list[str], count: int, text: str
    ) -> tuple[list[str], list[str], int, str]:
        """render's loop over ``tags``, from where it stands; ``text`` is the composition of
        ``chosen``, kept so no version composes its text twice."""
        for tag in tags:
            if tag.lower() in present:
                continue
            if count >= limits.max_hashtags:
                skipped.append(tag)
                continue
            candidate = _compose(tokens, used, shown, [*chosen, tag])
            if _overflow(candidate, network, limits) is None:
                chosen.append(tag)
                count += 1
                text = candidate
            else:
                skipped.append(tag)
        return chosen, skipped, count, text

    shared = fit(wanted, [], [], len(present), base)
    found: list[RenderedPost] = []
    for alternative in alternatives:
        more: list[str] = []
        for tag in alternative:
            normalized = normalize_hashtag(tag)
            if normalized.lower() not in {w.lower() for w in (*wanted, *more)}:
                more.append(normalized)
        chosen, skipped, _, final = fit(more, list(shared[0]), list(shared[1]), *shared[2:])
        found.append(
            RenderedPost(
                network=network,
                text=final,
                limit=limits.max_length,
                hashtags=tuple(chosen),
                skipped_hashtags=tuple(skipped),
                link=link,
                limits=limits,
            )
        )
    return found
