"""The benchmarks still run: each bench/bench_*.py in --quick mode ends with its ratio line.

The benchmarks run side by side (they are mostly waiting on subprocesses and sockets), so the
whole file takes about as long as the slowest one. Figures from --quick runs mean nothing;
the full runs are documented in bench/README.md.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BENCHES = (
    "bench_idle",
    "bench_startup",
    "bench_check",
    "bench_delivery",
    "bench_history",
    "bench_kit",
    "bench_web",
    "bench_results",
    "bench_cards",
)
# "ratio: 1.18 (goal <= 1.30; ...) PASS", a lower bound "ratio: > 212.00 (...) FAIL", or an
# informational ratio without a goal.
RATIO_LINE = re.compile(r"^ratio: (> )?\d+\.\d\d \(.+\)( PASS| FAIL)?$")
TABLE_RULE = re.compile(r"^-+(  -+)+$", re.MULTILINE)  # the line under a table's header
TIMEOUT = 120.0


@dataclass(frozen=True)
class Run:
    code: int | None
    output: str
    seconds: float


@pytest.fixture(scope="module")
def runs() -> Iterator[dict[str, Run]]:
    """Every benchmark's --quick run, started together and awaited."""
    env = dict(os.environ)
    if "AMPLIFIER_TEST_POSTGRES_URL" in env:  # the server the store tests use, if set
        env.setdefault("BENCH_POSTGRES_URL", env["AMPLIFIER_TEST_POSTGRES_URL"])
    started = time.monotonic()
    processes = {
        name: subprocess.Popen(
            [sys.executable, str(ROOT / "bench" / f"{name}.py"), "--quick"],
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for name in BENCHES
    }
    results: dict[str, Run] = {}
    try:
        for name, process in processes.items():
            left = max(1.0, TIMEOUT - (time.monotonic() - started))
            try:
                output, _ = process.communicate(timeout=left)
                results[name] = Run(process.returncode, output, time.monotonic() - started)
            except subprocess.TimeoutExpired:
                process.kill()
                output, _ = process.communicate()
                results[name] = Run(None, output, time.monotonic() - started)
        yield results
    finally:
        for process in processes.values():
            if process.poll() is None:
                process.kill()
                process.wait()


@pytest.mark.parametrize("name", BENCHES)
def test_quick_run_ends_with_ratio_line(runs: dict[str, Run], name: str) -> None:
    """bench/<name>.py --quick exits 0 and prints its ratio line last."""
    run = runs[name]
    assert run.code == 0, f"{name} exited {run.code} after {run.seconds:.0f} s:\n{run.output}"
    lines = [line for line in run.output.splitlines() if line.strip()]
    assert lines, f"{name} printed nothing"
    assert RATIO_LINE.match(lines[-1]), f"{name}'s last line is not a ratio line:\n{run.output}"


def test_quick_runs_print_their_tables(runs: dict[str, Run]) -> None:
    """Each benchmark prints the machine line and at least one table before its ratio."""
    for name, run in runs.items():
        assert "machine: " in run.output, f"{name} did not describe the machine"
        assert TABLE_RULE.search(run.output), f"{name} printed no table"
