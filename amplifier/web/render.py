"""Pages from the Jinja2 templates, with what every page shows (who is signed in, the menu)."""

from __future__ import annotations

from datetime import datetime, tzinfo
from functools import lru_cache
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import HTMLResponse

from amplifier.web.security import Visitor, csrf_token

MENU = (
    ("/", "Calendar"),
    ("/history", "History"),
    ("/status", "Status"),
    ("/review", "Review"),
    ("/posts", "Posts"),
    ("/results", "Results"),
)

templates = Environment(
    loader=PackageLoader("amplifier.web", "templates"),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
    auto_reload=False,  # the templates ship with the package: no stat() of each per request
)


DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def when(moment: datetime | None, zone: tzinfo | None = None) -> str:
    """'Sat 5 Dec 2026 14:05 CET' in ``zone`` (default: as stored, UTC); English whatever the
    process's locale, and without strftime, which costs more than the conversion."""
    if moment is None:
        return "-"
    if zone is None:
        return _written(moment)
    return _written_in(moment, zone)


@lru_cache(maxsize=4096)
def _written_in(moment: datetime, zone: tzinfo) -> str:
    """A moment in a zone, kept: the pages show the same slots, posts and resets request after
    request. Equal moments (the same instant, whatever their tzinfo) read the same in a zone."""
    return _written(moment.astimezone(zone))


def _written(s: datetime) -> str:
    month, zone_name = MONTHS[s.month - 1], s.tzname() or ""
    return f"{DAYS[s.weekday()]} {s.day} {month} {s.year} {s.hour:02d}:{s.minute:02d} {zone_name}"


def clock(moment: datetime, zone: tzinfo) -> str:
    """'14:05 CET' in ``zone``."""
    return moment.astimezone(zone).strftime("%H:%M %Z")


templates.filters["when"] = when
templates.filters["clock"] = clock


def _menu(current: str | None) -> Markup:
    """The menu's items, the page's own marked: the same few strings on every request, so
    escaped and joined once (each value a template writes costs an escape call)."""
    return Markup("\n").join(
        Markup('      <li><a href="{}"{}>{}</a></li>').format(
            href, Markup(' aria-current="page"') if href == current else "", label
        )
        for href, label in MENU
    )


NAV = {href: _menu(href) for href, _ in MENU}
NAV_ELSEWHERE = _menu(None)  # a page not in the menu (an error, sign-in)


@lru_cache(maxsize=64)
def options(values: tuple[str, ...], selected: str | None = None) -> Markup:
    """``<option>`` elements for these values, each escaped, ``selected`` marked: the same few
    lists on every request (accounts, states, campaigns, posts), so built once each."""
    return Markup("").join(
        Markup("<option{}>{}</option>").format(
            Markup(" selected") if value == selected else "", value
        )
        for value in values
    )


def page(
    request: Request,
    template: str,
    visitor: Visitor | None,
    *,
    title: str,
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    html = templates.get_template(template).render(
        nav=NAV.get(request.url.path, NAV_ELSEWHERE),
        visitor=visitor,
        csrf=csrf_token(request),
        title=title,
        **context,
    )
    return HTMLResponse(html, status_code=status_code, headers={"cache-control": "no-store"})
