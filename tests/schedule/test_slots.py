"""Tests for amplifier.schedule.slots: schedules, filters, daylight saving, offsets, parsing."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from amplifier.config import parse_days, parse_time, validate_timezone
from amplifier.schedule.slots import (
    Slot,
    SlotSpec,
    next_slots,
    slots_between,
)

NY = ZoneInfo("America/New_York")
MADRID = ZoneInfo("Europe/Madrid")


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def spec(timezone: str = "America/New_York", *times: str, **kwargs: object) -> SlotSpec:
    return SlotSpec(timezone, tuple(parse_time(t) for t in times or ("09:00",)), **kwargs)  # type: ignore[arg-type]


def test_daily_times_give_exact_utc_instants_and_keys() -> None:
    """Two daily times in New York winter (UTC-5) map to 14:00Z and 23:30Z each day."""
    slots = slots_between(
        spec("America/New_York", "18:30", "09:00"), "a", utc(2026, 11, 23), utc(2026, 11, 26)
    )
    assert [s.due_at for s in slots] == [
        utc(2026, 11, 23, 14, 0),
        utc(2026, 11, 23, 23, 30),
        utc(2026, 11, 24, 14, 0),
        utc(2026, 11, 24, 23, 30),
        utc(2026, 11, 25, 14, 0),
        utc(2026, 11, 25, 23, 30),
    ]
    assert slots[0].key == "2026-11-23T09:00"
    assert slots[1].key == "2026-11-23T18:30"
    assert slots[0].nominal == datetime(2026, 11, 23, 9, 0, tzinfo=NY)
    assert slots[0].nominal.tzinfo == NY


def test_window_is_half_open() -> None:
    """A slot due exactly at start is included; one due exactly at end is not."""
    s = spec()
    slots = slots_between(s, "a", utc(2026, 11, 23, 14), utc(2026, 11, 24, 14))
    assert [x.key for x in slots] == ["2026-11-23T09:00"]


def test_weekdays_filter_skips_weekends() -> None:
    """days=weekdays gives ten slots over two weeks, none on Saturday or Sunday."""
    s = spec(days=parse_days(["weekdays"]))
    slots = slots_between(s, "a", utc(2026, 11, 23), utc(2026, 12, 7))
    assert len(slots) == 10
    assert all(x.nominal.weekday() < 5 for x in slots)


def test_blackout_dates_are_skipped() -> None:
    """A blackout date has no slots; its neighbours keep theirs."""
    s = spec(blackout_dates=frozenset({date(2026, 11, 26)}))
    keys = [x.key for x in slots_between(s, "a", utc(2026, 11, 25), utc(2026, 11, 28))]
    assert keys == ["2026-11-25T09:00", "2026-11-27T09:00"]


def test_start_and_end_dates_are_inclusive() -> None:
    """Slots exist on the start and end dates and nowhere outside them."""
    s = spec(start=date(2026, 11, 24), end=date(2026, 11, 26))
    keys = [x.key for x in slots_between(s, "a", utc(2026, 11, 1), utc(2026, 12, 31))]
    assert keys == ["2026-11-24T09:00", "2026-11-25T09:00", "2026-11-26T09:00"]


def test_new_york_spring_forward_gap_moves_forward_by_the_gap() -> None:
    """02:30 on 2026-03-08 does not exist in New York: it happens at 03:30 EDT (07:30Z)."""
    s = spec("America/New_York", "02:30", "09:00")
    slots = slots_between(s, "a", utc(2026, 3, 7), utc(2026, 3, 9))
    assert [(x.key, x.due_at) for x in slots] == [
        ("2026-03-07T02:30", utc(2026, 3, 7, 7, 30)),
        ("2026-03-07T09:00", utc(2026, 3, 7, 14, 0)),
        ("2026-03-08T02:30", utc(2026, 3, 8, 7, 30)),
        ("2026-03-08T09:00", utc(2026, 3, 8, 13, 0)),  # 09:00 stays 09:00 local (EDT)
    ]
    gap = slots[2].nominal
    assert (gap.hour, gap.minute, gap.utcoffset()) == (3, 30, timedelta(hours=-4))


def test_new_york_fall_back_ambiguous_time_happens_once_at_first_occurrence() -> None:
    """01:30 on 2026-11-01 happens twice in New York; the slot is the first one (05:30Z, EDT)."""
    s = spec("America/New_York", "01:30", "09:00")
    slots = slots_between(s, "a", utc(2026, 10, 31), utc(2026, 11, 2))
    assert [(x.key, x.due_at) for x in slots] == [
        ("2026-10-31T01:30", utc(2026, 10, 31, 5, 30)),
        ("2026-10-31T09:00", utc(2026, 10, 31, 13, 0)),
        ("2026-11-01T01:30", utc(2026, 11, 1, 5, 30)),
        ("2026-11-01T09:00", utc(2026, 11, 1, 14, 0)),  # now EST: UTC instant shifts
    ]
    assert slots[2].nominal.utcoffset() == timedelta(hours=-4)


def test_madrid_spring_forward_gap() -> None:
    """02:30 on 2026-03-29 does not exist in Madrid: it happens at 03:30 CEST (01:30Z)."""
    s = spec("Europe/Madrid", "02:30", "09:00")
    slots = slots_between(s, "a", utc(2026, 3, 28), utc(2026, 3, 30))
    assert [(x.key, x.due_at) for x in slots] == [
        ("2026-03-28T02:30", utc(2026, 3, 28, 1, 30)),
        ("2026-03-28T09:00", utc(2026, 3, 28, 8, 0)),
        ("2026-03-29T02:30", utc(2026, 3, 29, 1, 30)),
        ("2026-03-29T09:00", utc(2026, 3, 29, 7, 0)),
    ]
    assert (slots[2].nominal.hour, slots[2].nominal.minute) == (3, 30)


def test_madrid_fall_back_ambiguous_time() -> None:
    """02:30 on 2026-10-25 happens twice in Madrid; the slot is the first (00:30Z, CEST)."""
    s = spec("Europe/Madrid", "02:30", "09:00")
    slots = slots_between(s, "a", utc(2026, 10, 24), utc(2026, 10, 26))
    assert [(x.key, x.due_at) for x in slots] == [
        ("2026-10-24T02:30", utc(2026, 10, 24, 0, 30)),
        ("2026-10-24T09:00", utc(2026, 10, 24, 7, 0)),
        ("2026-10-25T02:30", utc(2026, 10, 25, 0, 30)),
        ("2026-10-25T09:00", utc(2026, 10, 25, 8, 0)),
    ]
    assert slots[2].nominal.tzinfo == MADRID
    assert slots[2].nominal.utcoffset() == timedelta(hours=2)


def test_random_offset_is_bounded_and_whole_seconds() -> None:
    """Every offset lies within +/- m minutes of the nominal instant, at second resolution."""
    s = spec("Europe/Madrid", "08:00", "13:15", "20:45", random_offset_minutes=20)
    slots = slots_between(s, "acct-7", utc(2026, 1, 1), utc(2026, 7, 1))
    offsets = [x.due_at - x.nominal for x in slots]
    assert len(slots) == 181 * 3
    assert all(abs(o) <= timedelta(minutes=20) for o in offsets)
    assert all(o.microseconds == 0 for o in offsets)
    # Spread over the whole range, not stuck at one value.
    assert min(offsets) < timedelta(minutes=-15) and max(offsets) > timedelta(minutes=15)
    assert all(x.due_at.tzinfo is UTC for x in slots)


def test_random_offset_is_deterministic_and_process_independent() -> None:
    """The same seed_key gives the same instants on every call; this value is pinned."""
    s = spec(random_offset_minutes=30)
    first = next_slots(s, "acct-1", utc(2026, 11, 22), 2)
    again = next_slots(s, "acct-1", utc(2026, 11, 22), 2)
    assert first == again
    # Derived with SHA-256, not hash(): fixed across processes and PYTHONHASHSEED values.
    assert first[0].due_at == utc(2026, 11, 22, 13, 56, 44)
    assert first[1].due_at == utc(2026, 11, 23, 13, 30, 4)


def test_random_offset_differs_between_seed_keys_but_not_keys() -> None:
    """Different accounts get different offsets for the same slot; the slot key is unchanged."""
    s = spec(random_offset_minutes=30)
    window = (utc(2026, 11, 1), utc(2026, 12, 1))
    mine = slots_between(s, "acct-1", *window)
    theirs = slots_between(s, "acct-2", *window)
    assert [x.key for x in mine] == [x.key for x in theirs]
    assert sum(a.due_at != b.due_at for a, b in zip(mine, theirs, strict=True)) >= 25


def test_offset_windows_tile_without_gaps_or_duplicates() -> None:
    """Consecutive windows together hold exactly the slots of the whole range."""
    s = spec("America/New_York", "00:05", "12:00", "23:55", random_offset_minutes=45)
    begin, finish = utc(2026, 2, 1), utc(2026, 4, 1)
    whole = slots_between(s, "k", begin, finish)
    pieces: list[Slot] = []
    cursor = begin
    while cursor < finish:
        step_end = min(cursor + timedelta(hours=7), finish)
        pieces += slots_between(s, "k", cursor, step_end)
        cursor = step_end
    assert [x.key for x in pieces] == [x.key for x in whole]
    assert len({x.key for x in whole}) == len(whole)


def test_next_slots_crosses_the_year_end() -> None:
    """Weekday slots after 2026-12-30 run into January 2027, skipping the weekend."""
    s = spec("Europe/Madrid", days=parse_days(["weekdays"]))
    slots = next_slots(s, "a", utc(2026, 12, 30, 12), 5)
    assert [x.key for x in slots] == [
        "2026-12-31T09:00",
        "2027-01-01T09:00",
        "2027-01-04T09:00",
        "2027-01-05T09:00",
        "2027-01-06T09:00",
    ]
    assert slots[1].due_at == utc(2027, 1, 1, 8, 0)


def test_next_slots_is_strictly_after_and_matches_slots_between() -> None:
    """A slot due exactly at `after` is excluded; results agree with slots_between."""
    s = spec("America/New_York", "09:00", "21:00", random_offset_minutes=90)
    after = slots_between(s, "z", utc(2026, 6, 1), utc(2026, 6, 2))[0].due_at
    found = next_slots(s, "z", after, 12)
    expected = [x for x in slots_between(s, "z", after, after + timedelta(days=30))][1:13]
    assert found == expected
    assert all(x.due_at > after for x in found)


def test_next_slots_stops_at_the_schedule_end_or_scan_limit() -> None:
    """A schedule that ends, or has no days, yields what exists instead of searching forever."""
    ending = spec(end=date(2026, 11, 25))
    assert [x.key for x in next_slots(ending, "a", utc(2026, 11, 23), 10)] == [
        "2026-11-23T09:00",
        "2026-11-24T09:00",
        "2026-11-25T09:00",
    ]
    assert next_slots(spec(days=frozenset()), "a", utc(2026, 1, 1), 3) == []
    assert next_slots(spec(), "a", utc(2026, 1, 1), 0) == []
    with pytest.raises(ValueError, match="n must be 0 or more"):
        next_slots(spec(), "a", utc(2026, 1, 1), -1)


def test_naive_datetimes_are_rejected() -> None:
    """start, end and after must carry a timezone."""
    naive = datetime(2026, 11, 23, 9)
    with pytest.raises(ValueError, match="start must be a timezone-aware datetime"):
        slots_between(spec(), "a", naive, utc(2026, 12, 1))
    with pytest.raises(ValueError, match="end must be a timezone-aware datetime"):
        slots_between(spec(), "a", utc(2026, 11, 1), naive)
    with pytest.raises(ValueError, match="after must be a timezone-aware datetime"):
        next_slots(spec(), "a", naive, 1)


def test_slots_sort_by_due_at() -> None:
    """Slot ordering follows due_at, whatever the nominal time."""
    early = Slot(utc(2026, 1, 1, 8), datetime(2026, 1, 1, 9, tzinfo=MADRID), "k2")
    late = Slot(utc(2026, 1, 1, 9), datetime(2026, 1, 1, 8, tzinfo=MADRID), "k1")
    assert sorted([late, early]) == [early, late]


@pytest.mark.parametrize(
    ("text", "expected"),
    [("09:00", time(9)), ("9:05", time(9, 5)), (" 23:59 ", time(23, 59)), ("00:00", time(0))],
)
def test_parse_time_accepts_24_hour_hh_mm(text: str, expected: time) -> None:
    """Valid HH:MM strings parse to local times."""
    assert parse_time(text) == expected


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("9am", "use 24-hour HH:MM such as '09:00' or '18:30'"),
        ("09:00:00", "use 24-hour HH:MM"),
        ("", "use 24-hour HH:MM"),
        ("24:00", "hour must be 00-23 and the minute 00-59"),
        ("12:60", "hour must be 00-23 and the minute 00-59"),
    ],
)
def test_parse_time_rejects_with_what_is_allowed(text: str, fragment: str) -> None:
    """Bad times raise ValueError quoting the value and the allowed form."""
    with pytest.raises(ValueError, match=f"invalid time {text!r}: .*") as info:
        parse_time(text)
    assert fragment in str(info.value)


def test_parse_days_names_and_groups() -> None:
    """Short names, full names and groups parse case-insensitively into weekday numbers."""
    assert parse_days(["Mon", "WED", "friday"]) == frozenset({0, 2, 4})
    assert parse_days(["weekdays"]) == frozenset(range(5))
    assert parse_days(["Weekends", "mon"]) == frozenset({0, 5, 6})
    assert parse_days(["daily"]) == frozenset(range(7))
    assert parse_days("sun") == frozenset({6})


def test_parse_days_rejects_bad_values_naming_them() -> None:
    """An unknown day name or an empty list raises ValueError listing what is allowed."""
    with pytest.raises(ValueError, match=r"unknown day 'funday': use one or more of mon, tue"):
        parse_days(["mon", "funday"])
    with pytest.raises(ValueError, match=r"no days given: .*weekdays, weekends"):
        parse_days([])


def test_validate_timezone() -> None:
    """IANA names pass through; unknown or malformed names raise the helpful message."""
    assert validate_timezone("Europe/Madrid") == "Europe/Madrid"
    message = (
        "unknown timezone 'Mars/Olympus': use an IANA name such as "
        "'America/New_York' or 'Europe/Madrid'"
    )
    with pytest.raises(ValueError) as info:
        validate_timezone("Mars/Olympus")
    assert str(info.value) == message
    for bad in ("../etc/passwd", "America", "/abs"):
        with pytest.raises(ValueError, match="unknown timezone"):
            validate_timezone(bad)
    with pytest.raises(ValueError, match="missing timezone"):
        validate_timezone("")


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"timezone": "Mars/Olympus"}, "unknown timezone"),
        ({"days": frozenset({7})}, "days must be 0"),
        ({"random_offset_minutes": -1}, "random_offset_minutes must be 0 or more"),
        ({"start": date(2026, 2, 1), "end": date(2026, 1, 1)}, "is after its end"),
        ({"times": (time(9, tzinfo=UTC),)}, "without a timezone"),
    ],
)
def test_slot_spec_validates_its_fields(kwargs: dict[str, object], fragment: str) -> None:
    """A SlotSpec built from bad config raises ValueError saying what is wrong."""
    fields: dict[str, object] = {"timezone": "Europe/Madrid", "times": (time(9),), **kwargs}
    with pytest.raises(ValueError, match=fragment):
        SlotSpec(**fields)  # type: ignore[arg-type]


def test_slot_spec_normalises_times() -> None:
    """Times are sorted and de-duplicated so keys stay unique."""
    s = SlotSpec("UTC", (time(18), time(9), time(18)))
    assert s.times == (time(9), time(18))
