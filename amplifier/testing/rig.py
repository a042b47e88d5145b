"""Real `amplifier run` processes against the fake networks: one ``Rig`` per scenario.

A ``Rig`` holds the three fake networks (threads of this process, on 127.0.0.1), a config whose
schedule has slots due right now, the environment handed to each worker subprocess
(credentials, DATABASE_URL), the workers started so far, and a ``Store`` on the same database to
read what they recorded. Leaving the rig kills every worker it started that is still alive (by
its pid), stops the fakes and closes the store: a failed run leaves no process behind.

Everything that waits has a deadline, and raises ``TimedOut`` or ``WorkerExited`` (plain
exceptions: this package does not depend on pytest). Polling real time is unavoidable here:
the workers are other processes with their own clocks.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import IO, TypeVar

from amplifier.errors import StoreError
from amplifier.store import Delivery, Store
from amplifier.testing.fakes import Fakes
from amplifier.testing.faults import FaultFeeder, FaultMaker
from amplifier.testing.outcome import Outcome
from amplifier.testing.scenario import ACCOUNTS, SECRET_NAMES, Schedule, Timing, config_text

T = TypeVar("T")


class RigFailure(AssertionError):
    """A scenario could not go on; an AssertionError, so a test reports it as a failure."""


class TimedOut(RigFailure):
    """Something waited for never happened before its deadline."""


class WorkerExited(RigFailure):
    """A worker expected to keep running exited by itself."""


def wait_for(
    condition: Callable[[], T | None],
    *,
    timeout: float,
    what: str,
    interval: float = 0.1,
    describe: Callable[[], str] | None = None,
) -> T:
    """Poll ``condition`` until it returns something truthy; ``TimedOut`` after ``timeout`` s."""
    deadline, last_error = time.monotonic() + timeout, ""
    while True:
        try:
            result = condition()
        except StoreError as error:  # the workers may not have migrated the database yet
            result, last_error = None, f" (last store error: {error})"
        if result:
            return result
        if time.monotonic() >= deadline:
            seen = f"; last seen: {describe()}" if describe else ""
            raise TimedOut(f"timed out after {timeout:.0f} s waiting for {what}{seen}{last_error}")
        time.sleep(interval)


def poll_until(condition: Callable[[], bool], timeout: float, interval: float = 0.05) -> bool:
    """Like ``wait_for`` but gives up quietly: whether ``condition`` came true in time."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() >= deadline:
            return False
        time.sleep(interval)
    return True


class WorkerProcess:
    """One `amplifier run` subprocess, its output in files under the rig's log folder."""

    def __init__(self, name: str, command: list[str], env: dict[str, str], cwd: Path) -> None:
        self.name = name
        self.paths = [cwd / "logs" / f"{name}.out", cwd / "logs" / f"{name}.err"]
        self._files: list[IO[bytes]] = [path.open("wb") for path in self.paths]
        self.started = time.monotonic()
        self.popen = subprocess.Popen(
            command, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=self._files[0],
            stderr=self._files[1],
        )  # fmt: skip

    @property
    def alive(self) -> bool:
        return self.popen.poll() is None

    def owns(self, row: Delivery) -> bool:
        """Whether ``row`` is claimed by this process (worker ids are host:pid:random)."""
        parts = (row.claimed_by or "").rsplit(":", 2)
        return len(parts) == 3 and parts[1] == str(self.popen.pid)

    def kill9(self) -> None:
        """SIGKILL and reap: the process gets no chance to record anything."""
        self.popen.kill()
        self.popen.wait(timeout=10)

    def stop(self, timeout: float = 10.0) -> tuple[int | None, float]:
        """SIGTERM; (exit code, or None if still running after ``timeout``; seconds taken).

        Waits (up to 30 s) for the worker's ``event=started`` line first: a SIGTERM during
        Python's own start-up, before the worker's handler exists, ends it with -15, which
        says nothing about how the worker stops.
        """
        poll_until(lambda: not self.alive or bool(self.events("started")), timeout=30)
        began = time.monotonic()
        if self.alive:
            self.popen.send_signal(signal.SIGTERM)
        try:
            code: int | None = self.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            code = None
        return code, time.monotonic() - began

    def output(self) -> str:
        return "".join(path.read_bytes().decode("utf-8", "replace") for path in self.paths)

    def events(self, event: str) -> list[str]:
        """The log lines of one event (``claimed`` does not match ``claimed-elsewhere``)."""
        return [line for line in self.output().splitlines() if f"event={event}" in line.split()]

    def tail(self, lines: int = 15) -> str:
        return "\n".join(self.output().splitlines()[-lines:])

    def close(self) -> None:
        if self.alive:
            self.kill9()
        for handle in self._files:
            handle.close()


class Rig:
    """One scenario: fakes, config, environment, workers, and a store to read results."""

    def __init__(
        self,
        tmp_path: Path,
        *,
        database_url: str,
        schedule: Schedule,
        timing: Timing | None = None,
    ) -> None:
        self.tmp_path, self.database_url, self.schedule = tmp_path, database_url, schedule
        variables = [var for names in SECRET_NAMES.values() for var in names.values()]
        # A fresh value per variable, easy to find in a log.
        self.secrets = {var: f"sekrit{uuid.uuid4().hex}" for var in variables}
        self.fakes = Fakes(self.secrets)
        dropped = ("AMPLIFIER_", "DATABASE_URL", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY")
        # The workers inherit this process's environment (PATH, locale), less anything that
        # would point them elsewhere.
        self.env = {k: v for k, v in os.environ.items() if not k.upper().startswith(dropped)}
        self.env |= {**self.secrets, "DATABASE_URL": database_url, "PYTHONUNBUFFERED": "1"}
        self.config_path = tmp_path / "config.toml"
        self.timing = timing or Timing()
        self.workers: list[WorkerProcess] = []
        self.feeders: list[FaultFeeder] = []
        self._store: Store | None = None

    def __enter__(self) -> Rig:
        (self.tmp_path / "logs").mkdir(parents=True, exist_ok=True)
        for server in self.fakes.servers.values():
            server.start()
        text = config_text(self.database_url, self.schedule, self.fakes, self.timing)
        self.config_path.write_text(text, encoding="utf-8")
        return self

    def __exit__(self, *exc: object) -> None:
        for feeder in self.feeders:
            feeder.stop()
        for worker in self.workers:
            worker.close()
        if self._store is not None:
            self._store.close()
        for server in self.fakes.servers.values():
            server.stop()

    def spawn(self, name: str | None = None, *options: str) -> WorkerProcess:
        """Start `python -m amplifier run` on this rig's config (``options``: `--once` ...)."""
        name = name or f"worker-{len(self.workers) + 1:02d}"
        command = [sys.executable, "-m", "amplifier", "run", "--config", str(self.config_path)]
        command += options
        self.workers.append(WorkerProcess(name, command, self.env, self.tmp_path))
        return self.workers[-1]

    def wait_started(self, worker: WorkerProcess, timeout: float = 30.0) -> None:
        """Until the worker logs event=started (it has checked in and armed its jobs)."""

        def started() -> bool:
            if not worker.alive:
                raise WorkerExited(
                    f"{worker.name} exited ({worker.popen.poll()}):\n{worker.tail()}"
                )
            return bool(worker.events("started"))

        wait_for(started, timeout=timeout, what=f"{worker.name} to start", describe=worker.tail)

    def feed_faults(self, rng: random.Random, make: FaultMaker) -> FaultFeeder:
        self.feeders.append(FaultFeeder(self.fakes, rng, make))
        return self.feeders[-1]

    @property
    def store(self) -> Store:
        if self._store is None:
            self._store = Store(self.database_url)
        return self._store

    def rows(self) -> dict[tuple[str, str], Delivery]:
        return {(row.account, row.slot_key): row for row in self.store.history(limit=100_000)}

    def outcome(self) -> Outcome:
        due = tuple((account, key) for account in ACCOUNTS for key in self.schedule.keys)
        return Outcome(due, self.rows(), self.fakes.texts(), self.fakes.post_requests())

    def wait_settled(self, timeout: float, watch: WorkerProcess | None = None) -> Outcome:
        """Until every due slot has a row, none is 'sending' or 'deferred' and no thread waits for
        its next part; ``WorkerExited``
        at once if ``watch`` (the worker expected to settle them) exits."""
        latest: list[Outcome] = []

        def settled() -> Outcome | None:
            if watch is not None and not watch.alive:
                raise WorkerExited(f"{watch.name} exited ({watch.popen.poll()}):\n{watch.tail()}")
            latest[:] = [self.outcome()]
            now = latest[0]
            return now if not (now.lost or now.unsettled or now.unfinished_threads) else None

        def describe() -> str:
            if not latest:
                return "no rows yet"
            rows = [f"{r.slot_key} {r.status} {r.last_error}" for r in latest[0].unsettled]
            return f"{latest[0].summary('waiting')} lost={latest[0].lost[:5]} {rows[:5]}"

        what = "every due slot to settle"
        return wait_for(settled, timeout=timeout, what=what, interval=0.25, describe=describe)

    def log_lines(self) -> int:
        """How many lines the workers wrote, stdout and stderr together."""
        return sum(len(worker.output().splitlines()) for worker in self.workers)

    def secret_leaks(self) -> list[str]:
        """'worker: VARIABLE' for every secret value found in any worker's output."""
        return [
            f"{worker.name}: {var}"
            for worker in self.workers
            for var, value in self.secrets.items()
            if value in worker.output()
        ]
