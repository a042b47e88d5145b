"""argparse's parser and help formatter as the command line wants them, and the argument types
that check each value at parse time (a count in a range, an existing folder, a host)."""

from __future__ import annotations

import argparse
import difflib
import re
import textwrap
from pathlib import Path
from typing import Any, NoReturn

HOST = re.compile(r"^(?:[A-Za-z0-9][A-Za-z0-9.-]{0,252}|[0-9A-Fa-f:.]{2,45})$")


class HelpFormatter(argparse.HelpFormatter):
    """Descriptions wrapped line by line; indented lines (the examples) kept as written."""

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        return "\n".join(
            indent + line
            if line.startswith(" ") or not line
            else textwrap.fill(line, width, initial_indent=indent, subsequent_indent=indent)
            for line in text.splitlines()
        )


class Parser(argparse.ArgumentParser):
    """argparse, with the closest valid choice offered for a typo (``amplifier stauts``)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", HelpFormatter)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> NoReturn:
        if "invalid choice: " in message:
            wrong = message.split("invalid choice: ", 1)[1].split(" ", 1)[0].strip("'")
            choices = [
                str(choice)
                for action in self._actions
                for choice in (action.choices or ())
                if isinstance(choice, str)
            ]
            close = difflib.get_close_matches(wrong, choices, n=1, cutoff=0.6)
            if close:
                message += f"; did you mean {close[0]!r}?"
        super().error(message)


def count(low: int, high: int, what: str) -> Any:
    """An argparse type: a whole number from ``low`` to ``high``, refused with the range."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"{text!r} is not a whole number; give {what} from {low} to {high}"
            ) from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(
                f"{value} is out of range; give {what} from {low} to {high}"
            )
        return value

    parse.__name__ = what  # argparse names the type in some messages
    return parse


def folder(text: str) -> str:
    """An argparse type: an existing folder (the posts folder)."""
    path = Path(text)
    if not path.is_dir():
        problem = "is a file, not a folder" if path.exists() else "does not exist"
        raise argparse.ArgumentTypeError(f"{text} {problem}; give the folder holding the posts")
    return text


def host(text: str) -> str:
    """An argparse type: an IP address or a host name to listen on."""
    if not HOST.match(text):
        raise argparse.ArgumentTypeError(
            f"{text!r} is not an address to listen on; give an IP address (127.0.0.1, 0.0.0.0, "
            "::) or a host name (localhost)"
        )
    return text
