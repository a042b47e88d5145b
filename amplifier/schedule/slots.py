"""When an account posts: the slots of a weekly schedule in its own timezone.

A :class:`SlotSpec` says at which local times, on which weekdays, between which dates an
account posts. :func:`slots_between` and :func:`next_slots` turn it into concrete
:class:`Slot` instants. Everything is pure: the caller passes the instants to look at.

Rules worth knowing
-------------------
* Times are local wall-clock times: a 09:00 slot stays 09:00 local across daylight-saving
  changes, so its UTC instant shifts by an hour.
* A nominal time that does not exist (the spring-forward gap, e.g. 02:30 on 2026-03-08 in
  America/New_York) is moved forward by the length of the gap (to 03:30).
* An ambiguous time (the fall-back hour, e.g. 01:30 on 2026-11-01 in America/New_York) happens
  once, at its first occurrence (``fold=0``, still on summer time).
* The random offset is uniform in ``[-m, +m]`` minutes at one-second resolution and is derived
  from ``(seed_key, slot key)`` with SHA-256, so it is the same in every process and on every
  call. It is bounded by ``m`` and nothing else: two slots closer than ``2m`` apart may swap
  order, and a slot near midnight may move to another date. ``start``/``end``, ``days`` and
  ``blackout_dates`` apply to the nominal local date, before the offset.
* ``Slot.key`` is the configured local date and time (``"2026-11-23T09:00"``), independent of
  the offset and of the gap/fold adjustments. Each (date, time) yields at most one slot, so the
  key is unique within a schedule; the worker makes deliveries unique per (account, key).
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from amplifier.config import ALL_DAYS, Schedule, parse_days, parse_time, validate_timezone

__all__ = ["Slot", "SlotSpec", "next_slots", "schedule_spec", "slots_between"]

MAX_SCAN_DAYS = 400  # next_slots gives up after this many local dates


@dataclass(frozen=True)
class SlotSpec:
    """One account's posting schedule; all dates and times are local to ``timezone``."""

    timezone: str
    times: tuple[time, ...]
    days: frozenset[int] = ALL_DAYS
    random_offset_minutes: int = 0
    blackout_dates: frozenset[date] = field(default=frozenset())
    start: date | None = None  # inclusive
    end: date | None = None  # inclusive

    def __post_init__(self) -> None:
        validate_timezone(self.timezone)
        for value in self.times:
            if not isinstance(value, time) or value.tzinfo is not None:
                raise ValueError(f"slot times must be local times without a timezone: {value!r}")
        # Sorted and de-duplicated so equal schedules compare equal and keys stay unique.
        object.__setattr__(self, "times", tuple(sorted(set(self.times))))
        bad_days = sorted(day for day in self.days if day not in ALL_DAYS)
        if bad_days:
            raise ValueError(f"days must be 0 (Monday) to 6 (Sunday), not {bad_days}")
        if self.random_offset_minutes < 0:
            raise ValueError(
                f"random_offset_minutes must be 0 or more, not {self.random_offset_minutes}"
            )
        if self.start is not None and self.end is not None and self.start > self.end:
            raise ValueError(f"schedule start {self.start} is after its end {self.end}")

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


def schedule_spec(
    schedule: Schedule, start: date | None = None, end: date | None = None
) -> SlotSpec:
    """The SlotSpec of a ``[schedules.NAME]`` section, between ``start`` and ``end``."""
    return SlotSpec(
        timezone=schedule.timezone,
        times=tuple(sorted(parse_time(v) for v in schedule.times)),
        days=parse_days(schedule.days),
        random_offset_minutes=schedule.random_offset_minutes,
        blackout_dates=frozenset(schedule.blackout_dates),
        start=start,
        end=end,
    )


@dataclass(frozen=True, order=True)
class Slot:
    """One posting instant. Ordered by ``due_at``."""

    due_at: datetime  # UTC, aware, random offset applied
    nominal: datetime  # aware, local, gap-adjusted, no offset
    key: str  # configured local date and time, e.g. "2026-11-23T09:00"


def _slot_key(day: date, at: time) -> str:
    clock = at.strftime("%H:%M:%S" if at.second else "%H:%M")
    return f"{day.isoformat()}T{clock}"


def _offset(seed_key: str, key: str, minutes: int) -> timedelta:
    if minutes == 0:
        return timedelta(0)
    span = minutes * 60
    digest = hashlib.sha256(f"{len(seed_key)}:{seed_key}|{key}".encode()).digest()
    # A 256-bit value modulo a few thousand: the bias is far below anything observable.
    return timedelta(seconds=int.from_bytes(digest, "big") % (2 * span + 1) - span)


def _slots_on(spec: SlotSpec, seed_key: str, day: date) -> list[Slot]:
    if day.weekday() not in spec.days or day in spec.blackout_dates:
        return []
    if (spec.start is not None and day < spec.start) or (spec.end is not None and day > spec.end):
        return []
    zone = spec.zone
    slots = []
    for at in spec.times:
        key = _slot_key(day, at)
        # fold=0: a gap time keeps the pre-gap offset, which lands it one gap later in real
        # time; an ambiguous time takes its first occurrence.
        instant = datetime.combine(day, at, tzinfo=zone).astimezone(UTC)
        due_at = instant + _offset(seed_key, key, spec.random_offset_minutes)
        slots.append(Slot(due_at=due_at, nominal=instant.astimezone(zone), key=key))
    return slots


def _margin_days(spec: SlotSpec) -> int:
    # Enough local dates on either side to catch slots an offset (or a UTC offset) moved over.
    return 2 + math.ceil(2 * spec.random_offset_minutes / (24 * 60))


def _require_aware(name: str, value: datetime) -> None:
    if not isinstance(value, datetime) or value.utcoffset() is None:
        raise ValueError(f"{name} must be a timezone-aware datetime, not {value!r}")


def _dates(first: date, count: int) -> Iterator[date]:
    for index in range(count):
        yield first + timedelta(days=index)


def slots_between(spec: SlotSpec, seed_key: str, start: datetime, end: datetime) -> list[Slot]:
    """Every slot whose ``due_at`` lies in ``[start, end)``, sorted by ``due_at``."""
    _require_aware("start", start)
    _require_aware("end", end)
    if end <= start:
        return []
    margin = _margin_days(spec)
    first = start.astimezone(spec.zone).date() - timedelta(days=margin)
    last = end.astimezone(spec.zone).date() + timedelta(days=margin)
    found = [
        slot
        for day in _dates(first, (last - first).days + 1)
        for slot in _slots_on(spec, seed_key, day)
        if start <= slot.due_at < end
    ]
    return sorted(found)


def next_slots(spec: SlotSpec, seed_key: str, after: datetime, n: int) -> list[Slot]:
    """The next ``n`` slots with ``due_at > after``, sorted.

    Scans at most ``MAX_SCAN_DAYS`` local dates and returns what it found by then (fewer than
    ``n`` for a schedule that ends or has no days left).
    """
    _require_aware("after", after)
    if n < 0:
        raise ValueError(f"n must be 0 or more, not {n}")
    if n == 0:
        return []
    margin = _margin_days(spec)
    first = after.astimezone(spec.zone).date() - timedelta(days=margin)
    found: list[Slot] = []
    extra_days = None  # once n are found, later dates can only matter within the margin
    for day in _dates(first, MAX_SCAN_DAYS + margin):
        if spec.end is not None and day > spec.end:
            break
        found.extend(slot for slot in _slots_on(spec, seed_key, day) if slot.due_at > after)
        if extra_days is None and len(found) >= n:
            extra_days = margin
        elif extra_days is not None:
            extra_days -= 1
            if extra_days <= 0:
                break
    return sorted(found)[:n]
