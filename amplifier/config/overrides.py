"""Overrides: ``AMPLIFIER_…`` variables laid over the config file, each one checked.

``AMPLIFIER_WORKER__GRACE_MINUTES=60`` sets ``[worker] grace_minutes``: ``__`` between keys, and
``_`` in a variable matches ``-`` in a name, in any case, so ``AMPLIFIER_SCHEDULES__US_DAYTIME__
TIMES`` reaches ``[schedules.us-daytime]`` and ``AMPLIFIER_ACCOUNTS__FBT_X__ENABLED`` the account
named ``fbt-x``. A section given as JSON merges with the file's. An override changes a setting,
never adds a schedule, campaign or account. A variable that reaches no setting is a problem
naming the closest real one: a misspelled ``AMPLIFIER_DRYRUN`` must never pass in silence.
``DATABASE_URL`` (Heroku's) overrides the file, ``AMPLIFIER_DATABASE_URL`` overrides both.

``OverridesSource`` is the settings source that replaces pydantic-settings' own environment
source; ``read_overrides`` is the same reading with where each value came from, for messages.
"""

from __future__ import annotations

import copy
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource

from amplifier.config import messages
from amplifier.config.locator import Loc
from amplifier.config.variables import (
    ENV_PREFIX,
    NESTED,
    NOT_SETTABLE,
    entry_model,
    is_collection,
    is_model,
    origin_of,
    plain,
    setting_variables,
    variable_part,
)
from amplifier.config.web import WEB_VARIABLES
from amplifier.errors import Problem

DATABASE_URL = "DATABASE_URL"
# Keys that hold a credential's value: refused in the file (secrets.py) and as a variable.
SECRET_KEYS = frozenset(
    {"token", "access_token", "access_token_secret", "consumer_key", "consumer_secret"}
    | {"api_key", "api_secret", "bearer_token", "oauth2_user_token", "password"}
    | {"app_password", "secret", "client_secret"}
)

# AMPLIFIER_* variables that are not settings, yet legitimately set: read by the code or the
# tests. Any other AMPLIFIER_* variable must reach a setting (tests/config/test_overrides.py
# greps the repository for them). Add a new one here, with what reads it.
OTHER_VARIABLES: dict[str, str] = {
    "AMPLIFIER_CONFIG": "the config file's path (config.loading.find_config_file)",
    "AMPLIFIER_TEST_POSTGRES_URL": "tests: the PostgreSQL the store and process tests use",
    "AMPLIFIER_PROCESS_SEED": "tests/process: the seed of the kill -9 and soak runs",
    "AMPLIFIER_PROCESS_KILLS": "tests/process: how many kills the kill -9 test makes",
    "AMPLIFIER_PROCESS_DB": "tests/process: sqlite or postgres for the kill -9 test",
    "AMPLIFIER_PDS_CACHE": "tests/integration: where the test Bluesky PDS is installed",
    "AMPLIFIER_CHROMIUM": "tests/browser and .ci/run: the Chromium binary the browser tests drive",
    "AMPLIFIER_AXE_CACHE": "tests/browser: where axe-core from npm is installed",
    **WEB_VARIABLES,  # the console's access (config/web.py)
}


class Refused(Exception):
    """A variable that cannot be applied; ``message`` says why and what to write instead."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass
class Overrides:
    """The file with every override laid over it, and which variable set each key path."""

    merged: dict[str, Any]
    origins: dict[Loc, str] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)

    def origin(self, loc: Loc) -> str | None:
        """The variable that set ``loc`` or a section holding it, if any."""
        for size in range(len(loc), 0, -1):
            if loc[:size] in self.origins:
                return self.origins[loc[:size]]
        return None


def normalized(name: str) -> str:
    """What a variable's part and a name are compared by: any case, ``-`` as ``_``."""
    return name.lower().replace("-", "_")


def credential_variables(raw: Mapping[str, Any]) -> set[str]:
    """The variables the file names under ``secrets_from_env``: credentials, not settings."""
    names: set[str] = set()
    accounts = raw.get("accounts")
    for entry in accounts if isinstance(accounts, list) else []:
        secrets = entry.get("secrets_from_env") if isinstance(entry, Mapping) else None
        if isinstance(secrets, Mapping):
            names |= {value for value in secrets.values() if isinstance(value, str)}
    return names


def read_overrides(
    settings_cls: type[BaseModel], raw: Mapping[str, Any], environ: Mapping[str, str]
) -> Overrides:
    """Lay every override over ``raw`` (the file), refusing each variable that reaches nothing."""
    result = Overrides(copy.deepcopy(dict(raw)))
    if environ.get(DATABASE_URL):
        result.merged["database_url"] = environ[DATABASE_URL]
        result.origins[("database_url",)] = DATABASE_URL
    skip = set(OTHER_VARIABLES) | credential_variables(raw)
    for name in sorted(environ):
        if not name.upper().startswith(ENV_PREFIX) or name in skip or name.upper() in skip:
            continue
        parts = name[len(ENV_PREFIX) :].split(NESTED)
        try:
            _Applier(settings_cls, raw, name, environ[name], result).apply(parts)
        except Refused as refused:
            result.problems.append(Problem(f"{messages.VARIABLE} {name}", None, refused.message))
    return result


class _Applier:
    """Walks the settings models and the file's names along one variable's parts."""

    def __init__(
        self,
        settings_cls: type[BaseModel],
        raw: Mapping[str, Any],
        name: str,
        value: str,
        result: Overrides,
    ) -> None:
        self.settings_cls, self.raw, self.name = settings_cls, raw, name
        self.value, self.result = value, result

    def apply(self, parts: list[str]) -> None:
        before = copy.deepcopy(self.result.merged), dict(self.result.origins)
        try:
            self._set(self.settings_cls, self.result.merged, (), parts, self.value, from_json=False)
        except Refused:
            self.result.merged, self.result.origins = before
            raise

    def _suggestion(self, loc: Loc, parts: list[str]) -> str | None:
        """The real variable closest to what ``loc`` + ``parts`` would be written as."""
        written = [*self._variable_parts(loc), *(part.upper() for part in parts)]
        wanted = ENV_PREFIX + NESTED.join(written)
        return messages.closest(wanted, setting_variables(self.settings_cls, self.raw))

    def _variable_parts(self, loc: Loc) -> list[str]:
        accounts = self.raw.get("accounts")
        out = []
        for part in loc:
            if isinstance(part, int) and isinstance(accounts, list) and part < len(accounts):
                entry = accounts[part]
                part = entry.get("name", "") if isinstance(entry, Mapping) else ""
            out.append(variable_part(str(part)))
        return out

    def _refuse_unknown(self, loc: Loc, parts: list[str], here: str, *, from_json: bool) -> Refused:
        what = f"its key {parts[0]!r}" if from_json else ""
        suggestion = self._suggestion(loc, parts)
        return Refused(messages.unknown_variable(what, suggestion, here))

    def _set(
        self,
        model: type[BaseModel],
        node: dict[str, Any],
        loc: Loc,
        parts: list[str],
        value: Any,
        *,
        from_json: bool,
    ) -> None:
        if not parts:
            self.result.origins.setdefault(loc, self.name)
            for entry, item in _json_object(value, from_json, loc).items():
                self._set(model, node, loc, [str(entry)], item, from_json=True)
            return
        fields = {normalized(f): f for f in model.model_fields if f not in NOT_SETTABLE}
        key = fields.get(normalized(parts[0]))
        if key is None:
            if normalized(parts[0]) in SECRET_KEYS:
                raise Refused(messages.credential_variable(normalized(parts[0])))
            here = f"settings here: {', '.join(sorted(fields.values()))}"
            raise self._refuse_unknown(loc, parts, here, from_json=from_json)
        annotation = plain(model.model_fields[key].annotation)
        inner = (*loc, key)
        rest = parts[1:]
        if is_model(annotation):
            self._set(annotation, _child(node, key), inner, rest, value, from_json=from_json)
        elif (named := entry_model(annotation, dict)) is not None:
            self._named(named, _child(node, key), inner, rest, value, from_json=from_json)
        elif (listed := entry_model(annotation, tuple)) is not None:
            self._accounts(listed, node, inner, rest, value, from_json=from_json)
        else:
            node[key] = self._leaf(
                annotation, node.get(key), inner, rest, value, from_json=from_json
            )
            self.result.origins[inner] = self.name  # the last variable to set it wins

    def _named(
        self,
        model: type[BaseModel],
        node: dict[str, Any],
        loc: Loc,
        parts: list[str],
        value: Any,
        *,
        from_json: bool,
    ) -> None:
        """``[schedules.NAME]``, ``[campaigns.NAME]``: reached by the names the file defines."""
        if not parts:
            self.result.origins.setdefault(loc, self.name)
            for key, item in _json_object(value, from_json, loc).items():
                self._named(model, node, loc, [str(key)], item, from_json=True)
            return
        kind = str(loc[-1]).removesuffix("s")
        name = self._match(kind, loc, parts, list(node))
        entry = node[name]
        if not isinstance(entry, dict):
            raise Refused(f"[{loc[-1]}.{name}] in the config file is not a section; fix it first")
        self._set(model, entry, (*loc, name), parts[1:], value, from_json=from_json)

    def _accounts(
        self,
        model: type[BaseModel],
        node: dict[str, Any],
        loc: Loc,
        parts: list[str],
        value: Any,
        *,
        from_json: bool,
    ) -> None:
        """``[[accounts]]``: reached by name, never by position."""
        accounts = node.get(str(loc[-1]))
        if not isinstance(accounts, list):
            raise Refused("the config file defines no [[accounts]] for it to change")
        names = {
            entry["name"]: index
            for index, entry in enumerate(accounts)
            if isinstance(entry, dict) and isinstance(entry.get("name"), str)
        }
        if not parts:
            self.result.origins.setdefault(loc, self.name)
            for key, item in _json_object(value, from_json, loc).items():
                self._accounts(model, node, loc, [str(key)], item, from_json=True)
            return
        name = self._match("account", loc, parts, list(names))
        index = names[name]
        self._set(model, accounts[index], (*loc, index), parts[1:], value, from_json=from_json)

    def _match(self, kind: str, loc: Loc, parts: list[str], names: list[str]) -> str:
        part = parts[0]
        found = [name for name in names if normalized(name) == normalized(part)]
        if len(found) == 1:
            return found[0]
        if found:
            raise Refused(f"matches the {kind}s {' and '.join(map(repr, found))}; rename one")
        suggestion = self._suggestion(loc, parts)
        raise Refused(messages.no_such_entry(kind, part, names, suggestion))

    def _leaf(
        self, annotation: Any, node: Any, loc: Loc, parts: list[str], value: Any, *, from_json: bool
    ) -> Any:
        if parts and origin_of(annotation) is dict and len(parts) == 1:
            # One entry of a table of names, e.g. secrets_from_env.access_token.
            table = dict(node) if isinstance(node, Mapping) else {}
            table[parts[0].lower()] = value
            return table
        if parts:
            here = f"{loc[-1]} is a single value, with no part {parts[0]!r}"
            raise self._refuse_unknown(loc, parts, here, from_json=from_json)
        if from_json or not is_collection(annotation):
            return value
        example = '{"access_token": "VARIABLE"}' if origin_of(annotation) is dict else '["a", "b"]'
        try:
            return json.loads(value)
        except ValueError as exc:
            raise Refused(messages.not_json(str(exc), example)) from None


def _json_object(value: Any, from_json: bool, loc: Loc) -> dict[str, Any]:
    """A section given whole: a JSON object whose keys merge into the file's section."""
    section = loc[-1] if loc else "the settings"
    example = f'{{"KEY": VALUE}}, or one key at a time with {ENV_PREFIX}…__KEY'
    if not from_json:
        try:
            value = json.loads(value)
        except ValueError as exc:
            message = messages.not_json(str(exc), example)
            raise Refused(f"{section} is a section: {message}") from None
    if not isinstance(value, dict):
        raise Refused(f"{section} is a section: write it as a JSON object, e.g. {example}")
    return value


def _child(node: dict[str, Any], key: str) -> dict[str, Any]:
    child = node.get(key)
    if child is None:
        child = node[key] = {}
    if not isinstance(child, dict):
        raise Refused(f"{key} in the config file is not a section; fix the file first")
    return child


class OverridesSource(PydanticBaseSettingsSource):
    """The environment as pydantic-settings reads it: ``read_overrides`` over the file's values.

    ``load_settings`` has refused every variable that reaches nothing before this runs.
    """

    def __init__(self, settings_cls: type[BaseSettings], file_values: Mapping[str, Any]) -> None:
        super().__init__(settings_cls)
        self.file_values = file_values

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        # Unused: __call__ reads every variable at once.
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        overrides = read_overrides(self.settings_cls, self.file_values, os.environ)
        return {
            key: value
            for key, value in overrides.merged.items()
            if any(loc[0] == key for loc in overrides.origins)
        }
