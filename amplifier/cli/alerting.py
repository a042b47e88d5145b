"""Alerts at the command line: ``amplifier alerts test``, ``status --alert``, and the worker's
rules and sender built from the settings (``run``).

The channels' URLs are secrets: they are added to the values every log line and alert is
scrubbed of, and a channel is only ever shown by its place and kind (``alerts.label``).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TextIO

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from amplifier.alerts import (
    AlertRules,
    AlertSender,
    AlertWatch,
    Timeouts,
    label,
    rules_for,
    send,
    test_message,
    url_secrets,
)
from amplifier.cli.common import CommandError
from amplifier.config import Settings, alert_urls, load_settings, resolve_secrets
from amplifier.logs import RedactSecrets
from amplifier.store import Store

Clock = Callable[[], datetime]
NO_CHANNEL = (
    "no alert channel: the variable {name} (named by [alerts] urls_from_env) is unset or "
    "empty; set it to one or more Apprise URLs separated by spaces or commas, e.g. "
    "{name}='json://127.0.0.1:8080/' (docs/operators.md, 'Alerts')"
)


def secret_values(settings: Settings) -> list[str]:
    """Every secret this deployment holds: account credentials, the database password, the
    alert channels' URLs and their parts."""
    found, _ = resolve_secrets(settings)
    values = [value for secrets in found.values() for value in secrets.values.values()]
    try:
        password = make_url(settings.sqlalchemy_url).password
    except ArgumentError:
        password = None
    if password:
        values.append(str(password))
    return values + url_secrets(alert_urls(settings.alerts))


def alert_rules(settings: Settings) -> AlertRules:
    """The deployment's rules: off without a channel."""
    return rules_for(settings, alert_urls(settings.alerts), secret_values(settings))


def alert_sender(
    settings: Settings, store: Store, sender_id: str, *, worker: bool = True
) -> AlertSender | None:
    """A sender to the configured channels; None without one. ``worker``: ``sender_id`` is a
    worker's id, whose claims others take over once its heartbeat goes stale."""
    urls = alert_urls(settings.alerts)
    if not urls:
        return None
    stale = timedelta(seconds=settings.worker.stale_worker_seconds) if worker else None
    return AlertSender(
        store,
        urls,
        settings.alerts,
        sender_id=sender_id,
        secrets=secret_values(settings),
        stale_after=stale,
    )


def cmd_alerts_test(args: argparse.Namespace, out: TextIO, clock: Clock) -> int:
    settings = load_settings(args.config)
    urls = alert_urls(settings.alerts)
    if not urls:
        raise CommandError(NO_CHANNEL.format(name=settings.alerts.urls_from_env), 1)
    redactor = RedactSecrets(secret_values(settings))
    title, body = test_message()
    failures = 0
    for index, url in enumerate(urls, 1):
        error = send(url, title, body, timeouts=Timeouts(), redact=redactor.redact)
        failures += error is not None
        print(f"{label(url, index)}: {'ok' if error is None else error}", file=out)
    if failures:
        print(
            f"{failures} of {len(urls)} channel(s) failed: check each URL's form "
            "(https://github.com/caronc/apprise/wiki) and that the service is reachable",
            file=out,
        )
    return 1 if failures else 0


def status_alert(settings: Settings, store: Store, clock: Clock, out: TextIO) -> None:
    """``status --alert``: enqueue a silent worker's alert (once per silence) and the
    no-worker alert (once per clean stop), then send what waits in the outbox, from this
    process."""
    urls = alert_urls(settings.alerts)
    if not urls:
        print(NO_CHANNEL.format(name=settings.alerts.urls_from_env), file=out)
        return
    rules = alert_rules(settings)
    watch = AlertWatch(store, rules)
    found = watch.silent(clock())
    dark = watch.stopped(clock())
    store.enqueue_alerts([*found, *dark])
    stop = store.last_worker_stop() if dark else None
    if stop is not None:
        print(
            f"alerts: no worker running: the last one ({stop.worker_id}) stopped cleanly "
            f"{stop.how} at {stop.at:%Y-%m-%d %H:%M} UTC (alerted once per stop)",
            file=out,
        )
    sender = alert_sender(settings, store, f"status:{clock().timestamp()}", worker=False)
    sent = sender.drain() if sender is not None else 0
    pending = store.pending_alert_count()
    print(
        f"alerts: {len(found)} silent worker(s) (each alerted once per silence), {sent} "
        f"alert(s) sent now, {pending} waiting (retried with backoff, or held by quiet hours)",
        file=out,
    )
