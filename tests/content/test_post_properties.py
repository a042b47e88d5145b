"""Nothing a volunteer can put in a post file makes the parser raise (Hypothesis).

Arbitrary bytes, arbitrary front matter built from the pieces people mistype (dates with any
digits, numbers, quotes, brackets, tabs, colons, '#'), arbitrary text after a good fence: each
file either loads or yields problems, every one naming the file and a line inside it. A valid
post built from generated pieces still loads with exactly those values.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from amplifier.config import DEFAULT_LIMITS
from amplifier.content import load_library
from amplifier.content.parse import parse_file
from amplifier.errors import Problem

SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
FIELDS = [
    "id", "campaign", "language", "source", "translation_of", "hashtags", "link", "networks",
    "weight", "valid_from", "valid_until", "content_warning", "allow_mentions", "media",
    "variants", "alt", "file", "x", "- file",
]  # fmt: skip
GOOD_HEAD = "---\nid: a-post\ncampaign: c\nlanguage: en\nsource: a report by someone\n---\n"


@pytest.fixture(scope="module")
def folder() -> Iterator[Path]:
    with tempfile.TemporaryDirectory() as name:
        yield Path(name)


def _parse(folder: Path, data: bytes) -> list[Problem]:
    path = folder / "post.md"
    path.write_bytes(data)
    template, problems, _ = parse_file(path)
    assert (template is None) == bool(problems)
    lines = len(re.split(rb"\r\n|\r|\n", data))  # as editors count them
    for problem in problems:
        assert problem.file == path
        if problem.message.startswith("binary file"):
            continue  # a binary file has no lines to point at
        assert problem.line is not None, problem
        assert 1 <= problem.line <= lines, (problem, lines)
        assert problem.message.strip()
    return problems


_digits = st.integers(0, 99).map(lambda n: f"{n:02d}")
_date_like = st.builds(
    lambda y, m, d, rest: f"{y}-{m}-{d}{rest}",
    st.integers(0, 9999).map(lambda n: f"{n:04d}"),
    _digits,
    _digits,
    st.sampled_from(["", " 25:61:61", "T10:00:00+99:00", " 10:00:00Z", "t1:2:3.5 -1"]),
)
_number_like = st.from_regex(r"\A[-+]?(0x|0b|0|\.)?[0-9a-f_.:eE+-]{0,12}\Z")
_tricky = st.sampled_from(
    ['"', "'", "[", "]", "{", "}", ":", ": ", "#", " #x", "\t", "@", "`", "*", "&", "!", "|",
     ">", "%", "-", "? ", ",", "\\", "~", "null", "yes", "<<", "\r", "\x85", "\u2028"]
)  # fmt: skip
_value = st.one_of(
    _date_like,
    _number_like,
    st.text(max_size=20),
    st.lists(st.one_of(_tricky, st.text(max_size=5)), max_size=6).map("".join),
)
_line = st.one_of(
    st.builds(
        lambda indent, key, sep, value: f"{indent}{key}{sep}{value}",
        st.sampled_from(["", " ", "  ", "    ", "\t", "- "]),
        st.sampled_from(FIELDS),
        st.sampled_from([": ", ":", ":\t", " : ", ": |\n  ", ""]),
        _value,
    ),
    st.text(max_size=30),
)
_front = st.lists(_line, max_size=12).map("\n".join)


@SETTINGS
@given(st.binary(max_size=300))
def test_any_bytes_load_without_raising(folder: Path, data: bytes) -> None:
    """Any bytes at all: problems with file and line, never an exception."""
    _parse(folder, data)


@SETTINGS
@given(_front, st.text(max_size=40))
def test_any_front_matter_loads_without_raising(folder: Path, front: str, body: str) -> None:
    """Front matter made of the pieces people mistype never raises; problems have lines."""
    _parse(folder, f"---\n{front}\n---\n{body}\n".encode())


@SETTINGS
@given(st.text(max_size=200))
def test_any_text_after_a_fence_loads_without_raising(folder: Path, text: str) -> None:
    """Any text after a valid head (placeholders, braces, fences again) never raises."""
    _parse(folder, (GOOD_HEAD + text).encode("utf-8", "surrogatepass"))


@SETTINGS
@given(
    post_id=st.from_regex(r"\A[a-z0-9][a-z0-9-]{0,20}\Z"),
    language=st.sampled_from(["en", "es", "fr", "haw"]),
    weight=st.integers(1, 100),
    start=st.dates(date(2000, 1, 1), date(2100, 12, 31)),
    days=st.integers(0, 400),
    tags=st.lists(st.from_regex(r"\A[A-Za-z][A-Za-z0-9_]{0,15}\Z"), max_size=3),
    body=st.text(
        st.characters(blacklist_categories=["Cs", "Cc"], blacklist_characters="{}"),
        min_size=1,
        max_size=80,
    ).filter(lambda text: text.strip() and text.strip() != "---"),
)
def test_a_valid_post_still_loads_from_generated_pieces(
    folder: Path,
    post_id: str,
    language: str,
    weight: int,
    start: date,
    days: int,
    tags: list[str],
    body: str,
) -> None:
    """A post built from valid generated values loads with exactly those values."""
    until = date.fromordinal(start.toordinal() + days)
    text = (
        f'---\nid: {post_id}\ncampaign: c\nlanguage: {language}\nsource: "a report"\n'
        f"weight: {weight}\nvalid_from: {start}\nvalid_until: {until}\n"
        f"hashtags: [{', '.join(tags)}]\n---\n{body}\n"
    )
    path = folder / "valid.md"
    path.write_text(text, encoding="utf-8")
    template, problems, _ = parse_file(path)
    assert not problems and template is not None, problems
    assert (template.id, template.language, template.weight) == (post_id, language, weight)
    assert (template.valid_from, template.valid_until) == (start, until)
    assert template.hashtags == tuple(tags)
    assert template.body == body.strip()


@SETTINGS
@given(
    st.text(st.characters(blacklist_characters="\x00"), max_size=300),
    st.sampled_from(["", "link: https://example.org/a\n"]),
)
def test_any_text_is_measured_on_every_network_without_raising(
    folder: Path, text: str, link: str
) -> None:
    """The library's own checks (placeholders, {link}, the length on each network through
    twitter-text and grapheme counts) never raise on any text; a good post beside it loads."""
    posts = folder / "library"
    posts.mkdir(exist_ok=True)
    head = GOOD_HEAD.replace("---\n", "", 1).rsplit("---\n", 1)[0]
    (posts / "any.md").write_text(
        f"---\n{head}{link}---\n{text}", encoding="utf-8", errors="surrogatepass"
    )
    (posts / "good.md").write_text(
        GOOD_HEAD.replace("a-post", "good") + "Fine.\n", encoding="utf-8"
    )
    library = load_library(posts, campaigns=["c"], limits=DEFAULT_LIMITS)
    assert "good" in library.originals
    for problem in library.problems:
        assert Path(problem.file).name == "any.md" and problem.line is not None, problem
