"""``amplifier web`` as a process: it prints its address and serves; $PORT and --port."""

from __future__ import annotations

import io
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from amplifier.cli import main
from amplifier.config import web_access
from amplifier.logs import REDACTED, parse_logfmt

FOREIGN = ("AMPLIFIER_", "DATABASE_URL", "DYNO", "PORT")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith(FOREIGN)}
    return {**env, **extra}


@pytest.fixture
def sample(tmp_path: Path, repo_root: Path) -> Path:
    shutil.copy(repo_root / "config.example.toml", tmp_path / "config.example.toml")
    shutil.copytree(repo_root / "posts", tmp_path / "posts")
    return tmp_path


def _serve(
    sample: Path, argv: list[str], *, fetch: tuple[str, ...] = (), **env: str
) -> tuple[str, str]:
    """Start it, wait (deadline 30 s) for its address line and a healthy /healthz, GET each of
    ``fetch``, stop it; all it printed, and the health page."""
    process = subprocess.Popen(
        [sys.executable, "-m", "amplifier", "web", *argv],
        cwd=sample, env=_env(**env), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        assert process.stdout is not None
        printed = ""
        deadline = time.monotonic() + 30
        while "event=serving" not in printed and time.monotonic() < deadline:
            printed += process.stdout.readline()
        address = printed.split("event=serving url=", 1)[1].split()[0]
        reachable = address.replace("0.0.0.0", "127.0.0.1")
        while time.monotonic() < deadline:
            try:
                health = httpx.get(reachable + "healthz", timeout=2)
            except httpx.TransportError:
                time.sleep(0.2)  # the process harness's poll with a deadline
                continue
            for path in fetch:
                httpx.get(reachable + path.lstrip("/"), timeout=10)
            process.terminate()
            rest, _ = process.communicate(timeout=30)
            return printed + rest, health.text
        raise AssertionError(f"no answer from {address}: {printed}")
    finally:
        if process.poll() is None:
            process.terminate()
            process.wait(timeout=30)


def _log_lines(printed: str) -> list[dict[str, str]]:
    """Every line the console printed, as logfmt; only the one-time password's two lines
    (for the person at the terminal, never a log's) are not log lines."""
    lines = [line for line in printed.splitlines() if line.strip()]
    human = [line for line in lines if "one-time password" in line or line.startswith("(it ")]
    return [parse_logfmt(line) for line in lines if line not in human]


def test_web_serves_the_sample_on_the_port_given(sample: Path) -> None:
    """--port wins; it listens on this machine only by default and prints the address; the
    sample's database is created and healthy."""
    port = _free_port()
    printed, health = _serve(
        sample, ["--port", str(port)], AMPLIFIER_WEB_ORGANIZER_PASSWORD="local-password-1"
    )
    assert f"event=serving url=http://127.0.0.1:{port}/" in printed
    assert '"database":"ok"' in health
    assert (sample / "amplifier.db").exists()
    assert "local-password-1" not in printed


def test_web_takes_port_from_the_environment_and_makes_a_one_time_password(sample: Path) -> None:
    """$PORT (as on Heroku) sets the port and listens on every address; with no organizer
    password set, a one-time one is printed for this run."""
    port = _free_port()
    printed, _ = _serve(sample, [], PORT=str(port))
    assert f"event=serving url=http://0.0.0.0:{port}/" in printed
    assert "one-time password" in printed
    _log_lines(printed)  # every other line parses


def test_web_logs_each_request_as_one_logfmt_line_without_the_feed_token(sample: Path) -> None:
    """uvicorn's own lines are the log's: one logfmt event each, with time and level; the
    calendar feed's token (right or wrong) is never written, nor the password."""
    port = _free_port()
    token, wrong = "feed-token-0123456789", "someone-elses-token-42"
    printed, _ = _serve(
        sample,
        ["--port", str(port)],
        fetch=(f"/calendar.ics?token={token}", f"/calendar.ics?token={wrong}"),
        AMPLIFIER_WEB_ORGANIZER_PASSWORD="local-password-1",
        AMPLIFIER_WEB_CALENDAR_TOKEN=token,
    )
    events = _log_lines(printed)
    assert all(line["time"].endswith("Z") and line["level"] for line in events)
    requests = [line for line in events if line["event"] == "request"]
    feed = [line for line in requests if line["path"] == "/calendar.ics"]
    assert [line["status"] for line in feed] == ["200", "403"], printed
    assert feed[0]["query"] == f"token={REDACTED}"
    assert feed[1]["query"] == f"token={REDACTED}"
    assert any(line["path"] == "/healthz" for line in requests)
    for secret in (token, wrong, "local-password-1"):
        assert secret not in printed


def test_web_refuses_to_start_without_what_it_needs(
    sample: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On Heroku without a session secret or an organizer password: exit 2, naming both."""
    for name in list(os.environ):
        if name.startswith(FOREIGN):
            monkeypatch.delenv(name)
    monkeypatch.setenv("DYNO", "web.1")
    monkeypatch.chdir(sample)
    errors = io.StringIO()
    assert main(["web"], out=errors) == 2
    text = errors.getvalue()
    assert "AMPLIFIER_WEB_SESSION_SECRET" in text and "no organizer password" in text


def test_hash_password_prints_a_hash_the_console_accepts(sample: Path) -> None:
    """--hash-password reads the password from standard input and prints a hash that signs
    that password in, and no other."""
    result = subprocess.run(
        [sys.executable, "-m", "amplifier", "web", "--hash-password"],
        cwd=sample, env=_env(), input="a-long-password-9\n", capture_output=True, text=True,
        timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    hashed = result.stdout.strip()
    access = web_access({"AMPLIFIER_WEB_ORGANIZER_PASSWORD_HASH": hashed})
    assert access.problems == ()
    [credential] = access.credentials
    assert credential.matches("a-long-password-9") and not credential.matches("a-long-password")


@pytest.mark.parametrize("argv", [["--port", "0"], ["--port", "70000"], ["--host", "a b"]])
def test_web_refuses_bad_arguments(argv: list[str]) -> None:
    """A port out of range or a host that is no address: exit 2 before anything starts."""
    assert main(["web", *argv], out=io.StringIO()) == 2


def test_every_template_and_asset_ships_in_the_package(repo_root: Path) -> None:
    """pyproject.toml's package-data covers every file the console serves or renders, so an
    installed (non-editable) amplifier has them (Heroku installs it from requirements.txt)."""
    import fnmatch
    import tomllib

    project = tomllib.loads((repo_root / "pyproject.toml").read_text(encoding="utf-8"))
    patterns = project["tool"]["setuptools"]["package-data"]["amplifier.web"]
    web = repo_root / "amplifier" / "web"
    files = [
        path.relative_to(web).as_posix()
        for folder in ("templates", "static")
        for path in (web / folder).rglob("*")
        if path.is_file()
    ]
    assert len(files) >= 9
    missing = [f for f in files if not any(fnmatch.fnmatch(f, p) for p in patterns)]
    assert missing == []
