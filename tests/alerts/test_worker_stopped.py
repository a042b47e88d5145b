"""No worker at all: the last long-running worker stopped cleanly (SIGTERM: a scale to 0, a
restart whose new worker crashes at start) and none has run since. One ``worker-stopped``
alert per stop once the threshold has passed, saying when and how it stopped; none while
paused (counted afresh from the resume), none once a worker runs again, none when the event
is left out, none after ``run --once`` or ``post-now``. On SQLite and PostgreSQL, sent
through the real Apprise to a local webhook."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from amplifier.alerts import AlertWatch
from amplifier.testing.receivers import WebhookReceiver
from amplifier.worker.once import run_once

from .conftest import CONFIG, HOOK_SECRET, SECRET_TOKEN, Harness, ny

STOP = "on SIGTERM"


@pytest.fixture
def on_both(tmp_path: Path, database_url: str, hook: WebhookReceiver) -> Iterator[Harness]:
    saved = dict(os.environ)
    yield Harness(tmp_path, database_url, [hook.url + f"?token={HOOK_SECRET}"])
    os.environ.clear()
    os.environ.update(saved)


def status_alert(harness: Harness) -> None:
    """What ``amplifier status --alert`` and the console's watch run: the workers' checks."""
    watch = AlertWatch(harness.store, harness.rules)
    harness.store.enqueue_alerts(watch.workers(harness.clock.now))


def stopped_cleanly(harness: Harness, worker_id: str, how: str = STOP) -> None:
    worker = harness.worker(worker_id)
    worker.heartbeat()
    worker.close(stopped=how)


def drain_all(harness: Harness) -> None:
    sender = harness.sender()
    while sender.drain():
        pass


def test_no_worker_after_a_clean_stop_alerts_once_per_stop(
    on_both: Harness, hook: WebhookReceiver
) -> None:
    harness = on_both
    harness.clock.now = ny("2026-11-23", "08:00")  # 13:00 UTC
    stopped_cleanly(harness, "dyno.1:7:abc")
    assert harness.store.workers_seen() == {}  # its heartbeat is gone, as before
    harness.clock.now += timedelta(minutes=10)  # the threshold: not longer yet
    status_alert(harness)
    assert harness.events() == []
    for _ in range(3):  # status --alert, the console, another look: one alert
        harness.clock.now += timedelta(minutes=5)
        status_alert(harness)
    assert harness.events() == ["worker-stopped"]
    [row] = harness.store.alerts()
    assert row.urgent
    drain_all(harness)
    [message] = hook.messages()
    assert "no worker is running" in message
    assert "No worker has run for 15 minutes" in message
    assert "dyno.1:7:abc, stopped cleanly on SIGTERM at 2026-11-23 13:00 UTC" in message
    assert "heroku ps:scale worker=1" in message and "amplifier pause" in message
    for secret in (SECRET_TOKEN, HOOK_SECRET):
        assert secret not in message
    # Started again, stopped cleanly again: a new stop, one more alert.
    stopped_cleanly(harness, "dyno.1:8:def")
    harness.clock.now += timedelta(minutes=11)
    status_alert(harness)
    status_alert(harness)
    assert harness.events() == ["worker-stopped", "worker-stopped"]


def test_pause_quiets_it_and_a_resume_counts_afresh(on_both: Harness) -> None:
    harness = on_both
    stopped_cleanly(harness, "w1")
    harness.clock.now += timedelta(minutes=1)
    harness.store.set_paused(True, by="organizer")
    harness.clock.now += timedelta(hours=3)
    status_alert(harness)
    assert harness.events() == []
    harness.store.set_paused(False, by="organizer")
    harness.clock.now += timedelta(minutes=10)
    status_alert(harness)
    assert harness.events() == []  # 10 minutes since the resume: not longer than the threshold
    harness.clock.now += timedelta(minutes=1)
    status_alert(harness)
    assert harness.events() == ["worker-stopped"]
    assert "No worker has run for 11 minutes" in harness.store.alerts()[0].body


def test_a_worker_started_since_is_no_such_alert(on_both: Harness) -> None:
    """Another worker runs after the stop: nothing. Killed later (its heartbeat left to go
    stale): it is a silent worker, alerted as such, not a stopped one."""
    harness = on_both
    stopped_cleanly(harness, "old")
    live = harness.worker("new")
    for _ in range(6):
        harness.clock.now += timedelta(minutes=5)
        live.heartbeat()
        live.watch()
        status_alert(harness)
    assert harness.events() == []
    harness.clock.now += timedelta(minutes=11)  # "new" was killed: no more heartbeats
    status_alert(harness)
    status_alert(harness)
    assert harness.events() == ["heartbeat-silent"]


def test_left_out_of_the_events_it_is_quiet(tmp_path: Path, hook: WebhookReceiver) -> None:
    saved = dict(os.environ)
    events = '[alerts]\nevents = ["heartbeat-silent", "delivery-failed"]'
    config = CONFIG.replace("[alerts]", events)
    try:
        harness = Harness(tmp_path, f"sqlite:///{tmp_path / 's.db'}", [hook.url], config=config)
        stopped_cleanly(harness, "w1")
        harness.clock.now += timedelta(hours=2)
        status_alert(harness)
        assert harness.events() == []
    finally:
        os.environ.clear()
        os.environ.update(saved)


def test_run_once_and_post_now_record_no_stop(on_both: Harness) -> None:
    """A one-shot run (cron, Heroku Scheduler) stops cleanly by design: it is not the
    deployment's worker stopping, so it records no stop and alerts nothing."""
    harness = on_both
    harness.clock.now = ny("2026-11-23", "09:01")
    run_once(harness.worker("once"), install_signals=False)
    harness.worker("post-now").close()  # as `amplifier post-now` closes its worker
    assert harness.store.last_worker_stop() is None
    harness.clock.now += timedelta(hours=2)
    status_alert(harness)
    assert "worker-stopped" not in harness.events()
