"""Walking the posts folder: every post file found, and everything left out named.

A post never vanishes without a word. What the walk cannot use is a ``Problem`` naming it:

- errors (the post is lost; ``check`` fails; counted as an invalid post when it is a ``.md``):
  a link to a file that does not exist (moved or deleted), a link that loops back on itself,
  a folder that cannot be read (its posts are left out), a ``.md`` that is not a file;
- warnings (nothing is lost, but something looks wrong): a folder named like a post
  (``folder.md/``: its posts are read all the same), a link to a folder already read (a
  loop: read once), a link that leads nowhere and is not a post, a file that looks like a
  post but is not named ``.md`` (``draft.markdown``, ``post.MD``, ``post.md.txt``).

A file that cannot be read is listed as a post: parse.py says why it cannot be read.
``README.md`` files, folders starting with ``.`` (``.git``) and media are passed over quietly.
``posts/README.md`` documents the same list for volunteers.
"""

from __future__ import annotations

import errno
import os
from dataclasses import dataclass, field
from pathlib import Path

from amplifier.errors import Problem

POST_SUFFIX = ".md"
SKIPPED_FILES = frozenset({"README.md"})
# Names a post saved under the wrong extension often has.
_POST_LIKE_SUFFIXES = (".md", ".markdown", ".mdown", ".mkd", ".md.txt")


@dataclass
class FolderWalk:
    """The post files to parse, the ``.md`` entries that can never be posts, the problems."""

    posts: list[Path] = field(default_factory=list)
    broken: list[Path] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


def walk_posts(folder: Path) -> FolderWalk:
    """Every post file under ``folder`` (links followed, each folder read once), sorted."""
    walk = FolderWalk()
    seen = {os.path.realpath(folder)}
    pending = [folder]
    while pending:
        directory = pending.pop()
        try:
            with os.scandir(directory) as listing:
                entries = sorted(listing, key=lambda entry: entry.name)
        except OSError as error:
            walk.problems.append(
                Problem(
                    directory,
                    None,
                    f"cannot read this folder ({error.strerror}): the posts in it are left "
                    "out; make it readable (chmod a+rx) or move them elsewhere in the posts folder",
                )
            )
            continue
        for entry in entries:
            _visit(Path(entry.path), entry, walk, seen, pending)
    walk.posts.sort()
    walk.broken.sort()
    walk.problems.sort(key=lambda p: str(p.file))
    return walk


def _visit(
    path: Path, entry: os.DirEntry[str], walk: FolderWalk, seen: set[str], pending: list[Path]
) -> None:
    name = entry.name
    is_post_name = name.endswith(POST_SUFFIX)
    if entry.is_symlink() and not _link_leads_somewhere(path, is_post_name, walk):
        return
    try:
        is_dir, is_file = entry.is_dir(), entry.is_file()
    except OSError:
        is_dir = is_file = False
    if is_dir:
        if name.startswith(".") and not entry.is_symlink():
            return  # .git, .github: not posts
        real = os.path.realpath(path)
        if real in seen:
            walk.problems.append(
                Problem(
                    path,
                    None,
                    f"a link to the folder {os.readlink(path) if entry.is_symlink() else real}, "
                    "which is already read: skipped, so its posts are not read twice",
                    "warning",
                )
            )
            return
        seen.add(real)
        pending.append(path)
        if is_post_name:
            walk.problems.append(
                Problem(
                    path,
                    None,
                    "a folder named like a post: the posts inside it are read, but the folder "
                    "itself is not a post; rename it without '.md'",
                    "warning",
                )
            )
        return
    if is_post_name:
        if name in SKIPPED_FILES:
            return
        if is_file:
            walk.posts.append(path)
            return
        walk.broken.append(path)
        walk.problems.append(
            Problem(path, None, "not a file (a device or a pipe): a post must be a text file")
        )
        return
    if is_file and _looks_like_a_post(path):
        stem = name.split(".", 1)[0] or name
        walk.problems.append(
            Problem(
                path,
                None,
                f"looks like a post, but its name does not end in '.md', so it is left out: "
                f"rename it to {stem}.md",
                "warning",
            )
        )


def _link_leads_somewhere(path: Path, is_post_name: bool, walk: FolderWalk) -> bool:
    """Whether a link resolves; a broken one is named (an error when it is a post)."""
    try:
        path.resolve(strict=True)
        return True
    except RuntimeError:  # Python < 3.13 reports a loop so
        loop = True
    except OSError as error:
        loop = error.errno == errno.ELOOP
    try:
        target = os.readlink(path)
    except OSError:
        target = "?"
    if loop:
        why = f"a link that loops back on itself (through {target}): it leads to no file"
    else:
        why = f"a link to {target}, which does not exist: it was moved or deleted"
    if is_post_name:
        walk.broken.append(path)
        walk.problems.append(Problem(path, None, f"{why}; point the link at the post or remove it"))
    else:
        walk.problems.append(Problem(path, None, f"{why}; left out", "warning"))
    return False


def _looks_like_a_post(path: Path) -> bool:
    """A file under a post-like name (``.markdown``, ``.MD``, ``.md.txt``), or one that
    starts like a post (``---``)."""
    if path.name.lower().endswith(_POST_LIKE_SUFFIXES):
        return True
    try:
        with path.open("rb") as handle:
            start = handle.read(6)
    except OSError:
        return False
    return start.removeprefix(b"\xef\xbb\xbf").startswith(b"---")
