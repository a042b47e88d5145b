"""One post file on its own: front matter, text, and every problem at its line.

A post is a UTF-8 Markdown file: a YAML front-matter block between two ``---`` lines, then
the text (see ``posts/README.md``). ``parse_file`` never raises on a bad file: each problem
becomes a ``Problem(file, line, message)``. Checks that need the config or the other files
(campaign names, duplicate ids, translations, lengths) are library.py's.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from amplifier.content.rendering import placeholder_problems
from amplifier.content.templates import Template
from amplifier.errors import Problem
from amplifier.networks.base import NETWORK_NAMES, MediaItem, NetworkName

FENCE = "---"
MAX_ALT_TEXT = 1000  # X's limit, the lowest of the three networks
POST_SUFFIX = ".md"
SKIPPED_FILES = frozenset({"README.md"})

# Fields a translation may set for itself; everything else comes from its original.
TRANSLATION_OVERRIDES = frozenset(
    {"link", "hashtags", "variants", "content_warning", "media", "source"}
)


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
        return None, [Problem(path, None, f"cannot read file: {exc.strerror}")], {}
    if b"\x00" in raw:
        message = "binary file, not a post: posts are UTF-8 text files ending in .md"
        return None, [Problem(path, None, message)], {}
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        message = f"not UTF-8 text (byte 0x{raw[exc.start]:02x}); save the file with UTF-8 encoding"
        return None, [Problem(path, line, message)], {}

    lines = text.splitlines()
    if not lines or lines[0].strip() != FENCE:
        message = (
            "missing front matter: a post starts with a line '---', then its settings "
            "(id, campaign, language, source ...), another '---', then the text"
        )
        return None, [Problem(path, 1, message)], {}
    try:
        closing = next(i for i in range(1, len(lines)) if lines[i].strip() == FENCE)
    except StopIteration:
        message = "front matter is not closed: add a line '---' after the settings"
        return None, [Problem(path, 1, message)], {}

    front_text = "\n".join(lines[1:closing])
    try:
        node, data = _parse_yaml(front_text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        reason = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        # "got <stream end>" points past the mistake; the context mark is where it began.
        context_mark = getattr(exc, "context_mark", None)
        if context_mark is not None and "<stream end>" in reason:
            mark = context_mark
        line = mark.line + 2 if mark is not None else 2
        context = getattr(exc, "context", None)
        reason = f"{context}: {reason}" if context else reason
        return None, [Problem(path, line, f"front matter is not valid YAML: {reason}")], {}
    if not isinstance(data, dict):
        message = "front matter must be 'key: value' lines (id, campaign, language, source ...)"
        return None, [Problem(path, 2, message)], {}

    field_lines: dict[str, int] = {}
    problems: list[Problem] = []
    if node is not None:
        _record_lines(node, "", field_lines, problems, path, offset=2)
    meta = {k: data.get(k) for k in ("id", "campaign") if isinstance(data.get(k), str)}
    if isinstance(data.get("networks"), list):
        meta["networks"] = [n for n in data["networks"] if n in NETWORK_NAMES]

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
    for offset, message in placeholder_problems(body):
        problems.append(Problem(path, body_line + offset, message))
    for network, variant in front.variants.items():
        start = field_lines.get(f"variants.{network}", body_line)
        for offset, message in placeholder_problems(variant):
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
        allow_mentions=front.allow_mentions,
        media=tuple(MediaItem(path.parent / m.file, m.alt or "") for m in front.media),
        variants={n: v.strip() for n, v in front.variants.items()},
        translation_of=front.translation_of,
        field_lines=field_lines,
    )
    return template, [], meta


# libyaml's parser where PyYAML was built with it (every PyPI wheel is): same documents,
# about ten times faster than the pure-Python one on a folder of thousands of posts.
_YAML_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _parse_yaml(text: str) -> tuple[yaml.Node | None, Any]:
    """The front matter's node tree (for line numbers) and its data, from one parse.

    A document libyaml refuses is parsed again by the pure-Python parser, whose error says
    where the mistake began (libyaml points past it, at the end of the block)."""
    try:
        return _parse_yaml_with(_YAML_LOADER, text)
    except yaml.YAMLError:
        if _YAML_LOADER is yaml.SafeLoader:
            raise
    return _parse_yaml_with(yaml.SafeLoader, text)


def _parse_yaml_with(
    loader_class: type[yaml.SafeLoader], text: str
) -> tuple[yaml.Node | None, Any]:
    loader = loader_class(text)
    try:
        node = loader.get_single_node()
        return node, (loader.construct_document(node) if node is not None else None)
    finally:
        loader.dispose()


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
    loc = [str(part) for part in error["loc"]]
    name = ".".join(loc)
    line = None
    for size in range(len(loc), 0, -1):
        line = field_lines.get(".".join(loc[:size]))
        if line:
            break
    kind = error["type"]
    if kind == "missing":
        why = _REQUIRED_HINTS.get(name, "")
        return Problem(path, line or 2, f"missing required field '{name}'{why}")
    if kind == "extra_forbidden":
        allowed = ", ".join(sorted(_FrontMatter.model_fields))
        return Problem(path, line, f"unknown field '{name}'; allowed fields: {allowed}")
    message = str(error["msg"]).removeprefix("Value error, ")
    value = repr(error.get("input"))
    value = value if len(value) <= 60 else value[:57] + "..."
    return Problem(path, line, f"'{name}': {message} (got {value})")


_REQUIRED_HINTS = {
    "id": ": a short name of lowercase letters, digits and hyphens, unique among posts",
    "language": ": the ISO 639-1 code of the text, e.g. en or es",
    "media.0.file": ": the image file's path, relative to this post file",
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
                    f"media {media.file!r} has no alt text: add 'alt:' describing the image "
                    "for people who cannot see it",
                )
            )
        elif len(alt) > MAX_ALT_TEXT:
            problems.append(
                Problem(path, line, f"alt text is {len(alt)} characters; at most {MAX_ALT_TEXT}")
            )
    return problems
