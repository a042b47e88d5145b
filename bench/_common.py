"""What every benchmark shares: arguments, timing, process memory and CPU, temp dirs, output.

Each benchmark measures ours and a baseline side by side in one run (interleaved repeats,
median of N) and prints a small table, then LAST a line ``ratio: R (goal ...) PASS|FAIL``
that tests/test_bench_smoke.py looks for.
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
POSTS_DIR = ROOT / "posts"
PYTHON = sys.executable
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
CAMPAIGN = "families-belong-together"  # the sample posts' campaign
BLUESKY_HANDLE = "bench.test"
# Made-up credentials for the fake servers; the worker reads them from these variables.
SECRETS = {
    "BENCH_X_CONSUMER_KEY": "bench-consumer-key",
    "BENCH_X_CONSUMER_SECRET": "bench-consumer-secret",
    "BENCH_X_ACCESS_TOKEN": "bench-access-token",
    "BENCH_X_ACCESS_TOKEN_SECRET": "bench-access-token-secret",
    "BENCH_MASTODON_TOKEN": "bench-mastodon-token",
    "BENCH_BLUESKY_APP_PASSWORD": "bench-app-password",
}
SECRET_NAMES: dict[str, dict[str, str]] = {  # network -> credential -> variable
    "x": {
        "consumer_key": "BENCH_X_CONSUMER_KEY",
        "consumer_secret": "BENCH_X_CONSUMER_SECRET",
        "access_token": "BENCH_X_ACCESS_TOKEN",
        "access_token_secret": "BENCH_X_ACCESS_TOKEN_SECRET",
    },
    "mastodon": {"access_token": "BENCH_MASTODON_TOKEN"},
    "bluesky": {"app_password": "BENCH_BLUESKY_APP_PASSWORD"},
}


def parse_args(
    description: str,
    *,
    repeats: int,
    quick_repeats: int,
    options: Callable[[argparse.ArgumentParser], object] | None = None,
) -> argparse.Namespace:
    """--quick (a tiny run for CI), --repeats N, and whatever ``options`` adds."""
    parser = argparse.ArgumentParser(
        description=description, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="tiny sizes: proves the script runs")
    parser.add_argument("--repeats", type=int, default=None, help="interleaved repeats (median)")
    if options is not None:
        options(parser)
    args = parser.parse_args()
    if args.repeats is None:
        args.repeats = quick_repeats if args.quick else repeats
    return args


def amplifier_command(*arguments: str) -> list[str]:
    """``amplifier ARGS`` as users run it: the venv's console script, else ``python -m``."""
    script = Path(PYTHON).parent / "amplifier"
    if script.exists():
        return [PYTHON, str(script), *arguments]
    return [PYTHON, "-m", "amplifier", *arguments]


def compile_bytecode() -> None:
    """amplifier's modules compiled to bytecode (``__pycache__``), as its libraries are.

    pip compiles a regular install's modules, and any run of an editable one writes them; but
    under ``PYTHONDONTWRITEBYTECODE=1`` (set on some CI and development machines) an editable
    install compiles ~140 modules from source at every launch, ~100 ms no deployment pays,
    while the baselines' libraries load compiled. Both sides are measured compiled."""
    compileall.compile_dir(ROOT / "amplifier", quiet=1)


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


def timed(action: Callable[[], object]) -> float:
    """Seconds ``action`` took, wall clock."""
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def interleaved(
    contenders: Sequence[tuple[str, Callable[[], float]]], repeats: int
) -> dict[str, list[float]]:
    """Run each measurement once per round, alternating the order, so drift hits all alike."""
    results: dict[str, list[float]] = {name: [] for name, _ in contenders}
    for round_number in range(repeats):
        order = contenders if round_number % 2 == 0 else list(reversed(contenders))
        for name, measure in order:
            results[name].append(measure())
    return results


# -- processes ------------------------------------------------------------------------------


def rss_kib(pid: int) -> int:
    """Resident memory of a live process (VmRSS), in KiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for pid {pid}")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a live process has used so far (/proc/<pid>/stat)."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    # The command name may hold spaces; the fields after its closing ')' are fixed.
    fields = stat[stat.rindex(")") + 2 :].split()
    utime, stime = int(fields[11]), int(fields[12])
    return (utime + stime) / CLOCK_TICKS


def stop_process(process: subprocess.Popen[bytes], timeout: float = 10.0) -> None:
    """SIGTERM, then SIGKILL after ``timeout``; always reaped."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=timeout)


def wait_until(condition: Callable[[], bool], timeout: float, what: str) -> None:
    """Poll ``condition`` (other processes run on their own clocks) until true or time is up."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.02)


@contextmanager
def temp_dir(prefix: str) -> Iterator[Path]:
    """A fresh directory, removed afterwards."""
    path = Path(tempfile.mkdtemp(prefix=f"amplifier-bench-{prefix}-"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


# -- the worker's environment: fake networks, a config, a process ----------------------------


def clean_environment(base: dict[str, str] | None = None) -> dict[str, str]:
    """An environment where no AMPLIFIER_* or DATABASE_URL of the caller overrides our config."""
    env = dict(os.environ if base is None else base)
    for name in list(env):
        if name.startswith("AMPLIFIER_") or name == "DATABASE_URL":
            del env[name]
    return env


def scrub_own_environment() -> None:
    """The same for this process, whose in-process benchmarks call load_settings."""
    for name in list(os.environ):
        if name.startswith("AMPLIFIER_") or name == "DATABASE_URL":
            del os.environ[name]


class FakeNetworks:
    """Fake X, Mastodon and Bluesky servers on 127.0.0.1, threads of this process."""

    def __init__(self) -> None:
        import http.server

        from amplifier.testing.fake_bluesky import FakeBluesky
        from amplifier.testing.fake_mastodon import FakeMastodon, FakeMastodonSettings
        from amplifier.testing.fake_x import FakeX

        # The fakes write headers and body in two sends; with Nagle's algorithm on, the body
        # waits for the client's delayed ACK and every answer comes ~40 ms late, which would
        # hide the overhead being measured. Real servers set TCP_NODELAY; so do these.
        http.server.BaseHTTPRequestHandler.disable_nagle_algorithm = True
        self.x = FakeX()
        # Limits far above anything a benchmark sends: the worker is measured, not throttled.
        settings = FakeMastodonSettings(
            token=SECRETS["BENCH_MASTODON_TOKEN"], status_limit=10**9, api_limit=10**9
        )
        self.mastodon = FakeMastodon(settings)
        self.bluesky = FakeBluesky(
            handle=BLUESKY_HANDLE, password=SECRETS["BENCH_BLUESKY_APP_PASSWORD"]
        )

    def __enter__(self) -> FakeNetworks:
        self.x.start()
        self.mastodon.start()
        self.bluesky.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.x.stop()
        self.mastodon.stop()
        self.bluesky.stop()

    def reset(self) -> None:
        """Forget every post: a worker on a fresh database sends the same first texts again,
        and X refuses a text it already holds."""
        self.x.reset()
        self.mastodon.reset()
        self.bluesky.reset()

    def where(self, network: str) -> dict[str, str]:
        """The account settings that point a network's account at its fake server."""
        if network == "x":
            return {"api_base": self.x.base_url}
        if network == "mastodon":
            return {"instance": self.mastodon.base_url}
        return {"handle": BLUESKY_HANDLE, "service": self.bluesky.base_url}


def utc_times(minutes_from_now: Sequence[float], now: datetime | None = None) -> list[str]:
    """Daily "HH:MM" times (UTC) that many minutes from now (negative: already due)."""
    now = (now or datetime.now(UTC)).replace(second=0, microsecond=0)
    return sorted({(now + timedelta(minutes=m)).strftime("%H:%M") for m in minutes_from_now})


def _toml_table(name: str, values: dict[str, Any], *, array: bool = False) -> list[str]:
    # JSON strings, numbers, booleans and arrays of them are valid TOML.
    head = f"[[{name}]]" if array else f"[{name}]"
    return [head, *(f"{key} = {json.dumps(value)}" for key, value in values.items()), ""]


def write_config(
    path: Path,
    *,
    database_url: str,
    accounts: Sequence[dict[str, Any]],
    times: Sequence[str],
    posts_dir: Path = POSTS_DIR,
    worker: dict[str, Any] | None = None,
    guards: dict[str, Any] | None = None,
    timezone: str = "UTC",
) -> Path:
    """A config on the sample campaign; each account: name, network, optional settings.

    Credentials are named (SECRET_NAMES), never written; schedule "bench" is ``times`` daily.
    """
    top = {"posts_dir": str(posts_dir), "database_url": database_url, "seed": "bench"}
    lines = [*(f"{key} = {json.dumps(value)}" for key, value in top.items()), ""]
    if worker:
        lines += _toml_table("worker", worker)
    if guards:
        lines += _toml_table("guards", guards)
    lines += _toml_table(f"campaigns.{CAMPAIGN}", {"language": "en"})
    tags = {
        "always": ["FamiliesBelongTogether"],
        "pool": ["KeepFamiliesTogether", "EndFamilySeparation", "AsylumIsARight"],
        "per_post": 1,
    }
    lines += _toml_table(f"campaigns.{CAMPAIGN}.hashtags", tags)
    lines += _toml_table("schedules.bench", {"timezone": timezone, "times": list(times)})
    for account in accounts:
        values = {"campaigns": [CAMPAIGN], "schedule": "bench", **account}
        lines += _toml_table("accounts", values, array=True)
        lines += _toml_table("accounts.secrets_from_env", SECRET_NAMES[account["network"]])
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


class WorkerProcess:
    """One ``amplifier run`` subprocess with its output in a file, and its pid for /proc."""

    def __init__(
        self,
        config: Path,
        cwd: Path,
        *,
        python_options: Sequence[str] = (),
        env: dict[str, str] | None = None,
    ) -> None:
        self.log = cwd / "worker.log"
        self.errors = cwd / "worker.err"
        command = amplifier_command("run", "--config", str(config))
        command[1:1] = list(python_options)
        environment = clean_environment(env) | SECRETS
        self.started = time.perf_counter()
        with self.log.open("wb") as out, self.errors.open("wb") as err:
            self.popen = subprocess.Popen(
                command, cwd=cwd, env=environment, stdin=subprocess.DEVNULL, stdout=out, stderr=err
            )

    @property
    def pid(self) -> int:
        return self.popen.pid

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def count(self, event: str) -> int:
        """Log lines of one event (``event=next-slot`` ...)."""
        return sum(f"event={event}" in line.split() for line in self.output().splitlines())

    def wait_for(self, event: str, count: int, timeout: float) -> None:
        def seen() -> bool:
            if self.popen.poll() is not None:
                tail = self.errors.read_text(errors="replace")[-2000:] or self.output()[-2000:]
                raise RuntimeError(f"worker exited ({self.popen.returncode}): {tail}")
            return self.count(event) >= count

        wait_until(seen, timeout, f"{count} event={event} line(s) in {self.log}")

    def stop(self) -> None:
        stop_process(self.popen)


# -- output ---------------------------------------------------------------------------------


def machine() -> str:
    """The machine in one line: cores, memory, Python."""
    memory = "?"
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            memory = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB RAM"
    return (
        f"machine: {os.cpu_count()} cores, {memory}, Python {platform.python_version()} "
        f"({platform.system()} {platform.machine()})"
    )


def header(title: str, quick: bool, repeats: int) -> None:
    print(f"== {title}{' (--quick)' if quick else ''} ==")
    print(machine())
    # Other work on the machine skews every figure; say how busy it was when we started.
    print("load average at start: " + " ".join(f"{v:.2f}" for v in os.getloadavg()))
    print(f"repeats: {repeats} interleaved, medians reported")
    print()


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    """A plain aligned table: first column left, the others right."""
    cells = [[str(cell) for cell in row] for row in [headers, *rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]

    def line(row: Sequence[str]) -> str:
        parts = [row[0].ljust(widths[0])]
        parts += [cell.rjust(width) for cell, width in zip(row[1:], widths[1:], strict=True)]
        return "  ".join(parts).rstrip()

    print(line(cells[0]))
    print("  ".join("-" * width for width in widths))
    for row in cells[1:]:
        print(line(row))
    print()


def seconds(value: float) -> str:
    if value != value:  # NaN: not measured
        return "-"
    if value < 0.01:
        return f"{value * 1000:.2f} ms"
    if value < 1:
        return f"{value * 1000:.0f} ms"
    return f"{value:.2f} s"


def mib(kib: float) -> str:
    return f"{kib / 1024:.1f} MiB"


def verdict(passed: bool) -> str:
    return "PASS" if passed else "FAIL"


def ratio_line(value: float, goal: float, note: str = "", *, bound: str = "") -> str:
    """``ratio: 1.18 (goal <= 1.30) PASS``; ``bound`` ('>') marks a lower bound."""
    extra = f"; {note}" if note else ""
    return f"ratio: {bound}{value:.2f} (goal <= {goal:.2f}{extra}) {verdict(value <= goal)}"
