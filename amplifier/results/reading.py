"""The report read from the store: one function, so ``amplifier results`` and the console's
results page print the same figures from the same reads."""

from __future__ import annotations

from datetime import date, datetime, time, tzinfo
from zoneinfo import ZoneInfo

from amplifier.config import Settings
from amplifier.results.ages import configured_ages
from amplifier.results.report import COLUMNS, Report, build_report, report_from_totals
from amplifier.store import Store


def since_moment(day: date | None) -> datetime | None:
    """A since-date as the report reads it: that day's start in UTC."""
    return None if day is None else datetime.combine(day, time(), ZoneInfo("UTC"))


def read_report(
    settings: Settings,
    store: Store,
    by: str,
    *,
    campaign: str | None = None,
    since: datetime | None = None,
    age: str | None = None,
) -> Report:
    """The report grouped ``by``: summed by the database for a deliveries' column, else
    built from each post's latest snapshot. ``campaign`` and ``age`` are checked by callers."""
    final = configured_ages(settings)[-1][1]
    if by in COLUMNS:
        totals = store.results_totals(
            COLUMNS[by], campaign=campaign, since=since, age=age, final_age_seconds=final
        )
        return report_from_totals(totals, by, age)
    zones: dict[str, tzinfo] = {}
    for account in settings.accounts:
        schedule = settings.schedules.get(account.schedule)
        if schedule is not None:
            zones[account.name] = ZoneInfo(schedule.timezone)
    rows = store.results_rows(campaign=campaign, since=since, age=age)
    return build_report(
        rows, by, final_age_seconds=final, gone=store.gone_deliveries(), zones=zones, age=age
    )
