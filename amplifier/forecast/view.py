"""What a slot's decision reads: the rotation, what counts for the guards, the spend, the pause.

``StateView`` is the read-only view ``decide_slot`` runs over. ``StoreView`` reads the state
database as the worker does, for one account's kind of run: live, or a dry run's rehearsal
(``rehearsal=True``). The forecast lays its predicted sends over a ``StoreView``
(predictions.py's ``Overlay``), so a prediction reads exactly what the worker will read.

A rehearsal never touches the live state: it counts what went out live plus what it rehearsed
(``REHEARSAL_SENT``), and keeps a rotation of its own under ``REHEARSAL_PREFIX + account``,
forked from the live one: ``{"base": <live state it started from>, "state": <its own>}``. When
the live rotation has moved since (the account posted live meanwhile), the rehearsal starts
again from where the live one now is, so it always shows what the live account would do.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from amplifier.config import Account, Settings, instance_of, resolve_secrets
from amplifier.content import Library
from amplifier.guards import REHEARSAL_SENT, SENT, Sent, sent_rows
from amplifier.logs import log_event
from amplifier.networks.base import RateLimitWindow
from amplifier.networks.mastodon_limits import InstanceLimits
from amplifier.schedule import AccountState
from amplifier.store import REHEARSAL_PREFIX, RotationWrite, Store

LOGGER = logging.getLogger(__name__)


class StateView(Protocol):
    """What ``decide_slot`` reads, for one kind of run (live or rehearsal)."""

    @property
    def rehearsal(self) -> bool: ...

    def rotation(self, account: Account) -> AccountState:
        """The account's rotation state for this kind of run."""
        ...

    def counted(
        self, since: datetime, *, account: str | None = None, network: str | None = None
    ) -> list[Sent]:
        """What the guards count from ``since`` on (sent then, or not out yet)."""
        ...

    def spent(self, start: datetime, end: datetime, account: str | None) -> int:
        """X spend of the rows due in [start, end), of one account or (None) of all."""
        ...

    def blocked(self, account: str, moment: datetime) -> Wait | None:
        """What a post waits for while the account's stored rate-limit window is shut at
        ``moment``."""
        ...

    def instance_limits(self, account: Account) -> InstanceLimits | None:
        """The stored limits of a Mastodon account's server (None: none stored)."""
        ...


def rehearsal_key(account: str) -> str:
    """Where a rehearsal keeps its own rotation (account names never hold a colon)."""
    return REHEARSAL_PREFIX + account


def slot_key(slot_key: str, *, rehearsal: bool) -> str:
    """The deliveries' slot key for a slot: a rehearsal's rows live under their own prefix."""
    return REHEARSAL_PREFIX + slot_key if rehearsal else slot_key


def rehearsals(settings: Settings, *, flag: bool = False) -> dict[str, str]:
    """Enabled account -> why it is a dry run (logged, not sent); live accounts are absent.

    The rule ``accounts.network_factory`` applies when it builds the dry-run network: the
    --dry-run ``flag``, the ``dry_run`` setting (AMPLIFIER_DRY_RUN), or missing credentials.
    """
    found, missing = resolve_secrets(settings)
    reasons: dict[str, str] = {}
    for account in settings.accounts:
        if not account.enabled:
            continue
        if flag:
            reasons[account.name] = "dry run (--dry-run): logged, not sent"
        elif settings.dry_run:
            reasons[account.name] = "dry run (dry_run = true, AMPLIFIER_DRY_RUN): logged, not sent"
        elif account.name not in found:
            said = next((m for m in missing if m.startswith(f"account {account.name!r} ")), "")
            unset = said.split("environment variable(s) ", 1)[-1].split(" not set", 1)[0]
            reasons[account.name] = f"dry run (no credentials: {unset} not set): logged, not sent"
    return reasons


def _utc_minutes(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def _utc_seconds(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds")


@dataclass(frozen=True)
class Pause:
    """Posting paused: by whom, since when (kept as a moment, so each reader writes it in its
    own time: the worker's records and ``amplifier preview`` in UTC, the console locally)."""

    by: str | None
    since: datetime | None

    def reason(self, written: Callable[[datetime], str] = _utc_minutes) -> str:
        """'paused by ana since 2026-11-23 09:00 UTC' (``written`` writes the moment)."""
        since = written(self.since) if self.since else "unknown time"
        return f"paused by {self.by or 'someone'} since {since}"


@dataclass(frozen=True)
class Wait:
    """An account's rate-limit windows shut until a moment: a post waits for it."""

    until: datetime
    windows: tuple[str, ...]

    def reason(self, written: Callable[[datetime], str] = _utc_seconds) -> str:
        """'rate limit window 15m until 2026-11-23T13:45:00+00:00': the shut windows that end
        last (``written`` writes the moment)."""
        return (
            f"rate limit window {', '.join(self.windows) or 'unknown'} until {written(self.until)}"
        )


def pause_of(store: Store | None) -> Pause | None:
    """Who paused posting and since when, or None when posting is not paused."""
    if store is None:
        return None
    paused, by, since = store.paused()
    return Pause(by, since) if paused else None


def pause_reason(store: Store | None) -> str | None:
    """'paused by ana since 2026-11-23 09:00 UTC', or None when posting is not paused."""
    pause = pause_of(store)
    return None if pause is None else pause.reason()


def wait_for(until: datetime, windows: Sequence[RateLimitWindow]) -> Wait:
    return Wait(until, tuple(w.window for w in windows))


class StoreView:
    """The state database as a decision reads it at ``now``; ``store=None`` is a database not
    made yet.

    One per decision: it remembers the rotation documents it read, for the claim's
    compare-and-set (``rotation_write``). A row not out yet is expected to go out at its
    retry time (deferred) or at once (sending), as of ``now`` (``guards.sent_rows``).
    """

    def __init__(
        self,
        store: Store | None,
        library: Library,
        *,
        rehearsal: bool,
        now: datetime,
        logger: logging.Logger | None = None,
    ) -> None:
        self.store = store
        self.library = library
        self.now = now
        self._rehearsal = rehearsal
        self.logger = logger
        self._read: dict[str, tuple[dict[str, object] | None, dict[str, object] | None]] = {}
        self._limits: dict[str, InstanceLimits | None] = {}

    @property
    def rehearsal(self) -> bool:
        return self._rehearsal

    @property
    def statuses(self) -> tuple[str, ...]:
        return REHEARSAL_SENT if self._rehearsal else SENT

    def _documents(self, name: str) -> tuple[dict[str, object] | None, dict[str, object] | None]:
        if name not in self._read:
            live = own = None
            if self.store is not None:
                live = self.store.load_rotation(name)
                own = self.store.load_rotation(rehearsal_key(name)) if self._rehearsal else None
            self._read[name] = (live, own)
        return self._read[name]

    def rotation(self, account: Account) -> AccountState:
        live, own = self._documents(account.name)
        document: Mapping[str, object] = live or {}
        if own is not None and own.get("base") == (live or {}):
            state = own.get("state")
            document = state if isinstance(state, Mapping) else {}
        try:
            return AccountState.from_dict(document)
        except ValueError as error:
            if self.logger is not None:
                log_event(
                    self.logger,
                    "rotation-reset",
                    logging.WARNING,
                    account=account.name,
                    reason=str(error),
                )
            return AccountState()

    def rotation_write(self, account: Account, state: AccountState) -> RotationWrite:
        """The new state to save with the claim, if the stored one is still what was read."""
        live, own = self._documents(account.name)
        if not self._rehearsal:
            return RotationWrite(account.name, state.to_dict(), live)
        document = {"base": live or {}, "state": state.to_dict()}
        return RotationWrite(rehearsal_key(account.name), document, own)

    def counted(
        self, since: datetime, *, account: str | None = None, network: str | None = None
    ) -> list[Sent]:
        if self.store is None:
            return []
        rows = self.store.counted_since(
            since, statuses=self.statuses, account=account, network=network
        )
        return sent_rows(rows, self.library, self.now)

    def spent(self, start: datetime, end: datetime, account: str | None) -> int:
        if self.store is None:
            return 0
        return self.store.spend_micros(
            start, end, statuses=self.statuses, account=account, network="x"
        )

    def blocked(self, account: str, moment: datetime) -> Wait | None:
        if self.store is None or self._rehearsal:  # a rehearsal never meets a platform
            return None
        until = self.store.blocked_until(account, moment)
        if until is None:
            return None
        windows = [
            w for w in self.store.rate_limits(account) if w.remaining == 0 and w.reset_at == until
        ]
        return wait_for(until, windows)

    def instance_limits(self, account: Account) -> InstanceLimits | None:
        key = instance_of(account)
        if self.store is None or key is None:
            return None
        if key not in self._limits:
            self._limits[key] = self.store.load_instance_limits(key)
        return self._limits[key]
