"""The forecast: what the worker will do with each account's coming slots, from what is stored.

``predict`` runs ``decide_slot``, the worker's own decision, slot after slot in the order the
worker meets them: by the moment each is handled (a slot already due and still without a row:
the next pass, now; a later one: its due time), accounts in the order a pass takes them. It
starts from the stored state the worker reads (rotation, what the guards count, the month's
spend, the pause switch, the rate-limit windows, which slots already have a row) and lays each
predicted send over it (``Overlay``), so the next slot's guards, rotation and spend count it,
across accounts. Nothing is written: a database that does not exist yet reads as empty.

The result is data (``Forecast``): the command line prints it, and a console can show the same.
What it cannot foresee is in ``UNFORESEEABLE``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from amplifier.config import Account, Settings
from amplifier.content import Library
from amplifier.forecast.slot import SlotDecision, decide_slot
from amplifier.forecast.view import Pause, StoreView, Wait, pause_of, slot_key
from amplifier.forecast.window import PredictionWindow, WindowedView
from amplifier.guards import Sent, others_since, own_since
from amplifier.networks.mastodon_limits import InstanceLimits
from amplifier.schedule import AccountState, Slot, next_slots, seed_key, slot_spec, slots_between
from amplifier.store import Delivery, Store

UNFORESEEABLE = (
    "what a platform answers: a 429, an outage or a refusal defers or fails a post, and the "
    "slots after it then see a different history",
    "what changes after the forecast: the pause switch, a post-now, the config, the posts, "
    "the credentials",
    "a pass that runs late: each slot is predicted at its due time, and a window that ends "
    "within the few seconds to the pass may end on the other side of it",
)
_TICK = timedelta(microseconds=1)  # slots_between is half-open: [start, end)


@dataclass(frozen=True)
class SlotForecast:
    """One slot: what the worker will decide, or the row it already has."""

    slot: Slot
    decision: SlotDecision | None = None  # None when the slot already has a row
    recorded: Delivery | None = None
    overdue: bool = False  # due already: the next pass handles it


@dataclass(frozen=True)
class AccountForecast:
    """One account's coming slots; ``rehearsal`` says why it is a dry run (None: live)."""

    account: Account
    rehearsal: str | None
    slots: tuple[SlotForecast, ...]


@dataclass(frozen=True)
class Forecast:
    now: datetime
    paused: str | None  # why every slot is skipped (``pause``'s reason in UTC), or None
    accounts: tuple[AccountForecast, ...]
    pause: Pause | None = None


def start_scope(account: str, *, rehearsal: bool) -> str:
    """The name ``Store.first_started`` keeps an account's first run of this kind under."""
    return f"{'rehearsal' if rehearsal else 'live'}:{account}"


def first_run(starts: Mapping[str, datetime], account: str, *, rehearsal: bool) -> datetime | None:
    """When the account's first run of this kind began, from ``Store.starts()`` (None: none
    yet, a worker starting now would be its first).

    Its own record if there is one. A live account without one started with the deployment's
    first worker, unless it has been rehearsing: then it goes live with the next worker, so
    the days it only rehearsed are never recorded as missed. A rehearsal without one starts
    with the next worker.
    """
    own = starts.get(start_scope(account, rehearsal=rehearsal))
    if own is not None or rehearsal:
        return own
    if start_scope(account, rehearsal=True) in starts:
        return None
    return starts.get("")


def window_start(
    started: datetime | None, now: datetime, *, grace: timedelta, lookback: timedelta
) -> datetime:
    """Where a pass at ``now`` starts looking: the lookback, but never before the account's
    first run of this kind (None: a worker starting now) less the grace window."""
    return max(now - lookback, (started or now) - grace)


@dataclass(frozen=True)
class _Predicted:
    sent: Sent
    network: str
    rehearsal: bool
    cost_micros: int
    due_at: datetime


class Overlay:
    """The stored state with the forecast's own sends laid over it, per kind of run; the
    stored state read once for every slot (``PredictionWindow``), from ``floor`` on."""

    def __init__(
        self, store: Store | None, library: Library, now: datetime, floor: datetime | None = None
    ) -> None:
        self.window = None if store is None else PredictionWindow(store, library, now, floor)
        self.bases: dict[bool, StoreView] = {
            kind: StoreView(None, library, rehearsal=kind, now=now)
            if self.window is None
            else WindowedView(self.window, library, rehearsal=kind, now=now)
            for kind in (False, True)
        }
        self.rotations: dict[str, AccountState] = {}
        self.sends: list[_Predicted] = []

    def view(self, *, rehearsal: bool) -> OverlayView:
        return OverlayView(self, rehearsal)

    def add(self, decision: SlotDecision) -> None:
        """Count a predicted send, as the worker's claim and delivery will record it."""
        if decision.action != "send" or decision.planned is None or decision.state is None:
            return
        account = decision.account
        self.rotations[account.name] = decision.state
        wait = decision.deferred
        at = max(decision.moment, wait.until) if wait is not None else decision.moment
        template = decision.planned.template
        status = "deferred" if decision.deferred else "published"
        cost = decision.cost.micros if decision.cost is not None else 0
        for part in decision.planned.parts:  # a thread: every part a post (its cost on the first)
            sent = Sent(
                account.name,
                template.id,
                part.text,
                at,
                template.translation_of or "",
                "rehearsed" if decision.rehearsal else status,
            )
            self.sends.append(
                _Predicted(sent, account.network, decision.rehearsal, cost, decision.slot.due_at)
            )
            cost = 0


class OverlayView:
    """A ``StateView``: the stored state for one kind of run, plus the predicted sends.

    A live view counts the predicted live sends only; a rehearsal counts them all.
    """

    def __init__(self, overlay: Overlay, rehearsal: bool) -> None:
        self.overlay = overlay
        self.base = overlay.bases[rehearsal]
        self._rehearsal = rehearsal

    @property
    def rehearsal(self) -> bool:
        return self._rehearsal

    def _mine(self) -> list[_Predicted]:
        return [p for p in self.overlay.sends if self._rehearsal or not p.rehearsal]

    def rotation(self, account: Account) -> AccountState:
        if account.name in self.overlay.rotations:
            return self.overlay.rotations[account.name]
        return self.base.rotation(account)

    def counted(
        self, since: datetime, *, account: str | None = None, network: str | None = None
    ) -> list[Sent]:
        found = self.base.counted(since, account=account, network=network)
        for predicted in self._mine():
            if account is not None and predicted.sent.account != account:
                continue
            if network is not None and predicted.network != network:
                continue
            if predicted.sent.at is None or predicted.sent.at >= since:
                found.append(predicted.sent)
        return found

    def spent(self, start: datetime, end: datetime, account: str | None) -> int:
        total = self.base.spent(start, end, account)
        for predicted in self._mine():
            if predicted.network != "x" or not start <= predicted.due_at < end:
                continue
            if account is None or predicted.sent.account == account:
                total += predicted.cost_micros
        return total

    def blocked(self, account: str, moment: datetime) -> Wait | None:
        return self.base.blocked(account, moment)

    def instance_limits(self, account: Account) -> InstanceLimits | None:
        return self.base.instance_limits(account)


def _look_back(settings: Settings, accounts: Sequence[Account], first: datetime) -> datetime:
    """The earliest moment a slot decided at ``first`` or later counts sends from: how far
    back the prediction reads the guards' window, once (both limits grow with the moment)."""
    rules = settings.guards
    zones = {ZoneInfo(settings.schedules[a.schedule].timezone) for a in accounts}
    return min([others_since(first, rules), *(own_since(first, zone, rules) for zone in zones)])


def predict(
    settings: Settings,
    library: Library,
    store: Store | None,
    now: datetime,
    *,
    rehearsals: Mapping[str, str],
    accounts: Sequence[str] | None = None,
    count: int | None = 5,
    days: int | None = None,
) -> Forecast:
    """What the worker will do with the next ``count`` slots (or ``days`` days) of each of
    ``accounts`` (default: every enabled one), and with their slots already due.

    Every enabled account is simulated up to the last slot asked for, asked or not: another
    account's send counts for distinct text and the deployment's X budget. ``rehearsals``
    names the accounts a worker would only log (a dry run) (``forecast.rehearsals``).
    """
    enabled = [a for a in settings.accounts if a.enabled]
    wanted = [a for a in enabled if accounts is None or a.name in accounts]
    grace = timedelta(minutes=settings.worker.grace_minutes)
    lookback = timedelta(hours=settings.worker.lookback_hours)
    asked: dict[str, list[Slot]] = {}
    for account in wanted:
        spec, key = slot_spec(settings, account), seed_key(settings, account)
        if days is not None:
            asked[account.name] = slots_between(spec, key, now + _TICK, now + timedelta(days))
        else:
            asked[account.name] = next_slots(spec, key, now, count or 0)
    horizon = max((s[-1].due_at for s in asked.values() if s), default=now)
    if days is not None:
        horizon = max(horizon, now + timedelta(days) - _TICK)
    upcoming: dict[str, list[Slot]] = {}
    for account in enabled:
        spec, key = slot_spec(settings, account), seed_key(settings, account)
        upcoming[account.name] = slots_between(spec, key, now + _TICK, horizon + _TICK)

    forecasts: dict[str, list[SlotForecast]] = {a.name: [] for a in enabled}
    starts = store.starts() if store is not None else {}
    events: list[tuple[datetime, int, Slot, Account]] = []
    for index, account in enumerate(enabled):
        rehearsal = account.name in rehearsals
        started = first_run(starts, account.name, rehearsal=rehearsal)
        begin = window_start(started, now, grace=grace, lookback=lookback)
        spec, key = slot_spec(settings, account), seed_key(settings, account)
        for slot in slots_between(spec, key, begin, now + _TICK):
            row = None
            if store is not None:
                row = store.get(account.name, slot_key(slot.key, rehearsal=rehearsal))
            if row is not None:
                forecasts[account.name].append(SlotForecast(slot, recorded=row, overdue=True))
            else:
                events.append((now, index, slot, account))
        events += [(slot.due_at, index, slot, account) for slot in upcoming[account.name]]

    pause = pause_of(store)
    paused = None if pause is None else pause.reason()
    first = min((event[0] for event in events), default=now)
    overlay = Overlay(store, library, now, _look_back(settings, enabled, first))
    for moment, _, slot, account in sorted(events, key=lambda e: (e[0], e[1], e[2].due_at)):
        rehearsal = account.name in rehearsals
        decision = decide_slot(
            settings,
            library,
            account,
            slot,
            moment=moment,
            view=overlay.view(rehearsal=rehearsal),
            paused=paused,
            grace=grace,
        )
        overlay.add(decision)
        forecasts[account.name].append(
            SlotForecast(slot, decision=decision, overdue=slot.due_at <= now)
        )
    shown = []
    for account in wanted:
        keys = {slot.key for slot in asked[account.name]}
        slots = [f for f in forecasts[account.name] if f.overdue or f.slot.key in keys]
        slots.sort(key=lambda f: f.slot.due_at)
        shown.append(AccountForecast(account, rehearsals.get(account.name), tuple(slots)))
    return Forecast(now, paused, tuple(shown), pause)
