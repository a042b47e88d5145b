"""``amplifier accounts verify``: check each account's credentials without posting.

Bluesky: the check uses the session store it is given (the database's, in the CLI) and spends
no login while the stored session is valid (createSession is limited to 30 per 5 minutes and
300 per day); it logs in with the app password only when no session is stored, the PDS refuses
it, or ``fresh_login`` asks for it, and stores the new session. Mastodon: the instance's limits
are read afresh, reported, and written to the limits cache it is given.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from amplifier.accounts.registry import build_network
from amplifier.config import Account, AccountSecrets, Settings, resolve_secrets
from amplifier.errors import NetworkError
from amplifier.networks.base import (
    AccountInfo,
    FreshLoginSessions,
    MemorySessionStore,
    Network,
    SessionStore,
)
from amplifier.networks.mastodon_limits import InstanceLimitsCache

SessionsFor = Callable[[Account, AccountSecrets], SessionStore]
SESSION_WORDS = {
    "stored": "the stored session is valid (no login spent)",
    "refreshed": "the stored session was renewed (no login spent)",
    "new": "logged in with the app password (createSession: 30 per 5 minutes, 300 per day)",
}


class Builder(Protocol):
    def __call__(
        self,
        account: Account,
        secrets: AccountSecrets | None,
        *,
        sessions: SessionStore,
        limits_cache: InstanceLimitsCache | None = None,
    ) -> Network: ...


@dataclass(frozen=True)
class Verification:
    """One account's result: who it is, or why it could not be checked."""

    account: Account
    info: AccountInfo | None
    problem: str | None

    @property
    def ok(self) -> bool:
        return self.info is not None


def _memory_sessions(account: Account, secrets: AccountSecrets) -> SessionStore:
    return MemorySessionStore()


def verify_accounts(
    settings: Settings,
    *,
    only: str | None = None,
    sessions_for: SessionsFor = _memory_sessions,
    limits_cache: InstanceLimitsCache | None = None,
    fresh_login: bool = False,
    build: Builder = build_network,
) -> list[Verification]:
    """Read-only check of every enabled account (or just ``only``).

    ``sessions_for`` gives each account's session store (the CLI passes the database-backed
    one, as the worker does); ``fresh_login`` makes Bluesky accounts log in afresh and store
    the new session; ``limits_cache`` receives the Mastodon instances' limits."""
    secrets, _ = resolve_secrets(settings)
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
        sessions = sessions_for(account, account_secrets)
        if fresh_login:
            sessions = FreshLoginSessions(sessions)
        network = build(account, account_secrets, sessions=sessions, limits_cache=limits_cache)
        try:
            info = network.verify()
        except NetworkError as exc:
            results.append(Verification(account, None, f"{type(exc).__name__}: {exc}"))
            continue
        finally:
            close = getattr(network, "close", None)  # Bluesky's connection pool
            if callable(close):
                close()
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
    if info.session is not None:
        lines.append(f"  session: {SESSION_WORDS.get(info.session, info.session)}")
    if info.instance_limits is not None:
        lines.append(f"  instance limits: {info.instance_limits.describe()}")
    lines.extend(f"  note: {note}" for note in info.notes)
    return lines
