"""The state beside the deliveries: rotation, rate limits, sessions, the pause switch, workers."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, delete, func, select, update

from amplifier.errors import StateMoved, StoreError
from amplifier.networks.base import RateLimitWindow
from amplifier.store.base import StoreBase, aware, dialect_insert, upsert
from amplifier.store.outbox import AlertDraft, enqueue_alerts
from amplifier.store.schema import flags, rate_limits, rotation_state, sessions, workers
from amplifier.store.types import WorkerStop

PAUSE_FLAG = "paused"
# The last long-running worker's clean stop (by: its id; value: how), kept after its heartbeat
# is dropped: a campaign left with no worker at all is told apart from one never started.
WORKER_STOP_FLAG = "worker_stopped"
_FIRST_START_FLAG = "first_started"
_BLOCKED_UNTIL = select(func.max(rate_limits.c.reset_at)).where(
    (rate_limits.c.account == bindparam("by_account"))
    & (rate_limits.c.remaining == 0)
    & (rate_limits.c.reset_at > bindparam("after", type_=rate_limits.c.reset_at.type))
)


def save_rotation_row(
    conn: Connection, account: str, state: Mapping[str, object], now: datetime
) -> None:
    """Replace the account's rotation state in the caller's transaction."""
    document = json.dumps(dict(state), sort_keys=True)
    upsert(
        conn,
        rotation_state,
        {"account": account, "state": document, "updated_at": now},
        ["account"],
    )


def save_rotation_checked(
    conn: Connection,
    account: str,
    state: Mapping[str, object],
    expected: Mapping[str, object] | None,
    now: datetime,
) -> None:
    """Replace the rotation state only if it is still ``expected`` (None: none stored yet).

    Raises ``StateMoved`` otherwise, in the caller's transaction, which then rolls back. The
    stored row is locked while compared (PostgreSQL; SQLite's writers already queue up).
    """
    document = json.dumps(dict(state), sort_keys=True)
    if expected is None:
        statement = (
            _insert_ignoring(conn.dialect.name)
            .values(account=account, state=document, updated_at=now)
            .returning(rotation_state.c.account)
        )
        if conn.execute(statement).first() is None:  # (rowcount is -1 on psycopg here)
            raise StateMoved(f"rotation of {account} was saved by another claim meanwhile")
        return
    current = conn.execute(
        select(rotation_state.c.state).where(rotation_state.c.account == account).with_for_update()
    ).scalar_one_or_none()
    if current is None or json.loads(current) != dict(expected):
        raise StateMoved(f"rotation of {account} changed since it was read")
    conn.execute(
        update(rotation_state)
        .where(rotation_state.c.account == account)
        .values(state=document, updated_at=now)
    )


def _insert_flag(dialect: str) -> Any:
    """INSERT INTO flags ... ON CONFLICT DO NOTHING: another worker recorded it first."""
    return dialect_insert(dialect)(flags).on_conflict_do_nothing(index_elements=["name"])


def _insert_ignoring(dialect: str) -> Any:
    """INSERT INTO rotation_state ... ON CONFLICT DO NOTHING, for the dialect."""
    return dialect_insert(dialect)(rotation_state).on_conflict_do_nothing(
        index_elements=["account"]
    )


def save_windows(
    conn: Connection, account: str, windows: Sequence[RateLimitWindow], now: datetime
) -> None:
    """Upsert each rate-limit window in the caller's transaction, by (account, window).

    A window stored shut (remaining 0) until a reset still to come stays shut: an answer
    that says it is open can only be a late one, to a request sent before the 429 (no
    worker sends while a stored window is shut), and reopening the window for it would let
    the next post go before the reset. A later reset of a shut window is kept, an earlier
    one ignored. In window order: two transactions upserting the same windows in different
    orders would lock rows in opposite orders and deadlock (PostgreSQL, two workers answered
    at once).
    """
    statement = _window_upsert(conn.dialect.name)
    for window in sorted(windows, key=lambda each: each.window):
        reset_at = None if window.reset_at is None else aware("reset_at", window.reset_at)
        values = {
            "account": account,
            "window": window.window,
            "limit_": window.limit,
            "remaining": window.remaining,
            "reset_at": reset_at,
            "updated_at": now,
        }
        conn.execute(statement, {**values, "stored_now": now})


def _window_upsert(dialect: str) -> Any:
    """INSERT a window, or UPDATE the stored one unless it is shut until a later reset."""
    statement = dialect_insert(dialect)(rate_limits)
    new = statement.excluded
    now = bindparam("stored_now", type_=rate_limits.c.reset_at.type)
    stored = rate_limits.c
    still_shut = (func.coalesce(stored.remaining, -1) == 0) & (
        func.coalesce(stored.reset_at, now) > now
    )
    later_shut = (new.remaining == 0) & (new.reset_at >= stored.reset_at)
    changes = {name: new[name] for name in ("limit_", "remaining", "reset_at", "updated_at")}
    return statement.on_conflict_do_update(
        index_elements=["account", "window"], set_=changes, where=~still_shut | later_shut
    )


class SharedState(StoreBase):
    """Rotation state, rate-limit windows, sealed sessions, the pause switch, worker heartbeats."""

    # -- rotation state ----------------------------------------------------------------------------
    def load_rotation(self, account: str) -> dict[str, object] | None:
        """The account's rotation state as saved, or None before the first save."""
        query = select(rotation_state.c.state).where(rotation_state.c.account == account)
        with self._read("load_rotation") as conn:
            document = conn.execute(query).scalar_one_or_none()
        if document is None:
            return None
        state = json.loads(document)
        if not isinstance(state, dict):
            raise StoreError(f"rotation state of {account} is not a JSON object")
        return state

    def save_rotation(self, account: str, state: Mapping[str, object]) -> None:
        """Replace the account's rotation state."""
        with self._write("save_rotation") as conn:
            save_rotation_row(conn, account, state, self._now())

    # -- rate limits -------------------------------------------------------------------------------
    def save_rate_limits(
        self,
        account: str,
        windows: Sequence[RateLimitWindow],
        alerts: Sequence[AlertDraft] = (),
    ) -> None:
        """Upsert each window the platform reported, by (account, window), with ``alerts``."""
        now = self._now()
        with self._write("save_rate_limits") as conn:
            save_windows(conn, account, windows, now)
            enqueue_alerts(conn, alerts, now)

    def rate_limits(self, account: str) -> list[RateLimitWindow]:
        """The account's last known windows, by window name."""
        query = (
            select(rate_limits)
            .where(rate_limits.c.account == account)
            .order_by(rate_limits.c.window)
        )
        with self._read("rate_limits") as conn:
            return [
                RateLimitWindow(row.window, row.limit_, row.remaining, row.reset_at)
                for row in conn.execute(query)
            ]

    def blocked_until(self, account: str, now: datetime) -> datetime | None:
        """The latest reset among the account's exhausted windows still in the future."""
        bounds = {"by_account": account, "after": aware("now", now)}
        with self._read("blocked_until") as conn:
            latest: datetime | None = conn.execute(_BLOCKED_UNTIL, bounds).scalar_one()
        return latest

    # -- sessions ------------------------------------------------------------------------------

    def load_session(self, account: str) -> str | None:
        """The stored (already encrypted) session value, if any."""
        query = select(sessions.c.value).where(sessions.c.account == account)
        with self._read("load_session") as conn:
            value: str | None = conn.execute(query).scalar_one_or_none()
        return value

    def save_session(self, account: str, value: str) -> None:
        """Store an already encrypted session value (use SealedSessions, never a clear one)."""
        values = {"account": account, "value": value, "updated_at": self._now()}
        with self._write("save_session") as conn:
            upsert(conn, sessions, values, ["account"])

    # -- the pause switch ----------------------------------------------------------------------

    def set_paused(self, paused: bool, *, by: str) -> None:
        """Pause or resume all publishing, recording who did it and when."""
        values = {
            "name": PAUSE_FLAG,
            "value": "true" if paused else "false",
            "by": by,
            "updated_at": self._now(),
        }
        with self._write("set_paused") as conn:
            upsert(conn, flags, values, ["name"])

    def paused(self) -> tuple[bool, str | None, datetime | None]:
        """(paused, who last flipped the switch, since when); (False, None, None) if never set."""
        query = select(flags).where(flags.c.name == PAUSE_FLAG)
        with self._read("paused") as conn:
            row = conn.execute(query).one_or_none()
        if row is None:
            return (False, None, None)
        return (row.value == "true", row.by, row.updated_at)

    def first_started(self) -> datetime:
        """When a worker first ran on this database (recorded on the first call).

        Slots before it are not "missed": nothing was meant to publish them.
        """
        values = {"name": _FIRST_START_FLAG, "value": "", "by": "worker", "updated_at": self._now()}
        query = select(flags.c.updated_at).where(flags.c.name == _FIRST_START_FLAG)
        with self._write("first_started") as conn:
            # Insert-if-absent in one statement: parallel account threads and two workers on a
            # fresh database all record it, and the first one's moment is the one kept.
            conn.execute(_insert_flag(conn.dialect.name).values(**values))
            started: datetime = conn.execute(query).scalar_one()
        return started

    def starts(self) -> dict[str, datetime]:
        """Every first start recorded: '' for this database's first worker (``first_started``),
        'live:<account>' and 'rehearsal:<account>' for an account's first run of each kind."""
        query = select(flags.c.name, flags.c.updated_at).where(
            (flags.c.name == _FIRST_START_FLAG) | flags.c.name.startswith(_FIRST_START_FLAG + ":")
        )
        with self._read("starts") as conn:
            rows = conn.execute(query).all()
        return {name[len(_FIRST_START_FLAG) + 1 :]: at for name, at in rows}

    def record_starts(self, starts: Mapping[str, datetime]) -> dict[str, datetime]:
        """Record each first start not recorded yet (one transaction); returns ``starts()``.

        A start already recorded is kept: the first to record it wins.
        """
        with self._write("record_starts") as conn:
            for scope, at in sorted(starts.items()):
                name = _FIRST_START_FLAG + (f":{scope}" if scope else "")
                values = {"name": name, "value": "", "by": "worker"}
                # Insert-if-absent: another thread or worker may be recording the same start.
                conn.execute(
                    _insert_flag(conn.dialect.name).values(**values, updated_at=aware("start", at))
                )
        return self.starts()

    # -- workers -------------------------------------------------------------------------------

    def heartbeat(self, worker_id: str) -> None:
        """Say this worker is alive now (its claims are not orphaned while it beats)."""
        with self._write("heartbeat") as conn:
            upsert(conn, workers, {"worker_id": worker_id, "seen_at": self._now()}, ["worker_id"])

    def forget_worker(self, worker_id: str, *, stopped: str | None = None) -> None:
        """Drop the worker's heartbeat on a clean exit; ``stopped`` (how a long-running
        worker stopped) is kept, in the same transaction, as the last worker's stop."""
        with self._write("forget_worker") as conn:
            conn.execute(delete(workers).where(workers.c.worker_id == worker_id))
            if stopped is not None:
                values = {"name": WORKER_STOP_FLAG, "value": stopped, "by": worker_id}
                upsert(conn, flags, {**values, "updated_at": self._now()}, ["name"])

    def last_worker_stop(self) -> WorkerStop | None:
        """The last clean stop of a long-running worker, if one was ever recorded."""
        query = select(flags).where(flags.c.name == WORKER_STOP_FLAG)
        with self._read("last_worker_stop") as conn:
            row = conn.execute(query).one_or_none()
        return None if row is None else WorkerStop(row.by or "", row.updated_at, row.value)
