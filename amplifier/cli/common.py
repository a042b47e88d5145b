"""What several commands share: their own error, and accounts picked by name.

Imports nothing heavy at module level (the config's models only for type checking): the
dispatcher imports it before its ``try``, and a Ctrl-C then must already find that ``try``.
"""

from __future__ import annotations

import difflib
from typing import TYPE_CHECKING

from amplifier.errors import AmplifierError

if TYPE_CHECKING:
    from amplifier.config import Account, Settings

USAGE = 2  # exit status of a wrong argument, as argparse's


class CommandError(AmplifierError):
    """A command cannot run as asked; the message says why and what to do. Exit ``code``."""

    def __init__(self, message: str, code: int = USAGE) -> None:
        super().__init__(message)
        self.code = code


def closest(name: str, names: list[str]) -> str:
    """ "; did you mean 'fbt-x'?" for the nearest of ``names``, or "." when none is near."""
    found = difflib.get_close_matches(name, names, n=1, cutoff=0.6)
    return f"; did you mean {found[0]!r}?" if found else "."


def accounts_named(settings: Settings, name: str | None) -> list[Account]:
    """The enabled accounts, or only the one called ``name``.

    A name the config does not know, or a disabled account, is a ``CommandError`` naming the
    closest valid name and listing the enabled accounts.
    """
    enabled = [account for account in settings.accounts if account.enabled]
    if name is None:
        return enabled
    for account in enabled:
        if account.name == name:
            return [account]
    listed = ", ".join(account.name for account in enabled) or "none"
    if any(account.name == name for account in settings.accounts):
        raise CommandError(
            f"account {name!r} is disabled in the config (enabled = false); enabled "
            f"accounts: {listed}"
        )
    names = [account.name for account in settings.accounts]
    raise CommandError(
        f"no account {name!r} in the config{closest(name, names)} Accounts: {listed}"
    )


def dry_run_accounts(
    settings: Settings, accounts: list[Account], forced: bool
) -> tuple[list[str], list[str]]:
    """(live, dry-run) names among ``accounts``: dry-run when forced, or without credentials."""
    from amplifier.config import resolve_secrets

    if forced or settings.dry_run:
        return [], [account.name for account in accounts]
    found, _ = resolve_secrets(settings)
    live = [account.name for account in accounts if account.name in found]
    return live, [account.name for account in accounts if account.name not in found]
