"""The console watches too: a worker gone silent alerts once through a real json:// receiver,
sent from the console's own thread while it serves requests, also with a worker's watch and
sender running beside it; nothing when alerts are off."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from amplifier.cli.alerting import alert_rules, alert_sender
from amplifier.cli.web import console_watch
from amplifier.config import WebAccess
from amplifier.networks.memory import MemoryNetwork
from amplifier.testing.receivers import WebhookReceiver
from amplifier.web import Console, create_app, open_console
from amplifier.worker import Worker

from .conftest import MASTODON_TOKEN, START, X_TOKEN, Clock, write_deployment

MORE_TICKS = 5  # ticks after the first alert arrived, in which nothing more may arrive


@pytest.fixture
def hook() -> Iterator[WebhookReceiver]:
    with WebhookReceiver() as receiver:
        yield receiver


def open_watching(
    tmp_path: Path,
    database_url: str,
    access: WebAccess,
    clock: Clock,
    monkeypatch: pytest.MonkeyPatch,
    urls: str | None,
    alerts_section: str = "",
) -> Console:
    """The console over the deployment, with ALERT_URLS as given (None: unset)."""
    for name in list(os.environ):
        if name.startswith(("AMPLIFIER_", "DATABASE_URL", "DYNO", "ALERT_URLS")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("CONSOLE_X1_TOKEN", X_TOKEN)
    monkeypatch.setenv("CONSOLE_M1_TOKEN", MASTODON_TOKEN)
    if urls is not None:
        monkeypatch.setenv("ALERT_URLS", urls)
    config, posts = write_deployment(tmp_path, database_url)
    if alerts_section:
        config.write_text(config.read_text() + alerts_section)
    console = open_console(config, posts, access, clock=clock)
    console.watch = console_watch(console.settings, console.store, clock, every=0.01)
    return console


def went_silent(console: Console, clock: Clock) -> None:
    """Worker 'gone' checked in an hour ago (the threshold is 10 minutes); 'live' just now."""
    clock.now = START - timedelta(hours=1)
    console.store.heartbeat("gone")
    clock.now = START
    console.store.heartbeat("live")


def test_the_console_alerts_once_about_a_silent_worker(
    tmp_path: Path,
    database_url: str,
    access: WebAccess,
    clock: Clock,
    monkeypatch: pytest.MonkeyPatch,
    hook: WebhookReceiver,
) -> None:
    console = open_watching(tmp_path, database_url, access, clock, monkeypatch, hook.url)
    went_silent(console, clock)
    watch = console.watch
    assert watch is not None
    try:
        with TestClient(create_app(console)) as client:
            assert hook.arrived.wait(30), "no alert reached the receiver"
            assert client.get("/healthz").status_code == 200  # requests served meanwhile
            assert watch.wait_for_ticks(watch.ticks + MORE_TICKS)
        assert watch.thread is not None and not watch.thread.is_alive()  # stopped at shutdown
        messages = hook.messages()
        assert len(messages) == 1, messages
        assert "gone" in messages[0] and "live" not in messages[0]
        assert [row.event for row in console.store.alerts()] == ["heartbeat-silent"]
    finally:
        console.close()


def test_a_console_and_a_worker_watching_together_alert_once(
    tmp_path: Path,
    database_url: str,
    access: WebAccess,
    clock: Clock,
    monkeypatch: pytest.MonkeyPatch,
    hook: WebhookReceiver,
) -> None:
    console = open_watching(tmp_path, database_url, access, clock, monkeypatch, hook.url)
    went_silent(console, clock)
    settings, store = console.settings, console.store.__class__(database_url, clock=clock)
    worker = Worker(
        settings,
        console.library,
        store,
        lambda account: MemoryNetwork(account.name, account.network),
        worker_id="live",
        clock=clock,
        alerts=alert_rules(settings),
        alert_sender=alert_sender(settings, store, "live"),
    )
    watch = console.watch
    assert watch is not None
    worker_looks = 0

    def worker_watching() -> None:
        nonlocal worker_looks
        while not worker.stop.is_set():
            worker.watch()
            worker_looks += 1
            worker.stop.wait(0.01)

    looking = threading.Thread(target=worker_watching, daemon=True)
    try:
        with TestClient(create_app(console)):
            looking.start()
            worker.alerting.start(worker.stop, every=0.01)
            assert hook.arrived.wait(30), "no alert reached the receiver"
            seen = worker_looks
            assert watch.wait_for_ticks(watch.ticks + MORE_TICKS)
            while worker_looks < seen + MORE_TICKS and looking.is_alive():
                worker.stop.wait(0.01)
            worker.stop.set()
            looking.join(10)
            worker.alerting.join(10)
        assert worker_looks >= seen + MORE_TICKS
        assert len(hook.messages()) == 1, hook.messages()
        assert [row.event for row in console.store.alerts()] == ["heartbeat-silent"]
    finally:
        worker.stop.set()
        store.close()
        console.close()


@pytest.mark.parametrize("how", ["no channel", "no events"])
def test_no_alert_when_alerts_are_off(
    tmp_path: Path,
    database_url: str,
    access: WebAccess,
    clock: Clock,
    monkeypatch: pytest.MonkeyPatch,
    hook: WebhookReceiver,
    how: str,
) -> None:
    """ALERT_URLS unset: no watch at all; a channel but ``events = []``: it ticks, alerts
    nothing."""
    if how == "no channel":
        console = open_watching(tmp_path, database_url, access, clock, monkeypatch, None)
    else:
        section = "\n[alerts]\nevents = []\n"
        console = open_watching(
            tmp_path, database_url, access, clock, monkeypatch, hook.url, section
        )
    went_silent(console, clock)
    try:
        with TestClient(create_app(console)) as client:
            assert client.get("/healthz").status_code == 200
            if how == "no channel":
                assert console.watch is None
            else:
                assert console.watch is not None
                assert console.watch.wait_for_ticks(MORE_TICKS)
        assert console.store.alerts() == []
        assert hook.requests == 0
    finally:
        console.close()


@pytest.mark.parametrize("paused", [False, True])
def test_the_console_alerts_once_when_no_worker_runs(
    tmp_path: Path,
    database_url: str,
    access: WebAccess,
    clock: Clock,
    monkeypatch: pytest.MonkeyPatch,
    hook: WebhookReceiver,
    paused: bool,
) -> None:
    """The last worker stopped cleanly (SIGTERM) an hour ago and none runs: one alert from
    the console's thread, naming it and how it stopped; none while the campaign is paused."""
    console = open_watching(tmp_path, database_url, access, clock, monkeypatch, hook.url)
    clock.now = START - timedelta(hours=1)
    console.store.heartbeat("dyno.1:9:abc")
    console.store.forget_worker("dyno.1:9:abc", stopped="on SIGTERM")
    if paused:
        console.store.set_paused(True, by="organizer")
    clock.now = START
    watch = console.watch
    assert watch is not None
    try:
        with TestClient(create_app(console)) as client:
            if not paused:
                assert hook.arrived.wait(30), "no alert reached the receiver"
            assert client.get("/healthz").status_code == 200
            assert watch.wait_for_ticks(watch.ticks + MORE_TICKS)
        if paused:
            assert hook.messages() == [] and console.store.alerts() == []
            return
        [message] = hook.messages()
        assert "no worker is running" in message
        assert "dyno.1:9:abc, stopped cleanly on SIGTERM" in message
        assert [row.event for row in console.store.alerts()] == ["worker-stopped"]
    finally:
        console.close()
