"""One post file on its own: front matter, text, and every problem at its line.

A post is a UTF-8 Markdown file: a YAML front-matter block between two ``---`` lines, then
the text (see ``posts/README.md``). ``parse_file`` never raises on a bad file: each problem
becomes a ``Problem(file, line, message)``. The fences and the YAML are frontmatter.py's;
checks that need the config or the other files (campaign names, duplicate ids, translations,
``{link}`` without ``link:``, lengths) are library.py's.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from difflib import get_close_matches
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from amplifier.content.frontmatter import read_front_matter
from amplifier.content.rendering import placeholder_problems
from amplifier.content.templates import Template
from amplifier.content.threads import part_problems
from amplifier.errors import Problem
from amplifier.networks.base import NETWORK_NAMES, MediaItem, NetworkName, Replies

MAX_ALT_TEXT = 1000  # X's limit, the lowest of the three networks

# Fields a translation may set for itself; everything else comes from its original.
TRANSLATION_OVERRIDES = frozenset(
    {"link", "hashtags", "variants", "content_warning", "sensitive", "media", "source"}
)


_LINE_BREAK = re.compile(r"\r\n|\r|\n")


class _FrontMatter(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=False)

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{0,79}$")
    campaign: str | None = None
    language: str = Field(pattern=r"^[a-z]{2,3}$")
    source: str | None = Field(default=None, min_length=3)
    translation_of: str | None = None
    hashtags: list[str] = Field(default_factory=list)
    link: str | None = Field(default=None, pattern=r"^https?://\S+$")
    networks: list[NetworkName] = Field(default_factory=lambda: list(NETWORK_NAMES))
    weight: int = Field(default=1, ge=1, le=100, strict=True)
    valid_from: date | None = None
    valid_until: date | None = None
    content_warning: str | None = None
    sensitive: bool = False
    replies: Replies | None = None
    quotes: bool | None = None
    allow_mentions: bool = False
    media: list[_MediaEntry] = Field(default_factory=list)
    variants: dict[NetworkName, str] = Field(default_factory=dict)

    @field_validator("hashtags")
    @classmethod
    def _hashtags(cls, tags: list[str]) -> list[str]:
        for tag in tags:
            bare = tag.lstrip("#")
            if not bare or not all(c.isalnum() or c == "_" for c in bare) or bare.isdigit():
                raise ValueError(
                    f"{tag!r} is not a hashtag: letters, digits and '_' only, not digits alone"
                )
        return [tag.lstrip("#") for tag in tags]


class _MediaEntry(BaseModel):
    model_config = ConfigDict(extra="forbid")

    file: str = Field(min_length=1)
    alt: str | None = None


_FrontMatter.model_rebuild()


def parse_file(path: Path) -> tuple[Template | None, list[Problem], dict[str, Any]]:
    """Parse one file alone. Returns the template (or None), its problems, and raw metadata."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        message = (
            f"cannot read this file ({exc.strerror}): the post is left out; make it readable "
            "(chmod a+r) or move it out of the posts folder"
        )
        return None, [Problem(path, None, message)], {}
    if b"\x00" in raw:
        message = "binary file, not a post: posts are UTF-8 text files ending in .md"
        return None, [Problem(path, None, message)], {}
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        message = f"not UTF-8 text (byte 0x{raw[exc.start]:02x}); save the file with UTF-8 encoding"
        return None, [Problem(path, line, message)], {}

    # Lines as editors count them: str.splitlines would also break at \x1c-\x1e, \x85 ...
    lines = _LINE_BREAK.split(text)
    front_matter = read_front_matter(lines)
    problems = [Problem(path, line, message) for line, message in front_matter.problems]
    data, node, closing = front_matter.data, front_matter.node, front_matter.closing
    meta = _meta(data)
    if problems:
        return None, problems, meta
    if data is None:
        message = (
            "no settings between the two '---' lines: add id, campaign, language and source, "
            "one 'name: value' per line"
        )
        return None, [Problem(path, 2, message)], meta
    if not isinstance(data, dict):
        message = "front matter must be 'key: value' lines (id, campaign, language, source ...)"
        return None, [Problem(path, 2, message)], meta

    field_lines: dict[str, int] = {}
    if node is not None:
        _texts_as_written(node, data)
        _record_lines(node, "", field_lines, problems, path, offset=2)

    try:
        front = _FrontMatter.model_validate(data)
    except ValidationError as exc:
        for error in exc.errors():
            problems.append(_field_problem(path, error, field_lines))
        return None, problems, meta

    body_start = closing + 1
    while body_start < len(lines) and not lines[body_start].strip():
        body_start += 1
    body = "\n".join(lines[body_start:]).strip()
    body_line = body_start + 1
    if not body:
        problems.append(
            Problem(path, closing + 1, "empty text: write the post below the second '---'")
        )

    for problem in _structure_problems(front, path, field_lines):
        problems.append(problem)
    for offset, message in [*placeholder_problems(body), *part_problems(body)]:
        problems.append(Problem(path, body_line + offset, message))
    for network, variant in front.variants.items():
        start = field_lines.get(f"variants.{network}", body_line)
        for offset, message in [*placeholder_problems(variant), *part_problems(variant)]:
            # A block scalar's text begins on the line after its key.
            problems.append(Problem(path, start + 1 + offset, message))
    if problems:
        return None, problems, meta

    template = Template(
        id=front.id,
        campaign=front.campaign or "",
        language=front.language,
        body=body,
        source=front.source or "",
        path=path,
        body_line=body_line,
        hashtags=tuple(front.hashtags),
        link=front.link,
        networks=frozenset(front.networks),
        weight=front.weight,
        valid_from=front.valid_from,
        valid_until=front.valid_until,
        content_warning=front.content_warning,
        sensitive=front.sensitive,
        replies=front.replies,
        quotes=front.quotes,
        allow_mentions=front.allow_mentions,
        media=tuple(MediaItem(path.parent / m.file, m.alt or "") for m in front.media),
        variants={n: v.strip() for n, v in front.variants.items()},
        translation_of=front.translation_of,
        field_lines=field_lines,
    )
    return template, [], meta


_TEXT_FIELDS = frozenset(
    {"id", "campaign", "language", "source", "translation_of", "link", "content_warning"}
)


def _texts_as_written(node: yaml.Node, data: dict[Any, Any]) -> None:
    """A text setting YAML read as a number, date or yes/no (``id: 2026-01-01``, ``id: 0``,
    ``language: no``, ``hashtags: [Yes]``) is kept as the text written, as meant."""
    if not isinstance(node, yaml.MappingNode):
        return
    for key_node, value_node in node.value:
        key = key_node.value
        if key in _TEXT_FIELDS and _plain_non_text(value_node, data.get(key)):
            data[key] = value_node.value
        elif key == "hashtags" and isinstance(value_node, yaml.SequenceNode):
            tags = data.get(key)
            if isinstance(tags, list) and len(tags) == len(value_node.value):
                for index, item in enumerate(value_node.value):
                    if _plain_non_text(item, tags[index]):
                        tags[index] = item.value


def _plain_non_text(node: yaml.Node, value: Any) -> bool:
    return (
        isinstance(node, yaml.ScalarNode)
        and not node.style  # plain (libyaml says "", PyYAML None)
        and node.value not in ("", "~", "null", "Null", "NULL")
        and not isinstance(value, str)
    )


def _meta(data: Any) -> dict[str, Any]:
    """What the summary can learn of a file even when it is invalid: its id, campaign, networks."""
    if not isinstance(data, dict):
        return {}
    meta: dict[str, Any] = {
        k: data.get(k) for k in ("id", "campaign") if isinstance(data.get(k), str)
    }
    if isinstance(data.get("networks"), list):
        meta["networks"] = [n for n in data["networks"] if n in NETWORK_NAMES]
    return meta


def _record_lines(
    node: yaml.Node,
    prefix: str,
    out: dict[str, int],
    problems: list[Problem],
    path: Path,
    offset: int,
) -> None:
    """Map dotted field names to file lines; flag keys written twice (YAML keeps the last)."""
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            name = f"{prefix}{key_node.value}"
            line = key_node.start_mark.line + offset
            if name in out:
                problems.append(
                    Problem(path, line, f"'{key_node.value}' is written twice; keep one")
                )
            out.setdefault(name, line)
            _record_lines(value_node, f"{name}.", out, problems, path, offset)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            name = f"{prefix}{index}"
            out.setdefault(name, item.start_mark.line + offset)
            _record_lines(item, f"{name}.", out, problems, path, offset)


def _field_problem(path: Path, error: Any, field_lines: Mapping[str, int]) -> Problem:
    loc = [str(part) for part in error["loc"] if part != "[key]"]
    name = ".".join(loc)
    line = None
    for size in range(len(loc), 0, -1):
        line = field_lines.get(".".join(loc[:size]))
        if line:
            break
    line = line or 2  # a key the loader could not name (bytes, a list): the settings' start
    kind = error["type"]
    if kind == "missing":
        why = _REQUIRED_HINTS.get(name, "")
        return Problem(path, line, f"missing required field '{name}'{why}")
    if kind == "extra_forbidden":
        fields = _MediaEntry.model_fields if loc[0] == "media" else _FrontMatter.model_fields
        close = get_close_matches(loc[-1], list(fields), n=1)
        hint = f"did you mean '{close[0]}'? " if close else ""
        allowed = ", ".join(sorted(fields))
        return Problem(path, line, f"unknown field '{name}'; {hint}allowed fields: {allowed}")
    message = str(error["msg"]).removeprefix("Value error, ")
    for (field, kinds), hint in _HINTS.items():
        if loc[0] == field and kind.startswith(kinds):
            message = hint
    given = error.get("input")
    value = str(given) if isinstance(given, date) else repr(given)  # a date as written
    value = value if len(value) <= 60 else value[:57] + "..."
    return Problem(path, line, f"'{name}': {message} (got {value})")


# What to write instead, where pydantic's own words would be a regular expression or a type.
_HINTS: dict[tuple[str, tuple[str, ...]], str] = {
    ("id", ("string_pattern",)): (
        "use lowercase letters, digits and hyphens only, e.g. call-congress"
    ),
    ("language", ("string_pattern",)): "a language code in lowercase (ISO 639), e.g. en or es",
    ("link", ("string_pattern",)): "a full web address starting with https://, with no spaces",
    ("weight", ("int", "greater", "less")): "a whole number from 1 to 100, e.g. weight: 2",
    ("hashtags", ("list_type",)): "a list in square brackets, e.g. hashtags: [Vote]",
    ("networks", ("list_type",)): "a list in square brackets, e.g. networks: [x, bluesky]",
    ("allow_mentions", ("bool",)): "write true or false",
    ("sensitive", ("bool",)): "write true or false",
    ("quotes", ("bool",)): "write true or false",
    ("replies", ("literal_error",)): "write everyone, following, mentioned or nobody",
    (
        "valid_from",
        ("date", "datetime"),
    ): "write a day as year-month-day, e.g. 2026-12-31, with no time",
    (
        "valid_until",
        ("date", "datetime"),
    ): "write a day as year-month-day, e.g. 2026-12-31, with no time",
}

_REQUIRED_HINTS = {
    "id": ": a short name of lowercase letters, digits and hyphens, unique among posts",
    "language": ": the ISO 639-1 code of the text, e.g. en or es",
    "media.0.file": ": the image or video file's path, relative to this post file",
}


def _structure_problems(front: _FrontMatter, path: Path, lines: Mapping[str, int]) -> list[Problem]:
    problems: list[Problem] = []
    if front.translation_of is None:
        if not front.campaign:
            problems.append(
                Problem(path, 2, "missing required field 'campaign': the campaign id in config")
            )
        if not front.source:
            problems.append(
                Problem(
                    path,
                    2,
                    "missing required field 'source': say which document and organisation "
                    "the post's facts come from",
                )
            )
    if front.valid_from and front.valid_until and front.valid_until < front.valid_from:
        problems.append(
            Problem(path, lines.get("valid_until"), "'valid_until' is before 'valid_from'")
        )
    for network in front.variants:
        if network not in front.networks:
            problems.append(
                Problem(
                    path,
                    lines.get(f"variants.{network}"),
                    f"variant for {network}, but 'networks' does not include {network}",
                )
            )
    for index, media in enumerate(front.media):
        line = lines.get(f"media.{index}")
        alt = (media.alt or "").strip()
        if not alt:
            problems.append(
                Problem(
                    path,
                    line,
                    f"media {media.file!r} has no alt text: add 'alt:' describing the image or "
                    "video for people who cannot see it",
                )
            )
        elif len(alt) > MAX_ALT_TEXT:
            problems.append(
                Problem(path, line, f"alt text is {len(alt)} characters; at most {MAX_ALT_TEXT}")
            )
    return problems
