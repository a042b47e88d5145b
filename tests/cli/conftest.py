"""The command line as a process: a fresh folder with the sample config, a clean environment."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

# Variables that would point a command elsewhere than the folder under test.
FOREIGN = ("AMPLIFIER_", "DATABASE_URL", "DYNO", "FBT_", "PYTHONIOENCODING", "HTTP", "HTTPS")


@dataclass(frozen=True)
class Ran:
    code: int
    out: str
    err: str

    @property
    def both(self) -> str:
        return self.out + self.err


def clean_env(**extra: str) -> dict[str, str]:
    """This process's environment less anything amplifier reads, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith(FOREIGN)}
    return {**env, **extra}


def amplifier(cwd: Path, *argv: str, timeout: float = 60, **env: str) -> Ran:
    """Run ``python -m amplifier ARGV`` in ``cwd``; its exit status and output."""
    result = subprocess.run(
        [sys.executable, "-m", "amplifier", *argv],
        cwd=cwd,
        env=clean_env(**env),
        capture_output=True,
        text=True,
        encoding="utf-8",
        errors="replace",
        timeout=timeout,
        check=False,
    )
    return Ran(result.returncode, result.stdout, result.stderr)


@pytest.fixture
def sample(tmp_path: Path, repo_root: Path) -> Path:
    """A fresh folder holding the sample config and posts (no database yet)."""
    shutil.copy(repo_root / "config.example.toml", tmp_path / "config.example.toml")
    shutil.copytree(repo_root / "posts", tmp_path / "posts")
    return tmp_path
