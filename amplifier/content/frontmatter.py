"""The front matter of one post: the fences found, the YAML read, nothing a user writes raising.

``read_front_matter`` splits the text at its ``---`` fences and loads the settings with a safe
loader whose number and date constructors never raise: an impossible date (``2026-13-01``), a
number Python cannot read (``0x_``, 5,000 digits) becomes a problem at its line naming the
setting, never a ``ValueError`` out of PyYAML. Aliases, anchors and deep nesting (no post needs
them; they are how a file makes a loader loop or recurse) are refused the same way. Every
problem is ``(file line, message)``; parse.py turns them into ``Problem``s.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import yaml
from yaml.constructor import SafeConstructor

from amplifier.content.yaml_errors import explain_yaml_error, swallowed_by_comment

FENCE = "---"
MAX_DEPTH = 12  # a post nests three levels at most (media: - alt:); far more is a mistake
_FRONT_OFFSET = 2  # YAML line 0 is the file's line 2, under the opening fence

LineProblem = tuple[int | None, str]


@dataclass
class FrontMatter:
    """What the fences and the YAML gave: ``data`` is None when nothing could be read."""

    data: Any = None
    node: yaml.Node | None = None
    closing: int = 0  # 0-based index of the closing fence among the file's lines
    problems: list[LineProblem] = field(default_factory=list)


@dataclass(frozen=True)
class Unreadable:
    """A scalar the loader could not turn into a value: its text, what it should be, why."""

    text: str
    kind: str  # "a date", "a number", "true or false"
    reason: str  # which part is impossible, or ""


def read_front_matter(lines: list[str]) -> FrontMatter:
    """The settings between the fences of a file's ``lines``, and every problem at its line."""
    opening = next((i for i, line in enumerate(lines) if line.strip() == FENCE), None)
    if opening is None:
        message = (
            "missing front matter: a post starts with a line '---', then its settings "
            "(id, campaign, language, source ...), another '---', then the text"
        )
        return FrontMatter(problems=[(1, message)])
    if opening > 0:
        first = next((i for i in range(opening) if lines[i].strip()), None)
        what = "blank lines" if first is None else f"text ({_short(lines[first].strip())!r})"
        message = (
            f"{what} above the first '---' (line {opening + 1}): a post must start with the "
            "'---' line; move or delete what is above it"
        )
        return FrontMatter(problems=[(1 if first is None else first + 1, message)])
    closing = next((i for i in range(1, len(lines)) if lines[i].strip() == FENCE), None)
    if closing is None:
        return FrontMatter(problems=[_unclosed(lines)])

    front_lines = lines[1:closing]
    loader_problems: list[LineProblem] = []
    try:
        node, data = _load(front_lines, loader_problems)
    except yaml.YAMLError as error:
        problem = explain_yaml_error(error, front_lines, first_line=_FRONT_OFFSET)
        return FrontMatter(closing=closing, problems=[problem])
    except RecursionError:
        message = "front matter is nested too deeply to read: write one 'name: value' per line"
        return FrontMatter(closing=closing, problems=[(_FRONT_OFFSET, message)])
    problems = loader_problems
    if node is not None:
        for line, message in swallowed_by_comment(node, front_lines):
            problems.append((line + _FRONT_OFFSET, message))
    return FrontMatter(data=data, node=node, closing=closing, problems=problems)


def _short(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _unclosed(lines: list[str]) -> LineProblem:
    """No closing fence: point at the first line that cannot be a setting (the text)."""
    setting = re.compile(r"^([A-Za-z_][\w-]*\s*:|\s|-\s|-$|#|$)")
    text_at = next((i for i in range(1, len(lines)) if not setting.match(lines[i])), None)
    if text_at is None:
        return (
            len(lines),
            "front matter is not closed: add a line '---' after the settings, then the text",
        )
    return (
        text_at + 1,
        f"front matter is not closed: add a line '---' above line {text_at + 1}, between the "
        "settings and the text",
    )


# --- the loader ---------------------------------------------------------------------------

# libyaml's parser where PyYAML was built with it (every PyPI wheel is): same documents,
# about ten times faster than the pure-Python one on a folder of thousands of posts.
_FAST_BASE: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _never_raising(
    construct: Callable[[Any, yaml.ScalarNode], Any], kind: str, reason: Callable[[str], str]
) -> Callable[[Any, yaml.ScalarNode], Any]:
    def constructor(loader: Any, node: yaml.ScalarNode) -> Any:
        try:
            return construct(loader, node)
        except (ValueError, OverflowError, TypeError, KeyError):
            found = Unreadable(str(node.value), kind, reason(str(node.value)))
            loader.unreadable[id(node)] = found
            return found

    return constructor


def _date_reason(text: str) -> str:
    """Which part of a date-like value is impossible, in the words a person uses."""
    match = SafeConstructor.timestamp_regexp.match(text)
    if match is None:
        return ""
    parts = match.groupdict()
    year, month, day = int(parts["year"]), int(parts["month"]), int(parts["day"])
    if year < 1:
        return f"year {year}"
    if not 1 <= month <= 12:
        return f"month {month}"
    last = calendar.monthrange(year, month)[1]
    if not 1 <= day <= last:
        return f"day {day}: {calendar.month_name[month]} {year} has {last} days"
    for name, limit in (("hour", 23), ("minute", 59), ("second", 59)):
        if parts.get(name) and int(parts[name]) > limit:
            return f"{name} {int(parts[name])}"
    if parts.get("tz_hour") and int(parts["tz_hour"]) > 23:
        return f"time zone offset {parts['tz_sign']}{parts['tz_hour']} hours"
    return ""


def _number_reason(text: str) -> str:
    digits = sum(c.isdigit() for c in text)
    if digits > 100:
        return f"{digits} digits"
    return "write digits only, e.g. 2"


def _loader_class(base: type[yaml.SafeLoader]) -> type[yaml.SafeLoader]:
    loader: type[yaml.SafeLoader] = type(f"Post{base.__name__}", (base,), {})
    readers = {
        "timestamp": (SafeConstructor.construct_yaml_timestamp, "a date", _date_reason),
        "int": (SafeConstructor.construct_yaml_int, "a number", _number_reason),
        "float": (SafeConstructor.construct_yaml_float, "a number", _number_reason),
        "bool": (SafeConstructor.construct_yaml_bool, "true or false", lambda _: ""),
    }
    # add_constructor copies the table on first use, so the base loaders stay untouched.
    for tag, (construct, kind, reason) in readers.items():
        loader.add_constructor(f"tag:yaml.org,2002:{tag}", _never_raising(construct, kind, reason))
    return loader


_FAST_LOADER = _loader_class(_FAST_BASE)
_EXACT_LOADER = _loader_class(yaml.SafeLoader)


_YAML_ONLY_BREAKS = {0x85: " ", 0x2028: " ", 0x2029: " "}


def _load(front_lines: list[str], problems: list[LineProblem]) -> tuple[yaml.Node | None, Any]:
    """The node tree (for line numbers) and the data, from one parse.

    A document libyaml refuses is parsed again by the pure-Python parser, whose error says
    where the mistake began (libyaml points past it, at the end of the block)."""
    # YAML also breaks lines at NEL, LS and PS, which editors show within a line: as spaces,
    # YAML's line numbers stay the editor's.
    text = "\n".join(front_lines).translate(_YAML_ONLY_BREAKS)
    try:
        return _load_with(_FAST_LOADER, text, problems)
    except yaml.YAMLError:
        if _FAST_LOADER is _EXACT_LOADER:
            raise
    return _load_with(_EXACT_LOADER, text, problems)


def _load_with(
    loader_class: type[yaml.SafeLoader], text: str, problems: list[LineProblem]
) -> tuple[yaml.Node | None, Any]:
    loader = loader_class(text)
    loader.unreadable = {}  # type: ignore[attr-defined]
    try:
        node = loader.get_single_node()
        if node is None:
            return None, None
        shape = _shape_problem(node)
        if shape is not None:
            problems.append(shape)
            return None, None
        data = loader.construct_document(node)
        problems += _unreadable_values(node, loader.unreadable)  # type: ignore[attr-defined]
        return node, data
    finally:
        loader.dispose()


def _shape_problem(root: yaml.Node) -> LineProblem | None:
    """An alias (a node met twice) or nesting deeper than any post needs, walked without
    recursion so that neither can loop or overflow the stack."""
    seen: set[int] = set()
    stack: list[tuple[yaml.Node, int]] = [(root, 0)]
    while stack:
        node, depth = stack.pop()
        line = node.start_mark.line + _FRONT_OFFSET
        if id(node) in seen:
            return (
                line,
                "'*' or '&' at the start of a value makes it a YAML alias or anchor, which "
                "posts do not use: put the whole value in double quotes",
            )
        seen.add(id(node))
        if depth > MAX_DEPTH:
            return (line, "front matter is nested too deeply: write one 'name: value' per line")
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                stack += [(key, depth + 1), (value, depth + 1)]
        elif isinstance(node, yaml.SequenceNode):
            stack += [(item, depth + 1) for item in node.value]
    return None


def _unreadable_values(root: yaml.Node, unreadable: dict[int, Unreadable]) -> list[LineProblem]:
    """``name: value is not a date (month 13)`` for each value the loader could not read."""
    problems: list[LineProblem] = []
    stack: list[tuple[yaml.Node, str]] = [(root, "")]
    while stack and unreadable:
        node, name = stack.pop()
        found = unreadable.get(id(node))
        if found is not None:
            detail = f" ({found.reason})" if found.reason else ""
            line = node.start_mark.line + _FRONT_OFFSET
            problems.append(
                (line, f"{name or 'a name'}: {_short(found.text)} is not {found.kind}{detail}")
            )
        elif isinstance(node, yaml.MappingNode):
            for key_node, value_node in node.value:
                key = str(key_node.value) if isinstance(key_node, yaml.ScalarNode) else "?"
                stack += [(value_node, f"{name}.{key}" if name else key), (key_node, "")]
        elif isinstance(node, yaml.SequenceNode):
            stack += [
                (item, f"{name}.{i}" if name else str(i)) for i, item in enumerate(node.value)
            ]
    return sorted(problems, key=lambda p: p[0] or 0)
