"""Times, days and timezones as a schedule in the config file writes them.

``parse_time("09:00")``, ``parse_days(["weekdays"])`` and ``validate_timezone("Europe/Madrid")``
check a ``[schedules.NAME]`` section when the config loads; the schedule stage turns the
parsed values into slots.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import time
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

ALL_DAYS: frozenset[int] = frozenset(range(7))

_DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_FULL_DAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_DAY_GROUPS = {"daily": ALL_DAYS, "weekdays": frozenset(range(5)), "weekends": frozenset({5, 6})}
_TIME_RE = re.compile(r"(\d{1,2}):(\d{2})")


def validate_timezone(name: str) -> str:
    """Return ``name`` if it is a known IANA timezone, else raise ValueError saying what to use."""
    hint = "use an IANA name such as 'America/New_York' or 'Europe/Madrid'"
    if not isinstance(name, str) or not name.strip():
        raise ValueError(f"missing timezone: {hint}")
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        # ValueError/OSError: names like "../x" or a directory such as "America".
        raise ValueError(f"unknown timezone {name!r}: {hint}") from None
    return name


def parse_time(value: str) -> time:
    """Parse a 24-hour ``"HH:MM"`` local time, e.g. ``"09:00"`` or ``"18:30"``."""
    text = value.strip() if isinstance(value, str) else ""
    match = _TIME_RE.fullmatch(text)
    if match is None:
        raise ValueError(f"invalid time {value!r}: use 24-hour HH:MM such as '09:00' or '18:30'")
    hour, minute = int(match[1]), int(match[2])
    if hour > 23 or minute > 59:
        raise ValueError(f"invalid time {value!r}: the hour must be 00-23 and the minute 00-59")
    return time(hour, minute)


def parse_days(values: Sequence[str]) -> frozenset[int]:
    """Parse day names into weekday numbers (0 = Monday).

    Accepts ``mon``..``sun`` (or full names), ``daily``, ``weekdays`` and ``weekends``,
    in any case. A single string is read as one name.
    """
    allowed = "mon, tue, wed, thu, fri, sat, sun, daily, weekdays, weekends"
    names = [values] if isinstance(values, str) else list(values)
    if not names:
        raise ValueError(f"no days given: use one or more of {allowed}")
    days: set[int] = set()
    for name in names:
        key = name.strip().lower() if isinstance(name, str) else ""
        if key in _DAY_GROUPS:
            days |= _DAY_GROUPS[key]
        elif key in _DAY_NAMES:
            days.add(_DAY_NAMES.index(key))
        elif key in _FULL_DAY_NAMES:
            days.add(_FULL_DAY_NAMES.index(key))
        else:
            raise ValueError(f"unknown day {name!r}: use one or more of {allowed}")
    return frozenset(days)
