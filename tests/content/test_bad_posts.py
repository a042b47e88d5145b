"""A corpus of broken posts, each with the exact messages `amplifier check` must print.

``tests/data/bad_posts/*.md`` are mistakes a volunteer makes (impossible dates, ``{link}``
with no ``link:``, unknown placeholders, the common YAML slips, broken fences);
``bad_posts.expected`` lists, file by file, every ``file:line: message`` it must produce and
nothing else. Files named ``good-*`` must load, beside the broken ones.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import pytest

from amplifier.config import DEFAULT_LIMITS
from amplifier.content import Library, load_library

CORPUS = Path(__file__).parent.parent / "data" / "bad_posts"
EXPECTED_FILE = CORPUS / "bad_posts.expected"


def _expected() -> dict[str, list[str]]:
    """file name -> its expected 'file:line: message' lines (comments and blanks skipped)."""
    found: dict[str, list[str]] = defaultdict(list)
    for line in EXPECTED_FILE.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            found[line.split(":", 1)[0]].append(line)
    return dict(found)


EXPECTED = _expected()


@pytest.fixture(scope="module")
def library() -> Library:
    return load_library(CORPUS, campaigns=["fbt"], limits=DEFAULT_LIMITS)


def _said(library: Library, name: str) -> list[str]:
    return sorted(
        f"{Path(p.file).name}:{p.line}: {p.message}"
        for p in library.problems
        if Path(p.file).name == name
    )


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_bad_post_says_exactly_this(library: Library, name: str) -> None:
    """The file's problems are exactly the expected lines: line, wording, nothing more."""
    assert _said(library, name) == sorted(EXPECTED[name])


def test_corpus_lists_every_file() -> None:
    """Every broken file has its expected messages, and every entry names a real file."""
    files = {path.name for path in CORPUS.glob("*.md")}
    broken = {name for name in files if not name.startswith("good-")}
    assert broken == set(EXPECTED)
    assert len(broken) >= 40


def test_good_posts_beside_them_still_load(library: Library) -> None:
    """The good files load with no problem, values as written (an id or a language YAML
    would read as a number or as 'no' stays the text written)."""
    good = {path.name for path in CORPUS.glob("good-*.md")}
    assert {r.path.name for r in library.files if r.ok} == good
    assert not [p for p in library.problems if Path(p.file).name in good]
    assert set(library.originals) >= {"good-no-link", "good-with-link", "2026"}
    norwegian = library.originals["good-language-no"]
    assert (norwegian.language, norwegian.hashtags, norwegian.weight) == ("no", ("Yes",), 2)
