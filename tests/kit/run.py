"""``python -m amplifier`` as a process, in a folder, with nothing of amplifier's environment."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

FOREIGN = ("AMPLIFIER_", "DATABASE_URL", "DYNO", "FBT_")


@dataclass(frozen=True)
class Ran:
    code: int
    out: str
    err: str

    @property
    def both(self) -> str:
        return self.out + self.err


def amplifier(cwd: Path, *argv: str) -> Ran:
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith(FOREIGN)}
    result = subprocess.run(
        [sys.executable, "-m", "amplifier", *argv],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=120,
        check=False,
    )
    return Ran(result.returncode, result.stdout, result.stderr)
