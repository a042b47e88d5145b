"""``sensitive:``: a post's media marked sensitive (Mastodon) and labelled graphic-media
(Bluesky); a translation inherits it unless it says otherwise; ``check`` suggests it where the
content warning speaks of deaths or detention conditions."""

from __future__ import annotations

from pathlib import Path

from amplifier.check import run_check
from amplifier.config import load_settings
from amplifier.content import Library, load_library
from amplifier.networks.base import NETWORK_NAMES

CONFIG = '[campaigns.c]\nlanguage = "en"\n'
HEAD = "---\nid: {id}\ncampaign: c\nlanguage: en\nsource: a report\n"


def _library(tmp_path: Path, files: dict[str, str]) -> Library:
    folder = tmp_path / "posts"
    folder.mkdir(exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    (tmp_path / "config.toml").write_text(CONFIG)
    settings = load_settings(tmp_path / "config.toml")
    limits = {n: settings.networks.limits(n) for n in NETWORK_NAMES}
    return load_library(folder, campaigns=settings.campaigns, limits=limits)


def test_sensitive_is_read_and_inherited(tmp_path: Path) -> None:
    """true and false are read; a translation inherits the original's unless it sets its own."""
    library = _library(tmp_path, {
        "a.md": HEAD.format(id="a") + "sensitive: true\n---\nText a\n",
        "b.md": HEAD.format(id="b") + "---\nText b\n",
        "a.es.md": "---\nid: a-es\ntranslation_of: a\nlanguage: es\n---\nTexto a\n",
        "a.fr.md": "---\nid: a-fr\ntranslation_of: a\nlanguage: fr\nsensitive: false\n---\nT\n",
    })  # fmt: skip
    assert library.problems == ()
    assert library.originals["a"].sensitive is True
    assert library.originals["b"].sensitive is False
    assert library.translations["a"]["es"].sensitive is True
    assert library.translations["a"]["fr"].sensitive is False


def test_a_sensitive_that_is_not_true_or_false_is_a_problem(tmp_path: Path) -> None:
    """Anything but a yes/no is refused at its line with what to write."""
    library = _library(tmp_path, {"a.md": HEAD.format(id="a") + "sensitive: maybe\n---\nT\n"})
    [problem] = library.problems
    assert (problem.line, problem.message) == (6, "'sensitive': write true or false (got 'maybe')")


def test_check_suggests_sensitive_for_deaths_and_detention_conditions(tmp_path: Path) -> None:
    """A content warning naming deaths or detention conditions without sensitive: a warning at
    its line; marked sensitive, or a warning on another subject, says nothing."""
    _library(tmp_path, {
        "a.md": HEAD.format(id="a") + 'content_warning: "deaths of children"\n---\nT\n',
        "b.md": HEAD.format(id="b") + 'content_warning: "child detention conditions"\n'
        "sensitive: true\n---\nT\n",
        "c.md": HEAD.format(id="c") + 'content_warning: "politics"\n---\nT\n',
        "d.md": HEAD.format(id="d") + 'content_warning: "muerte de niños"\n---\nT\n',
    })  # fmt: skip
    report = run_check(tmp_path / "config.toml", tmp_path / "posts")
    suggestions = [p for p in report.problems if "add 'sensitive: true'" in p.message]
    said = [(Path(p.file).name, p.line, p.severity) for p in suggestions]
    assert said == [("a.md", 6, "warning"), ("d.md", 6, "warning")]
    assert report.ok
