"""YAML mistakes said the way a volunteer can act on: what is wrong, the fix, then YAML's words.

PyYAML is right about where a document breaks but speaks of tokens (``expected <block end>,
but found '<block mapping start>'``). ``explain_yaml_error`` recognises the mistakes people
make in front matter (a line indented more or less than its neighbours, a ``:`` inside an
unquoted value, a tab, an unclosed quote, bracket or brace, text after a closing quote, a
value starting with a character YAML reserves) and says each in a sentence with the fix,
keeping the parser's words after it. ``swallowed_by_comment`` finds a ``#`` that silently
ended a value (``source: Report #5 ...`` reads as ``Report``). Lines here are 0-based within
the front matter; front matter's caller adds the offset.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import yaml

PREFIX = "front matter is not valid YAML: "
_RESERVED = {
    "@": "'@'",
    "`": "'`'",
    "%": "'%'",
    "*": "'*' (YAML reads it as an alias)",
    "&": "'&' (YAML reads it as an anchor)",
    "!": "'!' (YAML reads it as a tag)",
    "|": "'|' (YAML reads it as the start of a block of text)",
    ">": "'>' (YAML reads it as the start of a block of text)",
}
_QUOTE_IT = "put the whole value in double quotes"
_HASHTAG_FIX = "write hashtags without '#', e.g. hashtags: [Vote, FamiliesBelongTogether]"
_COMMENT_START = re.compile(r"(^|[\s\[{,])#")


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _line(lines: Sequence[str], index: int) -> str:
    return lines[index] if 0 <= index < len(lines) else ""


def _previous(lines: Sequence[str], index: int) -> int | None:
    """The nearest line above ``index`` that holds something other than a comment."""
    for i in range(min(index, len(lines)) - 1, -1, -1):
        stripped = lines[i].strip()
        if stripped and not stripped.startswith("#"):
            return i
    return None


def _quoted_example(line: str) -> str:
    """``name: "value"`` for an unquoted ``name: value`` line, as the fix to copy."""
    name, _, value = line.strip().partition(": ")
    escaped = value.strip().replace("\\", "\\\\").replace('"', '\\"')
    return f'{name}: "{escaped}"'


def explain_yaml_error(
    error: yaml.YAMLError, lines: Sequence[str], first_line: int
) -> tuple[int, str]:
    """The file line to look at and the sentence saying what to do, YAML's words last.

    ``lines`` are the front matter's; the first of them is the file's line ``first_line``."""
    problem_mark = getattr(error, "problem_mark", None)
    context_mark = getattr(error, "context_mark", None)
    problem = str(getattr(error, "problem", None) or (str(error).splitlines() or ["?"])[0])
    context = getattr(error, "context", None)
    words = f"{context}: {problem}" if context else problem
    at = problem_mark.line if problem_mark is not None else 0
    began = context_mark.line if context_mark is not None else at
    column = problem_mark.column if problem_mark is not None else 0
    line, sentence = _explain(problem, str(context or ""), lines, at, began, column, first_line)
    if line is None:
        # "got <stream end>" points past the mistake; the context mark is where it began.
        line = began if "<stream end>" in problem else at
    return line + first_line, f"{PREFIX}{sentence} (YAML says: {words})"


def _explain(
    problem: str,
    context: str,
    lines: Sequence[str],
    at: int,
    began: int,
    column: int,
    first_line: int,
) -> tuple[int | None, str]:
    here = _line(lines, at)
    if "'\\t'" in problem:
        return at, (
            f"a tab at column {column + 1}: YAML indents with spaces only; replace the tab with "
            "spaces"
        )
    if "alias" in problem or "alias" in context:
        return at, f"a value cannot start with {_RESERVED['*']}: {_QUOTE_IT}"
    if "tag" in problem or "tag" in context:
        return at, f"a value cannot start with {_RESERVED['!']}: {_QUOTE_IT}"
    if "cannot start any token" in problem:
        char = here[column : column + 1]
        shown = _RESERVED.get(char, repr(char))
        return at, f"a value cannot start with {shown}: {_QUOTE_IT}"
    if "block scalar" in context:
        return at, f"a value cannot start with {_RESERVED['|']}: {_QUOTE_IT}"
    if "quoted scalar" in context:
        if "escape" in problem:
            return at, (
                "a backslash inside double quotes starts an escape: use single quotes "
                "around this value, or write each backslash twice"
            )
        return began, "this quote is never closed: add the closing quote at the end of the value"
    if _COMMENT_START.search(here.partition(":")[2]) and ("flow" in context or "flow" in problem):
        what = (
            "a '#' after a space, '[' or ',' starts a comment, so the rest of the line is not read"
        )
        fix = _HASHTAG_FIX if here.lstrip().startswith("hashtags") else _QUOTE_IT
        return at, f"{what}: {fix}"
    if "flow sequence" in context or "flow mapping" in context:
        opener, closer = ("[", "]") if "sequence" in context else ("{", "}")
        example = "networks: [x, bluesky]" if opener == "[" else "variants: {x: Hello}"
        return began, (
            f"the '{opener}' on this line is never closed: end it with '{closer}' on the same "
            f"line, e.g. {example}"
        )
    if "mapping values are not allowed" in problem:
        above = _previous(lines, at)
        if above is not None and _indent(here) > _indent(lines[above]):
            return at, (
                f"this line is indented more than line {above + first_line} above it: start "
                "it at the same column (settings start at the left edge, with no spaces)"
            )
        return at, (
            f"a ':' inside an unquoted value: {_QUOTE_IT}, like this: {_quoted_example(here)}"
        )
    if "expected <block end>" in problem and "<scalar>" in problem:
        quote = here[:column].rstrip()[-1:]
        if quote in ("'", '"'):
            return at, f"text after the closing quote: {_QUOTE_IT}, the text after it included"
        return at, f"this line is indented less than the ones above it: {_INDENT_FIX}"
    if "expected '<document start>'" in problem:
        first = next((i for i, text in enumerate(lines) if text.strip()), 0)
        return first, (
            "the first setting is indented: start every setting at the left edge, with no "
            "spaces before its name"
        )
    if "expected <block end>" in problem:
        above = _previous(lines, at)
        item = lines[above] if above is not None else ""
        if item.lstrip().startswith("- ") and _indent(here) != _indent(item) + 2:
            field = item.lstrip()[2:].split(":", 1)[0].strip()
            return at, (
                f"this line is not lined up with line {(above or 0) + first_line} above it: the "
                f"fields of a list item start at the same column as the first one ({field!r}, "
                f"{_indent(item) + 2} spaces in)"
            )
        return at, f"this line is indented less than the ones above it: {_INDENT_FIX}"
    if "could not find expected ':'" in problem:
        return began, (
            "this line is not 'name: value' (no ':' after a name): if it continues the value "
            "above, indent it like that value; if it is the post's text, add the closing '---' "
            "above it"
        )
    if "unhashable key" in problem:
        return at, "a setting's name must be plain text, like 'hashtags:'"
    return None, f"check this line's indentation and quotes; {_QUOTE_IT} if it holds ':' or '#'"


_INDENT_FIX = (
    "line it up with the others at its level (settings at the left edge, list items and "
    "their fields at the same number of spaces)"
)

_COMMENT_AFTER = re.compile(r"^\s+#(\S.*)$")


def swallowed_by_comment(root: yaml.Node, lines: Sequence[str]) -> list[tuple[int, str]]:
    """Plain values cut short by a ``#`` YAML took for a comment: ``source: Report #5 ...``
    reads as ``Report``; ``hashtags: #Tag`` as nothing. A deliberate comment (``# note``,
    with a space) is left alone."""
    found: list[tuple[int, str]] = []
    stack: list[tuple[yaml.Node, str]] = [(root, "")]
    while stack:
        node, name = stack.pop()
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                label = str(key.value) if isinstance(key, yaml.ScalarNode) else "?"
                stack.append((value, f"{name}.{label}" if name else label))
        elif isinstance(node, yaml.SequenceNode):
            stack += [(item, f"{name}.{i}") for i, item in enumerate(node.value)]
        elif isinstance(node, yaml.ScalarNode) and not node.style and name:
            line = node.end_mark.line
            rest = _line(lines, line)[node.end_mark.column :]
            match = _COMMENT_AFTER.match(rest)
            if match is None or (node.value and not node.tag.endswith(":str")):
                continue  # a note after a number, date or yes/no loses nothing written
            kept = f"{node.value!r}" if node.value else "nothing"
            found.append(
                (
                    line,
                    f"{name}: YAML reads '#' after a space as the start of a comment, so "
                    f"'#{match.group(1)[:30]}' is left out and {name} is {kept}: "
                    f"{_HASHTAG_FIX if name.startswith('hashtags') else _QUOTE_IT}",
                )
            )
    return sorted(found)
