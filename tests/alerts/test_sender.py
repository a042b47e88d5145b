"""The sender through the real Apprise: coalescing, quiet hours, retries with backoff, channels
that fail or hang (posts still on time), email, and no secret in any alert."""

from __future__ import annotations

import email
import threading
from datetime import timedelta
from email.message import Message
from pathlib import Path

from amplifier.errors import PostRejected
from amplifier.store import AlertDraft
from amplifier.testing.receivers import SmtpReceiver, WebhookReceiver

from .conftest import HOOK_SECRET, SECRET_TOKEN, Harness, ny


def drafts(count: int, *, urgent: bool = False, prefix: str = "a") -> list[AlertDraft]:
    return [
        AlertDraft("delivery-failed", f"{prefix}:{n}", f"alert {prefix}{n}", f"body {n}",
                   urgent=urgent)
        for n in range(count)
    ]  # fmt: skip


def text_of(raw: str) -> str:
    """An email's decoded text parts."""
    message: Message = email.message_from_string(raw)
    parts = [part for part in message.walk() if part.get_content_type() == "text/plain"]
    return (
        "\n".join(
            str(part.get_payload(decode=True).decode("utf-8"))  # type: ignore[union-attr]
            for part in parts
        )
        + f"\n{message['Subject']}"
    )


def test_a_storm_is_one_message(harness: Harness, hook: WebhookReceiver) -> None:
    """Fifty alerts pending at one drain are one message listing all fifty, sent once."""
    harness.store.enqueue_alerts(drafts(50))
    assert harness.sender().drain() == 50
    assert harness.sender("s2").drain() == 0
    [message] = hook.messages()
    assert "50 alerts" in message
    assert all(f"alert a{n}\n" in message for n in range(50))


def test_quiet_hours_hold_what_can_wait(tmp_path: Path, hook: WebhookReceiver) -> None:
    """Between 22:00 and 07:00 New York only urgent alerts go; the rest go at 07:00."""
    harness = Harness(tmp_path, f"sqlite:///{tmp_path / 's.db'}", [hook.url], quiet="22:00-07:00")
    harness.clock.now = ny("2026-11-23", "23:00")
    harness.store.enqueue_alerts(drafts(3) + drafts(1, urgent=True, prefix="u"))
    assert harness.sender().drain() == 1
    assert [m.split("\n")[0] for m in hook.messages()] == ["alert u0"]
    harness.clock.now = ny("2026-11-24", "06:59")
    assert harness.sender().drain() == 0
    harness.clock.now = ny("2026-11-24", "07:00")
    assert harness.sender().drain() == 3
    assert len(hook.messages()) == 2


def test_a_failing_channel_is_retried_with_backoff(tmp_path: Path) -> None:
    """A channel answering 500: the alert waits 30 s, then 60 s, ... and goes once it is
    back; a second channel that took it at once never gets it again."""
    with WebhookReceiver("fail") as down, WebhookReceiver() as up:
        harness = Harness(tmp_path, f"sqlite:///{tmp_path / 's.db'}", [down.url, up.url])
        harness.store.enqueue_alerts(drafts(1))
        sender = harness.sender()
        assert sender.drain() == 0
        [row] = harness.store.alerts()
        assert row.attempts == 1 and "500" in (row.last_error or "")
        assert "1. json://127.0.0.1" in (row.last_error or "")
        assert sender.drain() == 0  # not due yet: nothing claimed, nothing sent
        assert down.requests == 1
        harness.clock.now += timedelta(seconds=30)
        assert sender.drain() == 0
        assert down.requests == 2
        harness.clock.now += timedelta(seconds=59)
        sender.drain()
        assert down.requests == 2  # the second wait is 60 s
        down.mode = "ok"
        harness.clock.now += timedelta(seconds=1)
        assert sender.drain() == 1
        assert len(down.messages()) == 1 and len(up.messages()) == 1
        assert harness.store.alerts()[0].sent_at is not None


def test_email_through_a_local_smtp_server(tmp_path: Path) -> None:
    """A mailto:// channel gets the alert as an email, subject and text."""
    with SmtpReceiver() as smtp:
        harness = Harness(tmp_path, f"sqlite:///{tmp_path / 's.db'}", [smtp.url()])
        harness.store.enqueue_alerts(drafts(1))
        assert harness.sender().drain() == 1
        [raw] = smtp.received
        assert "alert a0" in text_of(raw) and "body 0" in text_of(raw)


def test_posts_go_out_on_time_while_the_channel_hangs(tmp_path: Path) -> None:
    """The sender's thread stuck on a channel that never answers; the worker's passes publish
    every slot at its due time all the same, and their failures wait in the outbox."""
    with WebhookReceiver("hang") as hang:
        harness = Harness(tmp_path, f"sqlite:///{tmp_path / 's.db'}", [hang.url])
        harness.nets["t-masto"].enqueue(PostRejected("422 refused"))
        stop = threading.Event()
        sender = harness.sender(backoff=timedelta(0))
        sender.timeouts = type(sender.timeouts)(connect=30, read=30)
        worker = harness.worker()
        harness.store.enqueue_alerts(drafts(1))
        thread = sender.start(stop, every=0.01)
        try:
            assert hang.arrived.wait(timeout=30)  # the sender is inside its hanging request
            for clock_time in ("09:00", "13:00", "18:30"):
                harness.clock.now = ny("2026-11-23", clock_time)
                worker.run_pending()
            [claimed] = [row for row in harness.store.alerts() if row.dedup_key == "a:0"]
            assert claimed.sent_at is None and claimed.attempts == 0  # still hanging meanwhile
            rows = harness.store.history(limit=100)
            assert len(rows) == 6  # every slot of both accounts recorded at its pass
            assert all(row.updated_at == row.due_at for row in rows)  # no pass waited
            published = [row for row in rows if row.status == "published"]
            assert published and all(row.sent_at == row.due_at for row in published)
            assert "delivery-failed" in [row.event for row in harness.store.alerts(pending=True)]
        finally:
            stop.set()
            hang.close()
            thread.join(timeout=60)


def test_no_secret_in_any_alert(tmp_path: Path) -> None:
    """A credential in a platform's error text and the channel URL's token: scrubbed from
    every alert stored, sent by webhook and by email, and from the sender's errors."""
    with WebhookReceiver() as hook, SmtpReceiver() as smtp, WebhookReceiver("fail") as down:
        urls = [f"{hook.url}?token={HOOK_SECRET}", smtp.url(), f"{down.url}?token={HOOK_SECRET}"]
        harness = Harness(tmp_path, f"sqlite:///{tmp_path / 's.db'}", urls)
        harness.nets["t-masto"].enqueue(PostRejected(f"401 bad token {SECRET_TOKEN}"))
        harness.nets["t-x"].enqueue(PostRejected(f"echo {HOOK_SECRET} and {urls[0]}"))
        harness.clock.now = ny("2026-11-23", "09:00")
        worker = harness.worker()
        worker.run_pending()
        harness.clock.now = ny("2026-11-23", "20:00")
        worker.watch()
        harness.sender().drain()
        stored = [f"{r.subject}\n{r.body}\n{r.last_error}" for r in harness.store.alerts()]
        seen = stored + hook.messages() + [text_of(raw) for raw in smtp.received]
        assert len(hook.messages()) == 1 and len(smtp.received) == 1
        assert any("[redacted]" in text for text in seen)
        for text in seen:
            for secret in (SECRET_TOKEN, HOOK_SECRET, *urls):
                assert secret not in text
