"""--help explains: every command says what it does, its arguments with their allowed values and
defaults, and gives an example; the README's table of commands is the parser's own summaries.

Run this file (``python tests/cli/test_help.py``) to rewrite the README's table from the parser.
"""

from __future__ import annotations

import argparse
import io
import re
import sys
from pathlib import Path

import pytest

from amplifier.cli import main
from amplifier.cli.parser import COMMON_OPTIONS, build_parser

README = Path(__file__).resolve().parents[2] / "README.md"
TABLE_START = "| command | what it does |\n| --- | --- |\n"


def subcommands() -> dict[str, argparse.ArgumentParser]:
    """'check' -> its parser, ..., 'accounts verify' -> its parser, in the parser's order."""
    found: dict[str, argparse.ArgumentParser] = {}

    def walk(parser: argparse.ArgumentParser, prefix: str) -> None:
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, sub in action.choices.items():
                    nested = any(isinstance(a, argparse._SubParsersAction) for a in sub._actions)
                    if nested:
                        walk(sub, f"{prefix}{name} ")
                    else:
                        found[f"{prefix}{name}"] = sub

    walk(build_parser(), "")
    return found


def summaries() -> dict[str, str]:
    """Each command's one-line summary, as `amplifier --help` lists it."""
    found: dict[str, str] = {}

    def walk(parser: argparse.ArgumentParser, prefix: str) -> None:
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for choice in action._choices_actions:
                    found[f"{prefix}{choice.dest}"] = choice.help or ""
                for name, sub in action.choices.items():
                    walk(sub, f"{prefix}{name} ")

    walk(build_parser(), "")
    return found


def _option(action: argparse.Action) -> str:
    if not action.option_strings:
        metavar = str(action.metavar or action.dest)
        return f"[{metavar}]" if action.nargs == "?" else metavar
    name = (
        action.option_strings[-1] if action.option_strings[0] == "-n" else action.option_strings[0]
    )
    if action.nargs == 0:
        return name
    if action.choices is not None and action.metavar is None:
        return f"{name} {{{','.join(map(str, action.choices))}}}"
    return f"{name} {action.metavar}"


def synopsis(name: str, parser: argparse.ArgumentParser) -> str:
    """``amplifier preview [--account NAME] [-n N | --days D]``, the options every command has
    (--config, --posts, --help) left out."""
    grouped: dict[int, list[argparse.Action]] = {}
    for group in parser._mutually_exclusive_groups:
        for action in group._group_actions:
            grouped[id(action)] = group._group_actions
    parts: list[str] = []
    done: set[int] = set()
    for action in parser._actions:
        if id(action) in done or set(action.option_strings) & set(COMMON_OPTIONS):
            continue
        members = grouped.get(id(action), [action])
        done |= {id(member) for member in members}
        text = " | ".join(_option(member) for member in members)
        optional = bool(action.option_strings) and not action.required
        parts.append(f"[{text}]" if optional else text)
    return " ".join(["amplifier", name, *parts])


def commands_table() -> str:
    """The README's table of commands, from the parser."""
    rows = [
        f"| `{synopsis(name, sub)}` | {summaries()[name]} |".replace(" | --", " \\| --")
        for name, sub in subcommands().items()
    ]
    return TABLE_START + "\n".join(rows) + "\n"


def test_readme_commands_table_is_the_parsers() -> None:
    """The README lists every command with the same options and summary as --help does."""
    text = README.read_text(encoding="utf-8")
    assert commands_table() in text, (
        "the README's table of commands differs from the parser: run "
        "`python tests/cli/test_help.py` to rewrite it"
    )


@pytest.mark.parametrize("name", list(subcommands()))
def test_each_command_explains_itself(name: str) -> None:
    """`amplifier COMMAND --help`: what it does, each option's help with its allowed values
    and its default, and an example of the command itself."""
    parser = subcommands()[name]
    assert parser.description and len(parser.description) > 40, name
    out = io.StringIO()
    assert main([*name.split(), "--help"], out=out) == 0
    text = " ".join(out.getvalue().split())
    assert re.search(rf"example: .*amplifier {name}\b", text), text
    for action in parser._actions:
        if action.help == argparse.SUPPRESS or "-h" in action.option_strings:
            continue
        assert action.help, (name, action.dest)
        for choice in action.choices or ():
            assert str(choice) in action.help, (name, action.dest, choice)
        if action.default not in (None, False) and action.nargs != 0:
            assert f"(default: {action.default})" in action.help or (
                f"{action.default}: " in action.help and "(default)" in action.help
            ), (name, action.dest, action.help)


def test_top_level_help_lists_every_command_and_exit_statuses() -> None:
    """`amplifier --help` lists every command with its summary and says the exit statuses."""
    out = io.StringIO()
    assert main(["--help"], out=out) == 0
    text = out.getvalue()
    for name in {name.split()[0] for name in subcommands()}:
        assert re.search(rf"^\s+{name}\s+\S", text, re.M), name
    assert "130 interrupted" in " ".join(text.split())


if __name__ == "__main__":
    content = README.read_text(encoding="utf-8")
    start = content.index(TABLE_START)
    end = content.index("\n\n", start)
    README.write_text(content[:start] + commands_table().rstrip("\n") + content[end:], "utf-8")
    print(f"rewrote the table of commands in {README}", file=sys.stderr)
