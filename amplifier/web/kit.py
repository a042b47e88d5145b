"""/kit: the supporters' share kit, public (no sign-in), built from the console's own posts.

The kit is what ``amplifier kit build`` writes for every campaign, with the config's seed:
built on the first request of each day (the posts valid that day) into a folder of the
console's own, and served from there. Its pages load only their own stylesheet and script,
which the console's Content-Security-Policy allows. No absolute address goes in the pages
(a request's Host header is not trusted to name the site).
"""

from __future__ import annotations

import shutil
import tempfile
import threading
import weakref
from datetime import date
from pathlib import Path

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, RedirectResponse, Response

from amplifier.kit import build_kit
from amplifier.web.console import Console
from amplifier.web.guard import console


class KitSite:
    """The kit's folder for one console, built again when the day changes."""

    def __init__(self) -> None:
        self._root = Path(tempfile.mkdtemp(prefix="amplifier-kit-"))
        self._finalizer = weakref.finalize(self, shutil.rmtree, self._root, True)
        self._lock = threading.Lock()
        self._day: date | None = None

    def folder(self, current: Console) -> Path:
        """The kit for the console's posts as of today, built now if it is not yet."""
        today = current.clock().date()
        out = self._root / "site"
        with self._lock:
            if self._day != today:
                build_kit(
                    current.settings,
                    current.library,
                    out,
                    campaigns=sorted(current.settings.campaigns),
                    seed=current.settings.seed,
                    today=today,
                    posts=Path(current.posts_path) if current.posts_path else None,
                )
                self._day = today
        return out


async def kit_root(request: Request) -> Response:
    return RedirectResponse("/kit/", status_code=308)


async def kit_file(request: Request) -> Response:
    site: KitSite = request.app.state.kit
    folder = (await run_in_threadpool(site.folder, console(request))).resolve()
    wanted = str(request.path_params.get("path") or "index.html")
    target = (folder / wanted).resolve()
    if not target.is_relative_to(folder) or not target.is_file() or target.name.startswith("."):
        raise HTTPException(404, "no such page in the share kit")
    return FileResponse(target)
