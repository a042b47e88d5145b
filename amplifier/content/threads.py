"""A post written as a thread: parts in order, each rendered and measured on its own.

A line holding only ``+++`` (spaces around it allowed) ends one part and starts the next
(``posts/README.md``). A text without such a line is one part, the post as it always was.

Where the link and the hashtags go: into the part whose text holds ``{link}`` (or
``{hashtags}``); when no part holds the placeholder, into the first part, the one people see
in their timelines (and on Bluesky, the one with the link's card). Every other part is
rendered with no link and no hashtags, so each part is measured exactly as it is sent.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from amplifier.config import NetworkLimits
from amplifier.content.rendering import RenderedPost, placeholder_lines, render, with_link
from amplifier.errors import RenderError
from amplifier.networks.base import NetworkName

PART_MARKER = "+++"
MAX_PARTS = 10  # a longer thread is a blog post: link to it instead
_MARKER_LINE = re.compile(r"^[ \t]*\+\+\+[ \t]*$")


@dataclass(frozen=True)
class Part:
    """One part of a text: its text, and the line (0-based, within the text) it starts on."""

    text: str
    line: int


def split_parts(text: str) -> list[Part]:
    """The parts of ``text`` in order, each stripped; empty parts are kept (``part_problems``
    names them). A text with no marker line is one part."""
    parts: list[Part] = []
    current: list[str] = []
    start = 0
    for number, line in enumerate(text.split("\n")):
        if _MARKER_LINE.match(line):
            parts.append(_part(current, start))
            current, start = [], number + 1
        else:
            current.append(line)
    parts.append(_part(current, start))
    return parts


def _part(lines: list[str], start: int) -> Part:
    """The part's text; it starts at its first line with text (an empty one, at its first)."""
    blank = next((i for i, line in enumerate(lines) if line.strip()), 0)
    return Part("\n".join(lines).strip(), start + blank)


def is_thread(text: str) -> bool:
    return any(_MARKER_LINE.match(line) for line in text.split("\n"))


def part_problems(text: str) -> list[tuple[int, str]]:
    """A thread's own mistakes as (0-based line within ``text``, message)."""
    if not is_thread(text):
        return []
    parts = split_parts(text)
    problems: list[tuple[int, str]] = []
    for index, part in enumerate(parts, 1):
        if not part.text:
            problems.append(
                (
                    part.line,
                    f"part {index} of the thread is empty: write its text, or remove the "
                    f"'{PART_MARKER}' line",
                )
            )
    if len(parts) > MAX_PARTS:
        line = parts[MAX_PARTS].line
        problems.append(
            (line, f"a thread has at most {MAX_PARTS} parts, this one {len(parts)}: shorten it")
        )
    for name in ("link", "hashtags"):
        holding = [i for i, part in enumerate(parts, 1) if name in placeholder_lines(part.text)]
        if len(holding) > 1:
            line = parts[holding[1] - 1].line
            problems.append(
                (line, f"{{{name}}} is in parts {holding[0]} and {holding[1]}: keep it in one")
            )
    return problems


def _holder(parts: Sequence[Part], name: str) -> int:
    """The part (0-based) that takes the link or the hashtags."""
    for index, part in enumerate(parts):
        if name in placeholder_lines(part.text):
            return index
    return 0


def parts_with_link(text: str, link: str | None) -> list[str]:
    """What ``render_parts`` gives with no hashtags added, part by part, without measuring
    (``with_link`` for each part, the link on the part that takes it)."""
    if not is_thread(text):
        return [with_link(text, link)]
    parts = split_parts(text)
    holder = _holder(parts, "link")
    return [with_link(part.text, link if i == holder else None) for i, part in enumerate(parts)]


class PartTooLong(RenderError):
    """One part of a thread does not fit: the part, its line, and the renderer's reason."""

    def __init__(self, index: int, line: int, error: RenderError) -> None:
        self.index = index
        self.line = line
        self.error = error
        super().__init__(f"part {index + 1} of the thread: {error}")


def render_parts(
    text: str,
    *,
    network: NetworkName,
    limits: NetworkLimits,
    link: str | None,
    hashtags: Sequence[str],
    shown_link: str | None = None,
) -> tuple[RenderedPost, ...]:
    """Every part of ``text`` as ``render`` gives it, in order: one for a plain post.

    Raises ``PartTooLong`` (a ``RenderError``) naming the part that does not fit or holds a
    bad placeholder; a plain post raises what ``render`` raises.
    """
    if not is_thread(text):
        return (
            render(
                text,
                network=network,
                limits=limits,
                link=link,
                hashtags=hashtags,
                shown_link=shown_link,
            ),
        )
    parts = split_parts(text)
    with_link, with_tags = _holder(parts, "link"), _holder(parts, "hashtags")
    rendered: list[RenderedPost] = []
    for index, part in enumerate(parts):
        try:
            rendered.append(
                render(
                    part.text,
                    network=network,
                    limits=limits,
                    link=link if index == with_link else None,
                    hashtags=hashtags if index == with_tags else (),
                    shown_link=shown_link if index == with_link else None,
                )
            )
        except RenderError as error:
            raise PartTooLong(index, part.line, error) from error
    return tuple(rendered)
