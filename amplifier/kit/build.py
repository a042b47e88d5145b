"""Writing the kit: pages, the chooser, the stylesheet and script, the images, into OUT.

OUT is made if missing; a folder the kit wrote before (it holds the ``.amplifier-kit``
marker) is emptied first, so a post taken out of ``posts/`` leaves no stale page. Any other
folder that is not empty is refused: a kit never deletes what it did not write.
"""

from __future__ import annotations

import gc
import hashlib
import shutil
from dataclasses import dataclass
from datetime import date
from importlib.resources import files
from pathlib import Path
from urllib.parse import quote

from amplifier.config import Settings
from amplifier.content import Library
from amplifier.errors import AmplifierError
from amplifier.kit.cards import KitPage, build_pages
from amplifier.kit.pages import PageLinks, chooser_file, page_file
from amplifier.kit.site import campaign_page, chooser_page, index_page

MARKER = ".amplifier-kit"
ASSETS = ("kit.css", "kit.js")


class KitError(AmplifierError):
    """The kit cannot be built as asked (an unusable OUT folder); the message says why."""


@dataclass(frozen=True)
class BuiltKit:
    out: Path
    files: tuple[str, ...]  # pages written, relative to OUT
    pages: tuple[KitPage, ...]

    @property
    def cards(self) -> int:
        return sum(len(page.cards) for page in self.pages)


def _prepare(out: Path) -> None:
    if out.exists() and not out.is_dir():
        raise KitError(f"{out} is a file; give a folder for the kit (it is made if missing)")
    if out.is_dir() and any(out.iterdir()):
        if not (out / MARKER).is_file():
            raise KitError(
                f"{out} is not empty and holds no kit built before; give a new or empty "
                "folder (a kit folder is emptied and built again, nothing else is touched)"
            )
        for child in out.iterdir():
            if child.is_dir() and not child.is_symlink():
                shutil.rmtree(child)
            else:
                child.unlink()
    try:
        out.mkdir(parents=True, exist_ok=True)
        (out / MARKER).write_text("built by amplifier kit build\n", encoding="utf-8")
    except OSError as error:
        raise KitError(f"cannot write the kit to {out}: {error.strerror or error}") from None


class _Media:
    """Images copied into OUT/images under their path in the posts folder, each once."""

    def __init__(self, out: Path, posts: Path) -> None:
        self.out = out
        self.posts = posts.resolve()
        self.copied: dict[str, str] = {}

    def url(self, source: str) -> str:
        if source in self.copied:
            return self.copied[source]
        path = Path(source).resolve()
        try:
            relative = path.relative_to(self.posts).as_posix()
        except ValueError:  # the library keeps images inside the folder; never guess a path
            digest = hashlib.sha256(str(path).encode()).hexdigest()[:12]
            relative = f"{digest}/{path.name}"
        target = self.out / "images" / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)
        self.copied[source] = url = "images/" + quote(relative)
        return url


def build_kit(
    settings: Settings,
    library: Library,
    out: Path,
    *,
    campaigns: list[str],
    seed: str,
    today: date,
    base_url: str | None = None,
    posts: Path | None = None,
) -> BuiltKit:
    """Write the kit for ``campaigns`` (names the config holds) into ``out``."""
    base = base_url.rstrip("/") + "/" if base_url else None
    _prepare(out)
    # The library and the cards are many objects that live to the end: the cyclic collector
    # would walk them again and again (a fifth of a large build) and free nothing.
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _write(settings, library, out, campaigns, seed, today, base, posts)
    finally:
        if collecting:
            gc.enable()


def _write(
    settings: Settings,
    library: Library,
    out: Path,
    campaigns: list[str],
    seed: str,
    today: date,
    base: str | None,
    posts: Path | None,
) -> BuiltKit:
    media = _Media(out, posts or settings.posts_path)
    pages = build_pages(settings, library, campaigns, seed=seed, today=today)
    written: list[str] = []
    for page in pages:
        siblings = {
            other.language: page_file(other.campaign, other.language)
            for other in pages
            if other.campaign == page.campaign
        }
        file = siblings[page.language]
        html = campaign_page(page, PageLinks(file, siblings, base), media.url)
        (out / file).write_text(html, encoding="utf-8")
        written.append(file)
    for language in dict.fromkeys(page.language for page in pages):
        file = chooser_file(language)
        (out / file).write_text(chooser_page(language, base), encoding="utf-8")
        written.append(file)
    (out / "index.html").write_text(index_page(pages, base), encoding="utf-8")
    written.insert(0, "index.html")
    static = files("amplifier.kit") / "static"
    for asset in ASSETS:
        (out / asset).write_bytes((static / asset).read_bytes())
    return BuiltKit(out, tuple(written), tuple(pages))
