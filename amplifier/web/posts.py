"""Posts (/posts): the library as ``amplifier check`` sees it: each problem at its file and
line, each post rendered per network with its length against the limit, its languages, the
accounts that may send it today, and a link to its own history."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from amplifier.check import display_path
from amplifier.content import Template, TooLong, media_kind, post_link, render_parts
from amplifier.errors import AmplifierError, Problem
from amplifier.schedule import candidates
from amplifier.web import params
from amplifier.web.console import Console
from amplifier.web.guard import console, reader
from amplifier.web.render import page


@dataclass(frozen=True)
class Rendering:
    network: str
    text: str | None
    length: int | None
    limit: int
    problem: str | None


@dataclass(frozen=True)
class MediaView:
    name: str
    kind: str  # "image", "video", "GIF" or "unreadable file"
    alt: str


@dataclass(frozen=True)
class Version:
    language: str
    where: str
    renderings: tuple[Rendering, ...]
    media: tuple[MediaView, ...] = ()


@dataclass(frozen=True)
class PostView:
    id: str
    campaign: str
    weight: int
    versions: tuple[Version, ...]
    accounts: tuple[str, ...]
    problems: tuple[str, ...]


def _render(console: Console, template: Template) -> Version:
    settings = console.settings
    campaign = settings.campaigns.get(template.campaign)
    tags = [*(campaign.hashtags.always if campaign else ()), *template.hashtags]
    found = []
    for network in sorted(template.networks):
        limits = settings.networks.limits(network)
        link = post_link(settings, template, network)  # tagged, as the accounts post it
        try:
            parts = render_parts(
                template.text_for(network), network=network, limits=limits,
                link=link.url if link else None, hashtags=tags,
                shown_link=link.shown if link else None,
            )  # fmt: skip
            for number, rendered in enumerate(parts, 1):  # a thread: each part on its own
                label = f"{network}, part {number} of {len(parts)}" if len(parts) > 1 else network
                found.append(Rendering(label, rendered.text, rendered.length, rendered.limit, None))
        except (TooLong, AmplifierError, ValueError) as error:
            found.append(Rendering(network, None, None, limits.max_length, str(error)))
    where = f"{display_path(template.path)}:{template.body_line}"
    media = tuple(_media_view(item.path, item.alt) for item in template.media)
    return Version(template.language, where, tuple(found), media)


def _media_view(path: Path, alt: str) -> MediaView:
    kind = media_kind(path)
    return MediaView(path.name, {"gif": "GIF", "unknown": "unreadable file"}.get(kind, kind), alt)


def _problem_line(problem: Problem) -> str:
    return str(Problem(display_path(problem.file), problem.line, problem.message, problem.severity))


def posts_view(console: Console, today: date) -> tuple[list[PostView], list[str]]:
    """Every valid post with its versions, and every problem of the report as file:line."""
    settings, library = console.settings, console.library
    eligible = {
        account.name: set(candidates(settings, library, account, today))
        for account in settings.accounts
        if account.enabled
    }
    by_file: dict[str, list[Problem]] = {}
    for problem in console.report.problems:
        by_file.setdefault(str(Path(problem.file)), []).append(problem)
    views = []
    for post_id, template in sorted(library.originals.items()):
        versions = [template, *library.translations.get(post_id, {}).values()]
        problems = [p for t in versions for p in by_file.get(str(t.path), [])]
        views.append(
            PostView(
                id=post_id,
                campaign=template.campaign,
                weight=template.weight,
                versions=tuple(_render(console, t) for t in versions),
                accounts=tuple(name for name, ids in eligible.items() if post_id in ids),
                problems=tuple(_problem_line(p) for p in problems),
            )
        )
    return views, [_problem_line(p) for p in console.report.problems]


async def posts_page(request: Request) -> Response:
    who = reader(request)
    params.check_names(request.query_params, [])
    current = console(request)
    today = current.clock().astimezone(current.access.timezone).date()
    cache = request.app.state.__dict__.setdefault("posts_cache", {})
    if today not in cache:
        cache.clear()
        cache[today] = await run_in_threadpool(posts_view, current, today)
    views, problems = cache[today]
    errors = sum(1 for p in current.report.problems if p.severity == "error")
    return page(
        request, "posts.html", who, title="Posts", posts=views, problems=problems,
        errors=errors, warnings=len(problems) - errors, files=len(current.library.files),
    )  # fmt: skip
