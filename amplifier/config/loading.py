"""Loading: find the config file, read it with the environment, report every problem.

Order of precedence (highest first): ``AMPLIFIER_…`` environment variables (nested keys with
``__``, e.g. ``AMPLIFIER_NETWORKS__X__MAX_HASHTAGS=1``), ``DATABASE_URL``, the TOML file, the
defaults in models.py. Every problem is reported as ``file:line: key: what is wrong (got …);
what is allowed``.
"""

from __future__ import annotations

import os
import re
import tomllib
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from amplifier.config.checks import cross_check
from amplifier.config.locator import KeyLocator, Loc, dotted
from amplifier.config.models import ENV_PREFIX, Settings
from amplifier.config.secrets import secret_problems
from amplifier.errors import ConfigError, Problem

CONFIG_CANDIDATES = ("config.toml", "config.example.toml")


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
    try:
        raw_bytes = config_path.read_bytes()
    except OSError as exc:
        hint = "pass --config FILE or copy config.example.toml to config.toml"
        problem = Problem(
            config_path, None, f"cannot read the config file ({exc.strerror}); {hint}"
        )
        raise ConfigError([problem]) from None
    try:
        text = raw_bytes.decode("utf-8")
        raw = tomllib.loads(text)
    except UnicodeDecodeError as exc:
        problem = Problem(config_path, None, f"not UTF-8 text (byte {exc.start}); save it as UTF-8")
        raise ConfigError([problem]) from None
    except tomllib.TOMLDecodeError as exc:
        line_match = re.search(r"line (\d+)", str(exc))
        line = int(line_match.group(1)) if line_match else None
        problem = Problem(config_path, line, f"not valid TOML: {exc}")
        raise ConfigError([problem]) from None

    locator = KeyLocator(text)
    problems = [
        Problem(config_path, locator.line(loc), message) for loc, message in secret_problems(raw)
    ]
    if problems:
        raise ConfigError(problems)
    raw.pop("config_path", None)
    try:
        settings = Settings(**raw, config_path=str(config_path))
    except ValidationError as exc:
        raise ConfigError(_validation_problems(exc, config_path, locator)) from None
    cross = [
        Problem(config_path, locator.line(loc), message) for loc, message in cross_check(settings)
    ]
    if cross:
        raise ConfigError(cross)
    return settings


def _validation_problems(exc: ValidationError, path: Path, locator: KeyLocator) -> list[Problem]:
    problems = []
    for error in exc.errors():
        loc: Loc = tuple(error["loc"])
        env_name = ENV_PREFIX + "__".join(str(part) for part in loc).upper()
        where: Path | str = path
        line = locator.line(loc)
        if env_name in os.environ:
            where, line = f"environment variable {env_name}", None
        key = dotted(loc)
        if error["type"] == "extra_forbidden":
            allowed = ", ".join(_allowed_keys(loc[:-1])) or "none"
            message = f"{key}: unknown key; allowed keys here: {allowed}"
        elif error["type"] == "missing":
            message = f"{key}: required but missing"
        else:
            text = str(error["msg"]).removeprefix("Value error, ")
            message = f"{key}: {text} (got {_short(error.get('input'))})"
        problems.append(Problem(where, line, message))
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
    return sorted(name for name in fields if name != "config_path")


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
