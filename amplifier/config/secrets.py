"""Secrets: where each account's credentials come from, and what the file may never hold.

The config file names environment variables (``[accounts.secrets_from_env]``), never values;
``resolve_secrets`` reads those variables, and ``secret_problems`` refuses a file that holds a
credential's value anywhere (the value is never shown in the message).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from amplifier.config.locator import Loc
from amplifier.config.messages import where
from amplifier.config.models import Settings
from amplifier.config.overrides import SECRET_KEYS
from amplifier.networks.base import NetworkName

ENV_NAME = re.compile(r"^[A-Z_][A-Z0-9_]{0,127}$")

# Which secrets each network needs; X takes OAuth 1.0a keys, or an OAuth 2.0 user token instead.
REQUIRED_SECRETS: dict[NetworkName, tuple[tuple[str, ...], ...]] = {
    "x": (
        ("consumer_key", "consumer_secret", "access_token", "access_token_secret"),
        ("oauth2_user_token",),
    ),
    "mastodon": (("access_token",),),
    "bluesky": (("app_password",),),
}


@dataclass(frozen=True)
class AccountSecrets:
    """Credential values read from the environment. repr never shows them."""

    account: str
    values: Mapping[str, str]

    def __repr__(self) -> str:
        return f"AccountSecrets(account={self.account!r}, keys={sorted(self.values)!r})"

    def get(self, key: str) -> str:
        return self.values.get(key, "")


def resolve_secrets(settings: Settings) -> tuple[dict[str, AccountSecrets], list[str]]:
    """Read each enabled account's secrets from the environment.

    Returns the secrets of accounts that have all they need, and one message per account that
    lacks some (naming the variables, never a value).
    """
    found: dict[str, AccountSecrets] = {}
    missing: list[str] = []
    for account in settings.accounts:
        if not account.enabled:
            continue
        values = {
            key: os.environ[var]
            for key, var in account.secrets_from_env.items()
            if os.environ.get(var)
        }
        options = REQUIRED_SECRETS[account.network]
        if any(all(key in values for key in option) for option in options):
            found[account.name] = AccountSecrets(account.name, values)
            continue
        wanted = options[0]
        unset = [
            account.secrets_from_env.get(key, f"<{key}>") for key in wanted if key not in values
        ]
        missing.append(
            f"account {account.name!r} ({account.network}): environment variable(s) "
            f"{', '.join(unset)} not set; export them (Heroku: heroku config:set NAME=value)"
        )
    return found, missing


def secret_problems(raw: Mapping[str, Any]) -> list[tuple[Loc, str]]:
    problems: list[tuple[Loc, str]] = []

    def walk(node: Any, loc: Loc) -> None:
        if isinstance(node, Mapping):
            for key, value in node.items():
                if key == "secrets_from_env" and isinstance(value, Mapping):
                    for secret, var in value.items():
                        if not isinstance(var, str) or not ENV_NAME.match(var):
                            problems.append(
                                (
                                    (*loc, key, secret),
                                    f"{where((*loc, key, secret), raw)}: the value (not shown) is "
                                    "not an environment variable name; write the NAME of the "
                                    "variable that holds the secret, in capitals, e.g. "
                                    f"{_example_env(loc, secret, raw)}. If you pasted the secret "
                                    "itself here, delete it and revoke it",
                                )
                            )
                    continue
                if key in SECRET_KEYS and isinstance(value, str):
                    problems.append(
                        (
                            (*loc, key),
                            f"{where((*loc, key), raw)}: secrets may not be written in the config "
                            "file (value not shown). Put it in an environment variable and name "
                            f'that variable instead: [accounts.secrets_from_env] {key} = "'
                            f'{_example_env(loc, key, raw)}"',
                        )
                    )
                    continue
                walk(value, (*loc, key))
        elif isinstance(node, list):
            for index, item in enumerate(node):
                walk(item, (*loc, index))

    walk(raw, ())
    return problems


def _example_env(loc: Loc, key: str, raw: Mapping[str, Any]) -> str:
    """A variable name for the secret: the account's name and the key, e.g. FBT_X_ACCESS_TOKEN.

    Never AMPLIFIER_…: those are settings, and a credential is not one.
    """
    accounts = raw.get("accounts")
    name = ""
    if len(loc) >= 2 and loc[0] == "accounts" and isinstance(accounts, list):
        index = loc[1]
        entry = accounts[index] if isinstance(index, int) and index < len(accounts) else None
        name = str(entry.get("name", "")) if isinstance(entry, Mapping) else ""
    prefix = re.sub(r"[^A-Z0-9]+", "_", name.upper()).strip("_") or "ACCOUNT"
    prefix = f"ACCOUNT_{prefix}" if prefix[0].isdigit() else prefix
    return f"{prefix}_{key.upper()}"
