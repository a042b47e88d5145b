"""What goes wrong around a command: a clear message and exit status, never a traceback.

A missing config, a database URL that cannot be parsed, a PostgreSQL server that is down or
never answers, a SQLite file in a missing or read-only folder, SQLite on Heroku, Ctrl-C at any
moment, a reader that closes the pipe, a terminal that cannot show every character.
"""

from __future__ import annotations

import io
import os
import signal
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from amplifier.cli import main

from .conftest import FOREIGN, Ran, amplifier, clean_env

STORE_COMMANDS = [("history",), ("status",), ("schedule",), ("pause",), ("resume",), ("review",)]
STORE_COMMANDS += [("run", "--once"), ("post-now", "fbt-x")]

# 130, or death by SIGINT after "interrupted" was written (CPython may end a process that
# caught a Ctrl-C that way under load): a shell reports both as 130.
INTERRUPTED_STATUSES = (130, -signal.SIGINT)


def no_traceback(ran_err: str, ran_out: str = "") -> None:
    assert "Traceback" not in ran_err + ran_out, ran_err


def in_process(folder: Path, *argv: str, **env: str) -> Ran:
    """main() in ``folder`` with ``env`` set: what a process would print, without its start-up
    cost (the process tests below cover the entry point itself)."""
    out, err = io.StringIO(), io.StringIO()
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(folder)
        for name in list(os.environ):
            if name.upper().startswith(FOREIGN):
                patch.delenv(name)
        for name, value in env.items():
            patch.setenv(name, value)
        code = main(list(argv), out=out, err=err)
    return Ran(code, out.getvalue(), err.getvalue())


@pytest.mark.parametrize("argv", [("check",), ("preview",), ("status",), ("run", "--once")])
def test_missing_config_file(sample: Path, argv: tuple[str, ...]) -> None:
    """--config naming no file: the file, what is wrong, what to do; exit status 2."""
    ran = in_process(sample, *argv, "--config", "nope.toml")
    no_traceback(ran.err, ran.out)
    assert ran.code == 2, ran
    assert "nope.toml: cannot read the config file (No such file or directory)" in ran.both


@pytest.mark.parametrize("argv", STORE_COMMANDS, ids=" ".join)
def test_unparsable_database_url(sample: Path, argv: tuple[str, ...]) -> None:
    """A DATABASE_URL that is not a URL: said so, its text (it may hold a password) not
    repeated; exit status 2; every command that opens the store alike."""
    ran = in_process(sample, *argv, DATABASE_URL="pg with secret-pw-123 inside")
    no_traceback(ran.err, ran.out)
    assert ran.code == 2, ran
    assert "the database URL (DATABASE_URL (or database_url in the config)) cannot be parsed" in (
        ran.err
    )
    assert "secret-pw-123" not in ran.both


def test_unsupported_database(sample: Path) -> None:
    """A URL of a database amplifier does not work with names the two it does."""
    ran = in_process(sample, "status", DATABASE_URL="mysql://u:pw@localhost/db")
    assert ran.code == 2 and "names mysql" in ran.err and "SQLite" in ran.err, ran


@pytest.mark.parametrize("argv", [("history",), ("run", "--once"), ("pause",)], ids=" ".join)
def test_postgresql_down(sample: Path, argv: tuple[str, ...]) -> None:
    """Nothing listens at the URL's port: what failed, the URL with its password masked, what
    to check; exit status 1."""
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"postgresql://amp:hunter2-secret@127.0.0.1:{port}/amp"
    ran = in_process(sample, *argv, DATABASE_URL=url)
    no_traceback(ran.err, ran.out)
    assert ran.code == 1, ran
    assert "error: the database cannot be used: migrate failed on " in ran.err
    assert f"postgresql+psycopg://amp:***@127.0.0.1:{port}/amp" in ran.err
    assert "Is the database server running" in ran.err
    assert "hunter2-secret" not in ran.both


def test_sqlite_in_a_missing_folder(sample: Path) -> None:
    """A SQLite path whose folder does not exist (or is a file): the folder named, exit 2."""
    ran = in_process(sample, "history", DATABASE_URL="sqlite:///no/such/folder/state.db")
    no_traceback(ran.err)
    assert ran.code == 2
    assert "its folder no/such/folder does not exist. Create the folder" in ran.err
    ran = in_process(sample, "status", DATABASE_URL="sqlite:///config.example.toml/state.db")
    assert ran.code == 2 and "is a file, not a folder" in ran.err, ran
    assert not (sample / "no").exists()


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_sqlite_in_a_read_only_folder(sample: Path) -> None:
    """A SQLite file that would have to be created in a read-only folder: said so, exit 2."""
    folder = sample / "readonly"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        ran = amplifier(sample, "status", DATABASE_URL="sqlite:///readonly/state.db")
    finally:
        folder.chmod(0o755)
    no_traceback(ran.err)
    assert ran.code == 2 and "the folder readonly is read-only" in ran.err, ran


@pytest.mark.parametrize("argv", STORE_COMMANDS, ids=" ".join)
def test_sqlite_on_heroku_is_refused(sample: Path, argv: tuple[str, ...]) -> None:
    """On Heroku (DYNO set) without a PostgreSQL DATABASE_URL every command that opens the
    store refuses, saying how to attach Heroku Postgres; no SQLite file is created."""
    ran = in_process(sample, *argv, DYNO="worker.1")
    no_traceback(ran.err, ran.out)
    assert ran.code == 2, ran
    assert "on Heroku (dyno worker.1) the database must be PostgreSQL" in ran.err
    assert "heroku addons:create heroku-postgresql:essential-0" in ran.err
    assert "AMPLIFIER_ALLOW_SQLITE_ON_HEROKU=true" in ran.err
    assert not (sample / "amplifier.db").exists()


def test_sqlite_on_heroku_when_allowed(sample: Path) -> None:
    """AMPLIFIER_ALLOW_SQLITE_ON_HEROKU=true lets a trial run on the dyno's disk; commands
    that need no database (check, preview) never minded."""
    ran = amplifier(
        sample, "run", "--once", DYNO="worker.1", AMPLIFIER_ALLOW_SQLITE_ON_HEROKU="true"
    )
    assert ran.code == 0, ran
    assert " event=starting " in ran.out and "database=sqlite:///amplifier.db" in ran.out
    for argv in (("check",), ("preview", "-n", "1")):
        assert in_process(sample, *argv, DYNO="worker.1").code == 0


def test_ctrl_c_while_waiting_for_the_database(sample: Path) -> None:
    """Ctrl-C while a command waits on a PostgreSQL server that never answers: "interrupted"
    on stderr, exit status 130, no traceback."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        server.settimeout(30)
        url = f"postgresql://amp:pw@127.0.0.1:{server.getsockname()[1]}/amp"
        process = subprocess.Popen(
            [sys.executable, "-m", "amplifier", "history"],
            cwd=sample,
            env=clean_env(DATABASE_URL=url),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            connection, _ = server.accept()  # the command is now waiting for an answer
            with connection:
                connection.recv(64)
                process.send_signal(signal.SIGINT)
                out, err = process.communicate(timeout=20)
        finally:
            process.kill()
    assert (process.returncode in INTERRUPTED_STATUSES, out, err) == (True, "", "interrupted\n")


@pytest.mark.skipif(not Path("/proc/self/maps").exists(), reason="needs Linux's /proc")
@pytest.mark.parametrize("library", ["_pydantic_core", "_yaml", "_sqlite3"])
def test_ctrl_c_while_loading(sample: Path, library: str) -> None:
    """Ctrl-C while the command is still importing (the moment ``library`` is loaded, which
    happens only once the command runs): "interrupted", exit status 130, no traceback."""
    process = subprocess.Popen(
        [sys.executable, "-m", "amplifier", "status"],
        cwd=sample,
        env=clean_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    maps = Path(f"/proc/{process.pid}/maps")
    deadline = time.monotonic() + 30
    try:
        while process.poll() is None and time.monotonic() < deadline:
            try:
                if library in maps.read_text():
                    process.send_signal(signal.SIGINT)
                    break
            except OSError:  # the process is gone
                break
            time.sleep(0.002)
        _, err = process.communicate(timeout=30)
    finally:
        process.kill()
    assert "Traceback" not in err, err
    if process.returncode != 0:  # it may have finished before the signal came
        assert (process.returncode in INTERRUPTED_STATUSES, err) == (True, "interrupted\n")


ENVIRONMENT_FAILURES: list[tuple[tuple[str, ...], dict[str, str], int]] = [
    (("status", "--config", "nope.toml"), {}, 2),
    (("preview",), {"AMPLIFIER_CONFIG": "nope.toml"}, 2),
    (("history",), {"DATABASE_URL": "not a url"}, 2),
    (("run", "--once"), {"DATABASE_URL": "postgresql://u:p@127.0.0.1:9/x"}, 1),
    (("pause",), {"DATABASE_URL": "sqlite:///missing/folder/x.db"}, 2),
    (("run", "--once"), {"DYNO": "worker.1"}, 2),
    (("check",), {"AMPLIFIER_WORKER__TICK_SECONDS": "often"}, 2),
    (("status",), {"AMPLIFIER_DRY_RUN": "maybe"}, 2),
]


def test_environment_failures_as_a_process(sample: Path) -> None:
    """The entry point itself (python -m amplifier) on each unusable environment: its exit
    status, the message on stderr, no traceback."""

    def run(case: tuple[tuple[str, ...], dict[str, str], int]) -> Ran:
        return amplifier(sample, *case[0], **case[1])

    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(run, ENVIRONMENT_FAILURES))
    for (argv, env, code), ran in zip(ENVIRONMENT_FAILURES, results, strict=True):
        assert "Traceback" not in ran.both, (argv, env, ran.err)
        assert ran.code == code, (argv, env, ran)
        assert ran.both.strip(), (argv, env)


@pytest.mark.parametrize("argv", [("preview", "--days", "30"), ("schedule", "-n", "200")])
def test_reader_closing_the_pipe(sample: Path, argv: tuple[str, ...]) -> None:
    """``amplifier preview | head -1``: the command stops quietly when its reader goes, as
    other Unix tools do (exit status 141, nothing on stderr)."""
    process = subprocess.Popen(
        [sys.executable, "-m", "amplifier", *argv],
        cwd=sample,
        env=clean_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert process.stdout is not None and process.stderr is not None
    assert process.stdout.readline()
    process.stdout.close()
    err = process.stderr.read().decode()
    assert process.wait(timeout=30) == 141, err
    assert err == ""


@pytest.mark.parametrize("argv", [("preview", "-n", "2"), ("status",), ("run", "--once")])
def test_terminal_without_utf8(sample: Path, argv: tuple[str, ...]) -> None:
    """A terminal whose encoding lacks '·', 'é' or an emoji: they are shown escaped and the
    command finishes; never a UnicodeEncodeError."""
    ran = amplifier(sample, *argv, PYTHONIOENCODING="ascii", LC_ALL="C")
    no_traceback(ran.err, ran.out)
    assert ran.code == 0, ran
    if argv[0] == "preview":
        assert "fbt-x (x) \\xb7 schedule" in ran.out
