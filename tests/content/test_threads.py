"""Posts written as threads: parts split at '+++' lines, each rendered and measured on its own,
every mistake at the line of its part."""

from __future__ import annotations

from pathlib import Path

from amplifier.config import DEFAULT_LIMITS
from amplifier.content import PartTooLong, load_library, render_parts, split_parts
from amplifier.networks.base import NETWORK_NAMES

HEAD = "---\nid: t\ncampaign: c\nlanguage: en\nsource: test\nlink: https://example.org/r\n---\n"


def _load(tmp_path: Path, body: str) -> list[str]:
    (tmp_path / "t.md").write_text(HEAD + body)
    library = load_library(tmp_path, campaigns=["c"], limits=DEFAULT_LIMITS)
    return [f"{p.line}: {p.message}" for p in library.problems]


def test_parts_split_at_marker_lines_only() -> None:
    text = "One.\n +++ \nTwo, with a+++b inside.\n\n+++\n\nThree."
    parts = split_parts(text)
    assert [p.text for p in parts] == ["One.", "Two, with a+++b inside.", "Three."]
    assert [p.line for p in parts] == [0, 2, 6]
    assert [p.text for p in split_parts("No thread here.\n++++")] == ["No thread here.\n++++"]


def test_link_and_hashtags_go_to_the_first_part_unless_a_part_holds_them() -> None:
    limits = DEFAULT_LIMITS["mastodon"]
    parts = render_parts("Start.\n+++\nEnd.", network="mastodon", limits=limits,
                         link="https://example.org/r", hashtags=["Vote"])  # fmt: skip
    assert [p.text for p in parts] == ["Start. https://example.org/r\n\n#Vote", "End."]
    parts = render_parts("Start.\n+++\nRead {link}", network="mastodon", limits=limits,
                         link="https://example.org/r", hashtags=["Vote"])  # fmt: skip
    assert [p.text for p in parts] == ["Start.\n\n#Vote", "Read https://example.org/r"]
    assert [p.link for p in parts] == [None, "https://example.org/r"]


def test_a_part_too_long_is_named_at_its_own_line(tmp_path: Path) -> None:
    """Each part is measured against the limit alone: three parts of 250 characters fit X,
    one of 300 is reported at the line it starts on (the file's line 14)."""
    fine = "A" * 250
    assert _load(tmp_path, f"{fine}\n+++\n{fine}\n+++\n{fine}\n") == []
    problems = _load(tmp_path, f"{fine}\n+++\n{fine}\n\n+++\n\n{'B' * 300}\n")
    assert len(problems) == 1
    assert problems[0].startswith("14: part 3 of the thread: too long for x: 300 of 280")
    try:
        render_parts(f"ok\n+++\n{'B' * 300}", network="x", limits=DEFAULT_LIMITS["x"],
                     link=None, hashtags=())  # fmt: skip
    except PartTooLong as error:
        assert (error.index, error.line) == (1, 2)
    else:
        raise AssertionError("a part over the limit must not render")


def test_thread_mistakes_are_named_at_their_lines(tmp_path: Path) -> None:
    problems = _load(tmp_path, "One.\n+++\n\n+++\nThree.\n")
    assert problems == [
        "10: part 2 of the thread is empty: write its text, or remove the '+++' line"
    ]
    problems = _load(tmp_path, "Read {link}\n+++\nAgain {link}\n")
    assert problems == ["10: {link} is in parts 1 and 2: keep it in one"]
    eleven = "\n+++\n".join(f"Part {n}." for n in range(1, 12))
    problems = _load(tmp_path, eleven + "\n")
    assert problems == ["28: a thread has at most 10 parts, this one 11: shorten it"]


def test_every_network_measures_each_part(tmp_path: Path) -> None:
    """A part of 301: over X's 280 and Bluesky's 300, within Mastodon's 500; one message at
    the part's line names both networks."""
    problems = _load(tmp_path, f"Short.\n+++\n{'C' * 301}\n")
    assert len(problems) == 1 and problems[0].startswith("10: part 2 of the thread")
    named = {name for name in NETWORK_NAMES if f"too long for {name}" in problems[0]}
    assert named == {"x", "bluesky"}
