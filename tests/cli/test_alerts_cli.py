"""``amplifier alerts test`` and ``status --alert`` as processes, against local receivers; what
the worker loads with alerts off and on."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from amplifier.testing.receivers import SmtpReceiver, WebhookReceiver

from .conftest import amplifier, clean_env
from .test_imports import loaded_by

TOKEN = "hook-token-5e4d3c2b1a"


def test_alerts_test_reports_each_channel(sample: Path) -> None:
    """One message to each channel; 'ok' or the error per channel, by place and kind only,
    never the URL's token; exit 1 when one fails."""
    with WebhookReceiver() as hook, SmtpReceiver() as smtp, WebhookReceiver("fail") as down:
        urls = f"{hook.url}?token={TOKEN}, {smtp.url()} {down.url}?token={TOKEN}"
        ran = amplifier(sample, "alerts", "test", ALERT_URLS=urls)
        assert ran.code == 1, ran.both
        lines = ran.out.splitlines()
        assert lines[0] == f"1. json://127.0.0.1:{hook.port}: ok"
        assert lines[1] == f"2. mailto://127.0.0.1:{smtp.port}: ok"
        assert lines[2].startswith(f"3. json://127.0.0.1:{down.port}: ")
        assert "500" in lines[2]
        assert "1 of 3 channel(s) failed" in ran.out
        assert TOKEN not in ran.both
        assert len(hook.messages()) == 1 and "test alert" in hook.messages()[0]
        assert len(smtp.received) == 1


def test_alerts_test_without_a_channel_says_how_to_set_one(sample: Path) -> None:
    """No ALERT_URLS: exit 1, naming the variable and the form of its value."""
    ran = amplifier(sample, "alerts", "test")
    assert ran.code == 1
    assert "ALERT_URLS" in ran.err and "Apprise URLs" in ran.err


def test_status_alert_reports_a_silent_worker_once(sample: Path) -> None:
    """A worker whose heartbeat stopped 20 minutes ago: the first ``status --alert`` sends one
    alert, the next ones none."""
    assert amplifier(sample, "status").code == 0  # makes and migrates the database
    silent = (datetime.now(UTC) - timedelta(minutes=20)).strftime("%Y-%m-%d %H:%M:%S.%f")
    with sqlite3.connect(sample / "amplifier.db") as conn:
        conn.execute("INSERT INTO workers VALUES ('dyno.1:42:abc', ?)", (silent,))
    with WebhookReceiver() as hook:
        runs = [amplifier(sample, "status", "--alert", ALERT_URLS=hook.url) for _ in range(3)]
        assert all(ran.code == 0 for ran in runs), runs
        assert "alerts: 1 silent worker(s) (each alerted once per silence), 1 alert(s) sent" in (
            runs[0].out
        )
        assert ", 0 alert(s) sent now, 0 waiting" in runs[2].out
        [message] = hook.messages()
        assert "worker dyno.1:42:abc has not checked in" in message


def test_an_idle_worker_never_loads_apprise(sample: Path) -> None:
    """``run --once`` with nothing to send, alerts off or on: Apprise stays unloaded."""
    for env in ({}, {"ALERT_URLS": "json://127.0.0.1:9/"}):
        code, modules, output = loaded_by(sample, "run", "--once", **env)
        assert code == 0, output
        assert "apprise" not in modules


def test_status_alert_reports_a_worker_stopped_by_sigterm_once(sample: Path) -> None:
    """A real ``amplifier run`` stopped by SIGTERM (Heroku scaling it to 0) and no worker
    since: once the stop is older than the threshold, the first ``status --alert`` sends one
    alert saying when and how it stopped, the next ones none; paused, none at all."""
    worker = subprocess.Popen(
        [sys.executable, "-m", "amplifier", "run"],
        cwd=sample,
        env=clean_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while not heartbeats(sample) and time.monotonic() < deadline:
            assert worker.poll() is None, worker.communicate()[1]
            time.sleep(0.1)
        [worker_id] = heartbeats(sample)
        worker.send_signal(signal.SIGTERM)
        _, err = worker.communicate(timeout=60)
    finally:
        worker.kill()
    assert worker.returncode == 0, err
    assert heartbeats(sample) == []
    # The threshold (10 minutes) passes: the stop, as recorded, moved 20 minutes back.
    with sqlite3.connect(sample / "amplifier.db") as conn:
        [(stopped_at, how, by)] = conn.execute(
            "SELECT updated_at, value, by FROM flags WHERE name = 'worker_stopped'"
        ).fetchall()
        assert (how, by) == ("on SIGTERM", worker_id)
        earlier = datetime.fromisoformat(stopped_at) - timedelta(minutes=20)
        conn.execute(
            "UPDATE flags SET updated_at = ? WHERE name = 'worker_stopped'",
            (earlier.strftime("%Y-%m-%d %H:%M:%S.%f"),),
        )
    with WebhookReceiver() as hook:
        runs = [
            amplifier(sample, "status", "--alert", ALERT_URLS=f"{hook.url}?token={TOKEN}")
            for _ in range(3)
        ]
        assert all(ran.code == 0 for ran in runs), runs
        assert f"no worker running: the last one ({worker_id}) stopped cleanly on SIGTERM" in (
            runs[0].out
        )
        assert "1 alert(s) sent now" in runs[0].out
        assert ", 0 alert(s) sent now, 0 waiting" in runs[2].out
        [message] = hook.messages()
        assert f"the last one, {worker_id}, stopped cleanly on SIGTERM at " in message
        assert TOKEN not in message
    # Another clean stop, older than the threshold too, but the campaign is paused: quiet.
    assert amplifier(sample, "pause").code == 0
    with sqlite3.connect(sample / "amplifier.db") as conn:
        conn.execute(
            "UPDATE flags SET updated_at = ?, by = 'later' WHERE name = 'worker_stopped'",
            ((earlier + timedelta(minutes=1)).strftime("%Y-%m-%d %H:%M:%S.%f"),),
        )
    with WebhookReceiver() as hook:
        ran = amplifier(sample, "status", "--alert", ALERT_URLS=hook.url)
        assert ran.code == 0 and "no worker running" not in ran.out, ran.both
        assert hook.messages() == []


def heartbeats(sample: Path) -> list[str]:
    """The worker ids with a heartbeat in the sample's database (none before it exists)."""
    if not (sample / "amplifier.db").exists():
        return []
    try:
        with sqlite3.connect(sample / "amplifier.db") as conn:
            return [row[0] for row in conn.execute("SELECT worker_id FROM workers")]
    except sqlite3.OperationalError:  # not migrated yet
        return []
