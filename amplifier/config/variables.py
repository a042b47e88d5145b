"""Which variables reach settings: the shapes of the settings models, walked by name.

``setting_variables`` lists every ``AMPLIFIER_…`` variable a config file's settings answer to
(its schedules, campaigns and accounts by name), for the closest-name hint and for the test
that every variable written in the repository is known.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Iterator, Mapping
from typing import Any

from pydantic import BaseModel

ENV_PREFIX = "AMPLIFIER_"
NESTED = "__"
# Set by load_settings, never by a user.
NOT_SETTABLE = frozenset({"config_path"})


def origin_of(annotation: Any) -> Any:
    """``dict`` for ``dict[str, X]``, ``tuple`` for ``tuple[X, ...]``; None for a plain type."""
    return typing.get_origin(annotation)


def plain(annotation: Any) -> Any:
    """``X | None`` as ``X``."""
    if origin_of(annotation) in (typing.Union, types.UnionType):
        args = [arg for arg in typing.get_args(annotation) if arg is not type(None)]
        if len(args) == 1:
            return args[0]
    return annotation


def is_model(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)


def entry_model(annotation: Any, container: type) -> type[BaseModel] | None:
    """The model of ``dict[str, Model]`` or ``tuple[Model, ...]``; None for anything else."""
    if origin_of(annotation) is not container:
        return None
    args = typing.get_args(annotation)
    entry = args[-1] if container is dict else args[0] if args else None
    return entry if is_model(entry) else None


def is_collection(annotation: Any) -> bool:
    return origin_of(annotation) in (tuple, list, dict, frozenset, set)


def setting_variables(settings_cls: type[BaseModel], raw: Mapping[str, Any]) -> list[str]:
    """Every variable that reaches a setting (or a section) of this config file."""
    return sorted(set(_variables(settings_cls, raw, ENV_PREFIX)))


def _variables(model: type[BaseModel], raw: Any, prefix: str) -> Iterator[str]:
    raw = raw if isinstance(raw, Mapping) else {}
    for key, info in model.model_fields.items():
        if key in NOT_SETTABLE:
            continue
        name = prefix + key.upper()
        yield name
        annotation = plain(info.annotation)
        if origin_of(annotation) is dict and isinstance(raw.get(key), Mapping):
            # A table of names, such as secrets_from_env: the entries the file has.
            yield from (f"{name}{NESTED}{variable_part(str(entry))}" for entry in raw[key])
        if is_model(annotation):
            yield from _variables(annotation, raw.get(key), name + NESTED)
        elif (entry := entry_model(annotation, dict)) is not None:
            named = raw.get(key) if isinstance(raw.get(key), Mapping) else {}
            for entry_name, entry_raw in named.items():
                entry_prefix = f"{name}{NESTED}{variable_part(entry_name)}"
                yield entry_prefix
                yield from _variables(entry, entry_raw, entry_prefix + NESTED)
        elif (entry := entry_model(annotation, tuple)) is not None:
            for item in raw.get(key) if isinstance(raw.get(key), list) else []:
                if isinstance(item, Mapping) and isinstance(item.get("name"), str):
                    item_prefix = f"{name}{NESTED}{variable_part(item['name'])}"
                    yield item_prefix
                    yield from _variables(entry, item, item_prefix + NESTED)


def variable_part(name: str) -> str:
    return name.upper().replace("-", "_")
