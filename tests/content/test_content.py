"""Loading posts: a mixed folder of good and broken files.

Each broken file yields one clear problem with its file and line; the good files beside them
are still loaded, translations included.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from amplifier.config import load_settings
from amplifier.content import Library, load_library
from amplifier.networks.base import NETWORK_NAMES

DATA = Path(__file__).parent.parent / "data"
MIXED = DATA / "mixed_posts"

# file -> (line or None, fragment of the message)
EXPECTED = {
    "no-front-matter.md": (1, "missing front matter"),
    "bad-yaml.md": (6, "not valid YAML"),
    "wrong-type.md": (6, "'weight'"),
    "empty-body.md": (6, "empty text"),
    "unknown-placeholder.md": (8, "{name}"),
    "dunder.md": (7, "x.__class__"),
    "too-long.md": (7, "too long for x"),
    "missing-alt.md": (7, "no alt text"),
    "binary.md": (None, "binary file"),
    "invalid-utf8.md": (7, "not UTF-8"),
    "unknown-network.md": (6, "myspace"),
    "unknown-campaign.md": (3, "unknown campaign 'save-the-whales'"),
    "missing-source.md": (2, "'source'"),
    "dup-a.md": (2, "also used by"),
    "dup-b.md": (2, "also used by"),
    "orphan.es.md": (3, "names no post"),
    "unknown-field.md": (6, "unknown field 'hastags'"),
}


@pytest.fixture(scope="module")
def library() -> Library:
    settings = load_settings(DATA / "test_config.toml")
    return load_library(
        settings.posts_path,
        campaigns=settings.campaigns,
        limits={n: settings.networks.limits(n) for n in NETWORK_NAMES},
    )


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_broken_file_reported_with_line(library: Library, name: str) -> None:
    """The broken file has a problem at the expected line whose message says why."""
    line, fragment = EXPECTED[name]
    found = [p for p in library.problems if Path(p.file).name == name]
    assert found, f"no problem reported for {name}"
    assert any(p.line == line and fragment in p.message for p in found), [str(p) for p in found]


def test_one_message_per_broken_file(library: Library) -> None:
    """Broken files say what is wrong once, not a cascade of follow-on errors."""
    for name in EXPECTED:
        found = [p for p in library.problems if Path(p.file).name == name]
        assert len(found) == 1, [str(p) for p in found]


def test_good_files_still_loaded(library: Library) -> None:
    """Valid posts beside broken ones load, with the translation linked to its original."""
    assert set(library.originals) == {"good-one", "good-two"}
    assert library.version("good-two", "es") is not None
    spanish = library.version("good-two", "es")
    assert spanish is not None and spanish.body.startswith("Pedir asilo")
    assert spanish.hashtags == ("AsylumIsARight",)  # inherited from the original
    assert library.version("good-one", "es") is None
    ok_files = {r.path.name for r in library.files if r.ok}
    assert ok_files == {"good-one.md", "good-two.md", "good-two.es.md"}
    assert "README.md" not in {r.path.name for r in library.files}


def test_placeholder_is_never_evaluated(library: Library) -> None:
    """{x.__class__} is reported as a problem, not formatted into anything."""
    problem = next(p for p in library.problems if Path(p.file).name == "dunder.md")
    assert "<class" not in problem.message


def test_too_long_reports_measured_length(library: Library) -> None:
    """The length error gives the measured length and the limit."""
    problem = next(p for p in library.problems if Path(p.file).name == "too-long.md")
    assert "359 of 280" in problem.message


def test_sample_posts_all_valid(repo_root: Path) -> None:
    """The shipped posts folder passes every check, with enough posts and Spanish versions."""
    settings = load_settings(repo_root / "config.example.toml")
    library = load_library(
        settings.posts_path,
        campaigns=settings.campaigns,
        limits={n: settings.networks.limits(n) for n in NETWORK_NAMES},
    )
    assert [str(p) for p in library.problems] == []
    assert len(library.originals) >= 24
    spanish = [t for t in library.translations.values() if "es" in t]
    assert len(spanish) >= 6
    for template in library.originals.values():
        assert template.source, template.id
