"""How a problem is shown: ``file:line: message``, or a GitHub Actions annotation."""

from __future__ import annotations

from pathlib import Path

from amplifier.errors import Problem


def counted(count: int, noun: str, plural: str | None = None) -> str:
    """'1 campaign', '2 campaigns': a count with its noun in the right number."""
    return f"{count} {noun if count == 1 else plural or noun + 's'}"


def display_path(path: Path | str) -> str:
    """Paths relative to the working directory where possible, as editors and GitHub want."""
    given = Path(path)
    try:
        # The last part is not followed: a problem may be about the link itself (one that
        # loops or leads nowhere), which resolve() would follow or raise on.
        shown = given.parent.resolve() / given.name
        return str(shown.relative_to(Path.cwd().resolve()))
    except (ValueError, OSError, RuntimeError):
        return str(path)


def format_problem(problem: Problem, style: str) -> str:
    if style == "github":
        kind = "error" if problem.severity == "error" else "warning"
        where = f"file={display_path(problem.file)}"
        if problem.line:
            where += f",line={problem.line}"
        # GitHub annotation messages must escape %, CR and LF.
        message = problem.message.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
        return f"::{kind} {where}::{message}"
    shown = Problem(display_path(problem.file), problem.line, problem.message, problem.severity)
    return str(shown)
