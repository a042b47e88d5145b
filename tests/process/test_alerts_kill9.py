"""kill -9 a worker while its alert sender hangs on the channel: the next worker sends each
alert once (after the dead worker's heartbeat goes stale), and no alert carries a secret."""

from __future__ import annotations

from pathlib import Path

from amplifier.testing.fakeserver import Fault
from amplifier.testing.receivers import WebhookReceiver

from .harness import POST_PATHS, Rig, Schedule, wait_for

SLOTS = 3


def test_alerts_survive_kill9_exactly_once(tmp_path: Path) -> None:
    """Every Mastodon post refused (422): one delivery-failed alert each. Worker A claims them
    and hangs on the webhook; kill -9. Worker B, once A is stale, sends each one exactly once."""
    schedule = Schedule.minutes_ago(range(1, SLOTS + 1))
    url = f"sqlite:///{tmp_path / 'state.db'}"
    with WebhookReceiver("hang") as hook, Rig(tmp_path, database_url=url, schedule=schedule) as rig:
        for _ in range(SLOTS):
            rig.fakes.add_fault(
                "mastodon",
                Fault(path_prefix=POST_PATHS["mastodon"], status=422, body={"error": "refused"}),
            )
        rig.env["ALERT_URLS"] = hook.url
        first = rig.spawn("first")

        def failed_and_claimed() -> bool | None:
            alerts = rig.store.alerts(pending=True)
            failed = [a for a in alerts if a.event == "delivery-failed"]
            return (len(failed) == SLOTS and hook.arrived.is_set()) or None

        wait_for(failed_and_claimed, timeout=60, what="three failures and a hanging sender")
        first.kill9()
        assert rig.store.alerts(pending=False) == []  # nothing was sent before the kill
        hook.mode = "ok"
        second = rig.spawn("second")
        wait_for(
            lambda: rig.store.alerts(pending=True) == [] or None,
            timeout=90,
            what="every alert sent by the second worker",
        )
        second.stop()
        failed = [row for row in rig.store.history(limit=100) if row.status == "failed"]
        assert len(failed) == SLOTS
        text = "\n".join(hook.messages())
        for row in failed:
            assert text.count(f"for the slot {row.slot_key} was not published") == 1, text
        for secret in rig.secrets.values():
            assert secret not in text
        assert rig.secret_leaks() == []
