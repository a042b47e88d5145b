"""Lint, format and type checks run as part of the one test command."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
# bench/ arrives with the benchmarks; lint whichever of these folders exist.
LINTED = [name for name in ("amplifier", "tests", "bench") if (ROOT / name).is_dir()]


def _run(*command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)


def test_ruff_lint_clean() -> None:
    """ruff finds nothing in the package, tests and benchmarks."""
    result = _run(str(BIN / "ruff"), "check", *LINTED)
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_format_clean() -> None:
    """Every file is formatted as ruff format would write it."""
    result = _run(str(BIN / "ruff"), "format", "--check", *LINTED)
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_strict_clean() -> None:
    """mypy --strict (configured in pyproject.toml) passes on the package."""
    result = _run(str(BIN / "mypy"))
    assert result.returncode == 0, result.stdout + result.stderr
