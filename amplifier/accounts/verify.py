"""``amplifier accounts verify``: check each account's credentials without posting."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from amplifier.accounts.registry import build_network
from amplifier.config import Account, AccountSecrets, Settings, resolve_secrets
from amplifier.errors import NetworkError
from amplifier.networks.base import AccountInfo, MemorySessionStore, Network, SessionStore

Builder = Callable[[Account, AccountSecrets, SessionStore], Network]


@dataclass(frozen=True)
class Verification:
    """One account's result: who it is, or why it could not be checked."""

    account: Account
    info: AccountInfo | None
    problem: str | None

    @property
    def ok(self) -> bool:
        return self.info is not None


def _real_network(account: Account, secrets: AccountSecrets, sessions: SessionStore) -> Network:
    return build_network(account, secrets, sessions=sessions)


def verify_accounts(
    settings: Settings,
    *,
    only: str | None = None,
    build: Builder = _real_network,
    sessions: SessionStore | None = None,
) -> list[Verification]:
    """Read-only check of every enabled account (or just ``only``)."""
    secrets, _ = resolve_secrets(settings)
    store = sessions or MemorySessionStore()
    results: list[Verification] = []
    for account in settings.accounts:
        if not account.enabled or (only and account.name != only):
            continue
        account_secrets = secrets.get(account.name)
        if account_secrets is None:
            wanted = ", ".join(account.secrets_from_env.values()) or "(none configured)"
            results.append(
                Verification(
                    account,
                    None,
                    f"not checked: its credentials are not all set; environment: {wanted}",
                )
            )
            continue
        try:
            info = build(account, account_secrets, store).verify()
        except NetworkError as exc:
            results.append(Verification(account, None, f"{type(exc).__name__}: {exc}"))
            continue
        results.append(Verification(account, info, None))
    return results


def describe(result: Verification) -> list[str]:
    account = result.account
    head = f"{account.name} ({account.network})"
    if result.info is None:
        return [f"{head}: {result.problem}"]
    info = result.info
    lines = [f"{head}: ok, posts as {info.handle}" + (f" ({info.url})" if info.url else "")]
    if info.is_bot is False:
        lines.append(
            "  warning: this Mastodon account is not flagged as a bot; set it under "
            "Preferences > Profile > 'This is a bot account'"
        )
    elif info.is_bot:
        lines.append("  bot flag: on")
    lines.extend(f"  note: {note}" for note in info.notes)
    return lines
