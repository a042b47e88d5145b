"""Load the posts folder: every file parsed, then the checks that need the whole library.

Loading never stops at a bad file: each problem becomes a ``Problem(file, line, message)`` and
the valid posts beside it are still loaded. An id used by two files is refused in both;
translations inherit from their original; every text must fit each of its networks.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from difflib import get_close_matches
from pathlib import Path

from amplifier.config import DEFAULT_MEDIA_LIMITS, MediaLimits, NetworkLimits
from amplifier.content.folder import FolderWalk, walk_posts
from amplifier.content.media import media_problems
from amplifier.content.parse import parse_file
from amplifier.content.rendering import limits_for_post, placeholder_lines
from amplifier.content.templates import FileResult, Library, Template
from amplifier.content.threads import PartTooLong, render_parts
from amplifier.errors import Problem, RenderError
from amplifier.networks.base import NETWORK_NAMES, NetworkName


def post_files(folder: Path) -> list[Path]:
    """Every post file under the folder, sorted, README.md files excluded (folder.py)."""
    return walk_posts(folder).posts


def load_library(
    folder: Path,
    *,
    campaigns: Iterable[str],
    limits: Mapping[NetworkName, NetworkLimits],
    media_limits: Mapping[NetworkName, MediaLimits] = DEFAULT_MEDIA_LIMITS,
) -> Library:
    """Load every post under ``folder``; problems are collected, never raised."""
    checks = (folder, limits, media_limits)
    known_campaigns = set(campaigns)
    problems: list[Problem] = []
    parsed: list[Template] = []
    results: dict[Path, FileResult] = {}
    if not folder.is_dir():
        what = "is a file, not a folder" if folder.exists() else "not found"
        problems.append(Problem(folder, None, f"posts folder {what}; set posts_dir in config"))
    walk = walk_posts(folder) if folder.is_dir() else FolderWalk()
    problems.extend(walk.problems)
    for path in walk.broken:  # broken links: posts that cannot be read, counted as invalid
        results[path] = FileResult(path, None, None, frozenset(NETWORK_NAMES), False)
    for path in walk.posts:
        try:
            template, file_problems, meta = parse_file(path)
        except Exception as error:  # one file must never stop the others
            # parse_file is built never to raise (tests/content/test_post_properties.py);
            # should it still, the file is named and the rest still load.
            message = (
                f"amplifier could not read this file ({type(error).__name__}: {error}); "
                "this is a bug in amplifier: please report it with the file"
            )
            template, file_problems, meta = None, [Problem(path, 1, message)], {}
        problems.extend(file_problems)
        if template is not None:
            parsed.append(template)
        results[path] = FileResult(
            path,
            meta.get("id"),
            meta.get("campaign"),
            frozenset(meta.get("networks") or NETWORK_NAMES),
            template is not None and not file_problems,
        )

    # An id used by two files is ambiguous: neither is published, each names the other.
    paths_by_id: dict[str, list[Path]] = {}
    for template in parsed:
        paths_by_id.setdefault(template.id, []).append(template.path)
    originals: dict[str, Template] = {}
    translations_raw: list[Template] = []
    for template in parsed:
        others = [str(p) for p in paths_by_id[template.id] if p != template.path]
        if others:
            problems.append(
                Problem(
                    template.path,
                    template.field_lines.get("id"),
                    f"id {template.id!r} is also used by {', '.join(others)}; "
                    "every post needs its own id",
                )
            )
            results[template.path] = replace(results[template.path], ok=False)
        elif template.translation_of:
            translations_raw.append(template)
        else:
            originals[template.id] = template

    translations: dict[str, dict[str, Template]] = {}
    for draft in translations_raw:
        merged, problem = _merge_translation(draft, originals, translations)
        if problem:
            problems.append(problem)
            results[draft.path] = replace(results[draft.path], ok=False)
            continue
        assert merged is not None
        translations.setdefault(merged.original_id, {})[merged.language] = merged
        results[draft.path] = replace(
            results[draft.path], campaign=merged.campaign, networks=merged.networks
        )

    # Checks that need the config or the whole library: campaign names, lengths.
    valid_originals: dict[str, Template] = {}
    for post_id, template in originals.items():
        bad = _library_checks(template, known_campaigns, *checks)
        problems.extend(bad)
        if bad:
            results[template.path] = replace(results[template.path], ok=False)
            for translation in translations.pop(post_id, {}).values():
                results[translation.path] = replace(results[translation.path], ok=False)
                problems.append(
                    Problem(
                        translation.path,
                        translation.field_lines.get("translation_of"),
                        f"not published: its original {post_id!r} has errors",
                    )
                )
        else:
            valid_originals[post_id] = template
    for post_id, by_language in list(translations.items()):
        for language, translation in list(by_language.items()):
            bad = _library_checks(translation, known_campaigns, *checks)
            if bad:
                problems.extend(bad)
                results[translation.path] = replace(results[translation.path], ok=False)
                del by_language[language]
        if not by_language:
            del translations[post_id]

    return Library(
        originals=valid_originals,
        translations=translations,
        problems=tuple(problems),
        files=tuple(results[path] for path in sorted(results)),
    )


def _merge_translation(
    draft: Template,
    originals: Mapping[str, Template],
    translations: Mapping[str, Mapping[str, Template]],
) -> tuple[Template | None, Problem | None]:
    line = draft.field_lines.get("translation_of")
    original = originals.get(draft.translation_of or "")
    if original is None:
        close = get_close_matches(draft.translation_of or "", list(originals), n=1)
        hint = f"; did you mean {close[0]!r}?" if close else " (an original with errors is not one)"
        return None, Problem(
            draft.path, line, f"translation_of {draft.translation_of!r} names no post{hint}"
        )
    if draft.language == original.language:
        return None, Problem(
            draft.path,
            draft.field_lines.get("language"),
            f"a translation must differ in language from its original ({original.language})",
        )
    if draft.language in translations.get(original.id, {}):
        other = translations[original.id][draft.language].path
        return None, Problem(
            draft.path, line, f"{original.id!r} already has a {draft.language} version: {other}"
        )
    written = draft.field_lines
    merged = replace(
        original,
        id=draft.id,
        language=draft.language,
        body=draft.body,
        path=draft.path,
        body_line=draft.body_line,
        translation_of=original.id,
        field_lines=draft.field_lines,
        source=draft.source if "source" in written else original.source,
        link=draft.link if "link" in written else original.link,
        hashtags=draft.hashtags if "hashtags" in written else original.hashtags,
        variants=draft.variants if "variants" in written else {},
        content_warning=(
            draft.content_warning if "content_warning" in written else original.content_warning
        ),
        media=draft.media if "media" in written else original.media,
        sensitive=draft.sensitive if "sensitive" in written else original.sensitive,
    )
    if draft.campaign and draft.campaign != original.campaign:
        return None, Problem(
            draft.path,
            written.get("campaign"),
            f"campaign {draft.campaign!r} differs from its original's ({original.campaign})",
        )
    return merged, None


def _library_checks(
    template: Template,
    campaigns: set[str],
    folder: Path,
    limits: Mapping[NetworkName, NetworkLimits],
    media_limits: Mapping[NetworkName, MediaLimits],
) -> list[Problem]:
    problems: list[Problem] = []
    if template.translation_of is None and template.campaign not in campaigns:
        known = ", ".join(sorted(campaigns)) or "(none)"
        problems.append(
            Problem(
                template.path,
                template.field_lines.get("campaign"),
                f"unknown campaign {template.campaign!r}; campaigns in config: {known}",
            )
        )
    problems.extend(_link_problems(template))
    # One message per text line, naming every network that text does not fit.
    by_line: dict[int, list[str]] = {}
    for network in NETWORK_NAMES:
        if network not in template.networks:
            continue
        try:
            render_parts(
                template.text_for(network),
                network=network,
                limits=limits_for_post(limits[network], network, template.content_warning),
                link=template.link,
                hashtags=(),
            )
        except PartTooLong as exc:  # a thread's part: its own line
            start = template.text_line(network) + (1 if network in template.variants else 0)
            by_line.setdefault(start + exc.line, []).append(str(exc))
        except RenderError as exc:
            by_line.setdefault(template.text_line(network), []).append(str(exc))
    for line, messages in by_line.items():
        problems.append(Problem(template.path, line, "; ".join(messages)))
    if template.translation_of is None or "media" in template.field_lines:  # else: the original's
        problems.extend(media_problems(template, folder, media_limits))
    return problems


def _link_problems(template: Template) -> list[Problem]:
    """``{link}`` in a text of a post with no ``link:`` would post nothing where the link goes."""
    if template.link is not None:
        return []
    texts = [(template.body_line, template.body)]
    for network, variant in template.variants.items():
        # A block scalar's text begins on the line after its key.
        texts.append((template.field_lines.get(f"variants.{network}", 0) + 1, variant))
    whose = (
        "neither this translation nor its original has a"
        if template.translation_of
        else "the post has no"
    )
    problems = []
    for start, text in texts:
        line = placeholder_lines(text).get("link")
        if line is not None:
            problems.append(
                Problem(
                    template.path,
                    start + line,
                    f"{{link}} is used here, but {whose} 'link:' setting, so nothing "
                    "would be posted in its place: add link: https://... to the settings, or "
                    "remove {link}",
                )
            )
    return problems
