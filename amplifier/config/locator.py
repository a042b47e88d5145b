"""Key paths of the config file (``accounts[0].schedule``) and the line each is written on."""

from __future__ import annotations

import re

Loc = tuple[str | int, ...]


def dotted(loc: Loc) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


class KeyLocator:
    """Finds the line of a key path in TOML text, for messages. Best effort, never fails."""

    HEADER = re.compile(r"^\s*(\[\[?)\s*([^\]]+?)\s*\]\]?\s*(#.*)?$")
    KEY = re.compile(r"^\s*([A-Za-z0-9_\-\"'. ]+?)\s*=")

    def __init__(self, text: str) -> None:
        self.lines: dict[Loc, int] = {}
        table: Loc = ()
        array_counts: dict[Loc, int] = {}
        for number, line in enumerate(text.splitlines(), start=1):
            header = self.HEADER.match(line)
            if header:
                parts = self._split(header.group(2))
                if header.group(1) == "[[":
                    index = array_counts.get(parts, -1) + 1
                    array_counts[parts] = index
                    table = self._with_indexes(parts, array_counts)
                else:
                    table = self._with_indexes(parts, array_counts)
                self.lines.setdefault(table, number)
                continue
            key = self.KEY.match(line)
            if key:
                self.lines.setdefault((*table, *self._split(key.group(1))), number)

    @staticmethod
    def _split(dotted: str) -> tuple[str, ...]:
        return tuple(part.strip().strip("\"'") for part in dotted.split("."))

    @staticmethod
    def _with_indexes(parts: tuple[str, ...], counts: dict[Loc, int]) -> Loc:
        out: list[str | int] = []
        for i in range(len(parts)):
            out.append(parts[i])
            if parts[: i + 1] in counts:
                out.append(counts[parts[: i + 1]])
        return tuple(out)

    def line(self, loc: Loc) -> int | None:
        for size in range(len(loc), 0, -1):
            if loc[:size] in self.lines:
                return self.lines[loc[:size]]
        return None
