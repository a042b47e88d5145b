"""Loading: find the config file, read it with the environment, report every problem.

Order of precedence (highest first): ``AMPLIFIER_…`` environment variables (overrides.py:
nested keys with ``__``, ``_`` for ``-`` in names, e.g. ``AMPLIFIER_NETWORKS__X__MAX_HASHTAGS=1``
or ``AMPLIFIER_SCHEDULES__US_DAYTIME__TIMES='["09:00"]'``), ``DATABASE_URL``, the TOML file,
the defaults in models.py. Every problem is reported as ``file:line: key: what is wrong (got …);
what is allowed``, or ``environment variable NAME: …`` when a variable set the value. Nothing a
user writes in the file or a variable ends in a traceback: each becomes a ``ConfigError``.
"""

from __future__ import annotations

import os
import re
import tomllib
from datetime import date
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from amplifier.config import messages
from amplifier.config.checks import cross_check
from amplifier.config.locator import KeyLocator, Loc
from amplifier.config.models import Settings
from amplifier.config.overrides import Overrides, read_overrides
from amplifier.config.secrets import secret_problems
from amplifier.config.variables import NOT_SETTABLE
from amplifier.errors import ConfigError, Problem

CONFIG_CANDIDATES = ("config.toml", "config.example.toml")
NEXT_STEP = "pass --config FILE or copy config.example.toml to config.toml"


def find_config_file(explicit: str | Path | None = None, cwd: Path | None = None) -> Path:
    """--config, else $AMPLIFIER_CONFIG, else config.toml, else config.example.toml."""
    if explicit:
        return Path(explicit)
    from_env = os.environ.get("AMPLIFIER_CONFIG")
    if from_env:
        return Path(from_env)
    base = cwd or Path.cwd()
    for name in CONFIG_CANDIDATES:
        candidate = base / name
        if candidate.exists():
            return candidate
    return base / CONFIG_CANDIDATES[-1]


def load_settings(path: str | Path | None = None) -> Settings:
    """Read and validate the config file and environment; ConfigError lists every problem."""
    config_path = find_config_file(path)
    text = _read_text(config_path)
    raw = _parse_toml(text, config_path)
    overrides = read_overrides(Settings, raw, os.environ)
    if overrides.problems:
        raise ConfigError(overrides.problems)
    blame = _Blame(config_path, KeyLocator(text), overrides)
    merged = overrides.merged
    problems = [blame(loc, message) for loc, message in secret_problems(merged)]
    problems += [blame(loc, message) for loc, message in _unknown_top_level(merged)]
    if problems:
        raise ConfigError(problems)
    # Only the fields go in as keywords: a key such as `_env_file` would be read by
    # BaseSettings as one of its own arguments.
    file_values = {key: value for key, value in raw.items() if key in _settable_fields()}
    try:
        settings = Settings(**file_values, config_path=str(config_path))
    except ValidationError as exc:
        raise ConfigError(_validation_problems(exc, blame)) from None
    cross = [blame(loc, message) for loc, message in cross_check(settings)]
    if cross:
        raise ConfigError(cross)
    return settings


def _read_text(path: Path) -> str:
    def refuse(message: str) -> ConfigError:
        return ConfigError([Problem(path, None, message)])

    try:
        if path.is_dir():
            raise refuse(f"a folder, not a config file; {NEXT_STEP}")
        data = path.read_bytes()
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise refuse(f"cannot read the config file ({reason}); {NEXT_STEP}") from None
    if b"\x00" in data:
        raise refuse(
            f"a binary file, not TOML text (a NUL byte at byte {data.index(0)}); {NEXT_STEP}"
        )
    try:
        # utf-8-sig: a byte-order mark, which some Windows editors write, is accepted.
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise refuse(f"not UTF-8 text (byte {exc.start}); save it as UTF-8") from None


def _parse_toml(text: str, path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        line_match = re.search(r"line (\d+)", str(exc))
        line = int(line_match.group(1)) if line_match else None
        message = _impossible_date(text, line) or f"not valid TOML: {exc}"
        raise ConfigError([Problem(path, line, message)]) from None
    except RecursionError:
        message = "not valid TOML: arrays or tables nested too deeply"
        raise ConfigError([Problem(path, None, message)]) from None


DATE_VALUE = re.compile(r"^\s*([A-Za-z0-9_\-\"'.]+)\s*=\s*(\d{4}-\d{2}-\d{2})\b")


def _impossible_date(text: str, line: int | None) -> str | None:
    """``start = 2026-13-01`` in words: TOML's own message only says the line is wrong."""
    lines = text.splitlines()
    match = DATE_VALUE.match(lines[line - 1]) if line and line <= len(lines) else None
    if match is None:
        return None
    try:
        date.fromisoformat(match[2])
    except ValueError as exc:
        return messages.date_problem(match[1].strip("\"'"), match[2], str(exc))
    return None


class _Blame:
    """Where a problem is reported: the variable that set the key, else the file and line."""

    def __init__(self, path: Path, locator: KeyLocator, overrides: Overrides) -> None:
        self.path, self.locator, self.overrides = path, locator, overrides

    def __call__(self, loc: Loc, message: str) -> Problem:
        variable = self.overrides.origin(loc)
        if variable is not None:
            return Problem(f"{messages.VARIABLE} {variable}", None, message)
        return Problem(self.path, self.locator.line(loc), message)

    def where(self, loc: Loc) -> str:
        return messages.where(loc, self.overrides.merged)


def _settable_fields() -> list[str]:
    return [name for name in Settings.model_fields if name not in NOT_SETTABLE]


def _unknown_top_level(raw: dict[str, Any]) -> list[tuple[Loc, str]]:
    allowed = _settable_fields()
    return [((key,), _unknown_key(key, key, allowed)) for key in raw if key not in allowed]


def _unknown_key(label: str, key: str, allowed: list[str]) -> str:
    hint = messages.did_you_mean(key, allowed)
    return f"{label}: unknown key{hint}{' ' if hint else '; '}allowed keys here: " + (
        ", ".join(sorted(allowed)) or "none"
    )


def _validation_problems(exc: ValidationError, blame: _Blame) -> list[Problem]:
    problems = []
    errors = exc.errors()
    locs = [tuple(error["loc"]) for error in errors]
    for error in errors:
        loc: Loc = tuple(error["loc"])
        if any(len(other) > len(loc) and other[: len(loc)] == loc for other in locs):
            continue  # "at least 1 item" after its only item was refused: say it once
        key = blame.where(loc)
        if error["type"] == "extra_forbidden":
            message = _unknown_key(key, str(loc[-1]), _allowed_keys(loc[:-1]))
        elif error["type"] == "missing":
            message = f"{key}: required but missing"
        elif error["type"] == "literal_error":
            allowed = re.findall(r"'([^']*)'", str(error.get("ctx", {}).get("expected", "")))
            given = str(error.get("input"))
            hint = messages.did_you_mean(given, allowed)
            message = (
                f"{key}: {given!r} is not allowed{hint}{' ' if hint else '; '}"
                f"allowed: {', '.join(allowed)}"
            )
        elif error["type"] == "bool_parsing":
            message = f"{key}: {_short(error.get('input'))} is not {messages.BOOLEAN_WORDS}"
        elif error["type"] == "string_pattern_mismatch":
            wanted = messages.pattern_words(str(error.get("ctx", {}).get("pattern", "")))
            message = f"{key}: {_short(error.get('input'))} is not {wanted}"
        else:
            text = str(error["msg"]).removeprefix("Value error, ")
            message = f"{key}: {text} (got {_short(error.get('input'))})"
        problems.append(blame(loc, message))
    return problems


def _allowed_keys(loc: Loc) -> list[str]:
    model: Any = Settings
    for part in loc:
        if isinstance(part, int) or model is None:
            continue
        fields = getattr(model, "model_fields", None)
        if fields is None or part not in fields:
            # Inside dict[str, Model]: the key is a user's name; keep the same model.
            continue
        model = _inner_model(fields[part].annotation)
    fields = getattr(model, "model_fields", {})
    return sorted(name for name in fields if name not in NOT_SETTABLE)


def _inner_model(annotation: Any) -> Any:
    for arg in getattr(annotation, "__args__", ()) or ():
        inner = _inner_model(arg)
        if inner is not None:
            return inner
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    return None


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
