"""Posts as the rest of amplifier sees them: Template (one post), Library (every valid post)."""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from amplifier.errors import Problem
from amplifier.networks.base import NETWORK_NAMES, MediaItem, NetworkName, Replies


@dataclass(frozen=True)
class Template:
    """One post, ready for rendering. A translation is a Template with translation_of set."""

    id: str
    campaign: str
    language: str
    body: str
    source: str
    path: Path
    body_line: int
    hashtags: tuple[str, ...] = ()
    link: str | None = None
    networks: frozenset[NetworkName] = frozenset(NETWORK_NAMES)
    weight: int = 1
    valid_from: date | None = None
    valid_until: date | None = None
    content_warning: str | None = None
    sensitive: bool = False  # media marked sensitive on Mastodon, graphic-media on Bluesky
    replies: Replies | None = None  # None: the campaign's setting
    quotes: bool | None = None  # None: the campaign's setting
    allow_mentions: bool = False
    media: tuple[MediaItem, ...] = ()
    variants: Mapping[NetworkName, str] = field(default_factory=dict)
    translation_of: str | None = None
    field_lines: Mapping[str, int] = field(default_factory=dict)

    @property
    def original_id(self) -> str:
        return self.translation_of or self.id

    def text_for(self, network: NetworkName) -> str:
        return self.variants.get(network, self.body)

    def text_line(self, network: NetworkName) -> int:
        """The file line where the text used for this network starts, for messages."""
        if network in self.variants:
            return self.field_lines.get(f"variants.{network}", self.body_line)
        return self.body_line

    def valid_on(self, day: date) -> bool:
        return (self.valid_from is None or self.valid_from <= day) and (
            self.valid_until is None or day <= self.valid_until
        )


@dataclass(frozen=True)
class FileResult:
    """What became of one file, for the check summary."""

    path: Path
    post_id: str | None
    campaign: str | None
    networks: frozenset[NetworkName]
    ok: bool


@dataclass(frozen=True)
class Library:
    """Every valid post, by id, with translations by original id and language."""

    originals: Mapping[str, Template]
    translations: Mapping[str, Mapping[str, Template]]
    problems: tuple[Problem, ...]
    files: tuple[FileResult, ...]

    def version(self, original_id: str, language: str) -> Template | None:
        """The post in the given language: the original itself, or its translation."""
        original = self.originals.get(original_id)
        if original is None:
            return None
        if original.language == language:
            return original
        return self.translations.get(original_id, {}).get(language)

    def eligible(
        self,
        *,
        campaign: str,
        patterns: Iterable[str],
        network: NetworkName,
        language: str,
        day: date,
    ) -> dict[str, Template]:
        """Originals' ids -> the version this account would post, for one campaign and day."""
        chosen: dict[str, Template] = {}
        pattern_list = list(patterns)
        for post_id, original in self.originals.items():
            if original.campaign != campaign or network not in original.networks:
                continue
            if not any(fnmatch.fnmatchcase(post_id, p) for p in pattern_list):
                continue
            version = self.version(post_id, language)
            if version is not None and version.valid_on(day):
                chosen[post_id] = version
        return chosen

    @property
    def ok(self) -> bool:
        return not any(p.severity == "error" for p in self.problems)
