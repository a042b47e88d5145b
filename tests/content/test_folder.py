"""The posts folder walked: every file or folder left out is named, none vanishes.

What the walk cannot use is said by name: broken links (a moved post, a loop) are errors and
count as invalid posts; a folder named like a post, a link back to a folder already read, a
file that looks like a post under another name are warnings; an unreadable file or folder is
an error naming it. The good posts beside them still load.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from amplifier.config import DEFAULT_LIMITS
from amplifier.content import Library, load_library

POST = '---\nid: {id}\ncampaign: fbt\nlanguage: en\nsource: "A test document"\n---\nText {id}.\n'


def _post(path: Path, post_id: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(POST.format(id=post_id), encoding="utf-8")


def _load(folder: Path) -> Library:
    return load_library(folder, campaigns=["fbt"], limits=DEFAULT_LIMITS)


def _said(library: Library) -> dict[str, tuple[str, str]]:
    """file name -> (severity, message), one problem per file in these tests."""
    said: dict[str, tuple[str, str]] = {}
    for problem in library.problems:
        name = Path(problem.file).name
        assert name not in said, library.problems
        said[name] = (problem.severity, problem.message)
    return said


def test_every_file_left_out_is_named(tmp_path: Path) -> None:
    """A folder named like a post (its posts are read), a link back to a folder already read,
    files that look like posts under other names: each named, a warning, nothing lost; a
    README, media and .git are passed over quietly."""
    _post(tmp_path / "good.md", "good")
    _post(tmp_path / "folder.md" / "inside.md", "inside")
    _post(tmp_path / "draft.markdown", "draft")
    _post(tmp_path / "shout.MD", "shout")
    _post(tmp_path / "notes.md.txt", "notes")
    (tmp_path / "no-extension").write_text(POST.format(id="bare"), encoding="utf-8")
    (tmp_path / "again").symlink_to(".", target_is_directory=True)
    (tmp_path / "README.md").write_text("# How to write posts\n", encoding="utf-8")
    (tmp_path / "poster.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    _post(tmp_path / ".git" / "ignored.md", "ignored")

    library = _load(tmp_path)
    said = _said(library)
    assert set(library.originals) == {"good", "inside"}
    assert said == {
        "folder.md": (
            "warning",
            "a folder named like a post: the posts inside it are read, but the folder itself "
            "is not a post; rename it without '.md'",
        ),
        "again": (
            "warning",
            "a link to the folder ., which is already read: skipped, so its posts are not "
            "read twice",
        ),
        "draft.markdown": (
            "warning",
            "looks like a post, but its name does not end in '.md', so it is left out: "
            "rename it to draft.md",
        ),
        "shout.MD": (
            "warning",
            "looks like a post, but its name does not end in '.md', so it is left out: "
            "rename it to shout.md",
        ),
        "notes.md.txt": (
            "warning",
            "looks like a post, but its name does not end in '.md', so it is left out: "
            "rename it to notes.md",
        ),
        "no-extension": (
            "warning",
            "looks like a post, but its name does not end in '.md', so it is left out: "
            "rename it to no-extension.md",
        ),
    }
    assert library.ok  # warnings only: the check passes


def test_broken_links_count_as_invalid_posts(tmp_path: Path) -> None:
    """A link to a moved post, a link to itself, two links to each other: each an error
    naming it, each an invalid post in the counts; a dangling link that is no post is a
    warning; the good post beside them loads."""
    _post(tmp_path / "good.md", "good")
    (tmp_path / "moved.md").symlink_to("gone.md")
    (tmp_path / "self.md").symlink_to("self.md")
    (tmp_path / "ping.md").symlink_to("pong.md")
    (tmp_path / "pong.md").symlink_to("ping.md")
    (tmp_path / "old-images").symlink_to("/nonexistent/images")

    library = _load(tmp_path)
    said = _said(library)
    assert said["moved.md"] == (
        "error",
        "a link to gone.md, which does not exist: it was moved or deleted; point the link at "
        "the post or remove it",
    )
    assert said["self.md"] == (
        "error",
        "a link that loops back on itself (through self.md): it leads to no file; point the "
        "link at the post or remove it",
    )
    assert said["ping.md"][0] == said["pong.md"][0] == "error"
    assert "loops back on itself (through pong.md)" in said["ping.md"][1]
    assert said["old-images"] == (
        "warning",
        "a link to /nonexistent/images, which does not exist: it was moved or deleted; left out",
    )
    invalid = sorted(r.path.name for r in library.files if not r.ok)
    assert invalid == ["moved.md", "ping.md", "pong.md", "self.md"]
    assert set(library.originals) == {"good"}


def _reads_anything(folder: Path) -> bool:
    """Whether this process reads a file whatever its permissions (root, CAP_DAC_OVERRIDE)."""
    probe = folder / "probe"
    probe.write_text("x", encoding="utf-8")
    probe.chmod(0)
    try:
        probe.read_bytes()
    except PermissionError:
        return False
    finally:
        probe.chmod(0o644)
        probe.unlink()
    return True


def test_unreadable_file_and_folder_are_named(tmp_path: Path) -> None:
    """A post without read permission and a folder that cannot be listed: each named, an
    error saying what to do; the good post beside them loads."""
    if _reads_anything(tmp_path):
        pytest.skip("running as root, which reads every file and folder whatever its permissions")
    _post(tmp_path / "good.md", "good")
    _post(tmp_path / "locked.md", "locked")
    _post(tmp_path / "closed" / "inside.md", "inside")
    (tmp_path / "locked.md").chmod(0)
    (tmp_path / "closed").chmod(0)
    try:
        library = _load(tmp_path)
    finally:
        (tmp_path / "locked.md").chmod(0o644)
        (tmp_path / "closed").chmod(0o755)
    said = _said(library)
    assert said["locked.md"] == (
        "error",
        "cannot read this file (Permission denied): the post is left out; make it readable "
        "(chmod a+r) or move it out of the posts folder",
    )
    assert said["closed"] == (
        "error",
        "cannot read this folder (Permission denied): the posts in it are left out; make it "
        "readable (chmod a+rx) or move them elsewhere in the posts folder",
    )
    assert [r.path.name for r in library.files if not r.ok] == ["locked.md"]
    assert set(library.originals) == {"good"}


def test_a_posts_folder_that_is_a_file_says_so(tmp_path: Path) -> None:
    """posts_dir naming a file, or nothing: the message says which."""
    (tmp_path / "posts.md").write_text("---\n", encoding="utf-8")
    [problem] = _load(tmp_path / "posts.md").problems
    assert problem.message == "posts folder is a file, not a folder; set posts_dir in config"
    [problem] = _load(tmp_path / "nowhere").problems
    assert problem.message == "posts folder not found; set posts_dir in config"
