"""Results (/results, /results.csv): the report ``amplifier results`` prints, with the same
filters (campaign, grouping, since-date, age; the date is a day of the organizers' timezone,
as on the history page), a bar chart of engagements per post drawn as SVG on the server, and
the same rows as CSV."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from amplifier.results import FORMATS, GROUPINGS, Report, configured_ages, read_report
from amplifier.web import params
from amplifier.web.chart import bar_chart
from amplifier.web.console import Console
from amplifier.web.guard import console, reader
from amplifier.web.render import page

FILTERS = ("campaign", "by", "since", "age")
DEFAULT_BY = "template"


@dataclass(frozen=True)
class Wanted:
    by: str
    campaign: str | None
    since: datetime | None
    age: str | None
    filters: dict[str, str]  # as given (empty values dropped), for the links


def _day_start(day: date | None, zone: ZoneInfo) -> datetime | None:
    """A since-date as the console's other date filters read it: the start of that day in
    the organizers' timezone (``amplifier results --since`` has no such zone: UTC)."""
    if day is None:
        return None
    try:
        return datetime.combine(day, time(), zone).astimezone(ZoneInfo("UTC"))
    except OverflowError:
        raise params.BadParameter("since is out of range") from None


def _wanted(request: Request, current: Console) -> Wanted:
    query = request.query_params
    params.check_names(query, FILTERS)
    by = params.choice(query, "by", GROUPINGS) or DEFAULT_BY
    campaign = params.choice(query, "campaign", current.settings.campaigns)
    ages = [label for label, _ in configured_ages(current.settings)]
    age = params.choice(query, "age", ages)
    since = _day_start(params.day(query, "since"), current.access.timezone)
    kept = {k: v for k, v in query.items() if k in FILTERS and v}
    return Wanted(by, campaign, since, age, kept)


def _read(current: Console, wanted: Wanted) -> Report:
    return read_report(
        current.settings, current.store, wanted.by,
        campaign=wanted.campaign, since=wanted.since, age=wanted.age,
    )  # fmt: skip


async def results_page(request: Request) -> Response:
    who = reader(request)
    current = console(request)
    wanted = _wanted(request, current)
    report = await run_in_threadpool(_read, current, wanted)
    chart = bar_chart([(g.key, g.per_post) for g in report.groups])
    return page(
        request, "results.html", who, title="Results", report=report, chart=chart,
        rows=[g.as_dict() for g in report.groups], filters=wanted.filters,
        by=wanted.by, groupings=GROUPINGS, campaigns=sorted(current.settings.campaigns),
        ages=[label for label, _ in configured_ages(current.settings)],
        zone=current.access.timezone,
    )  # fmt: skip


async def results_csv(request: Request) -> Response:
    reader(request)
    current = console(request)
    wanted = _wanted(request, current)
    report = await run_in_threadpool(_read, current, wanted)
    name = f"results-by-{wanted.by}" + (f"-{wanted.age}" if wanted.age else "") + ".csv"
    return Response(
        FORMATS["csv"](report),
        media_type="text/csv; charset=utf-8",
        headers={"content-disposition": f'attachment; filename="{name}"',
                 "cache-control": "no-store"},
    )  # fmt: skip
