"""Every line a real worker writes is one logfmt event with its time, zone said, and no secret.

A worker runs against the fake X, Mastodon and Bluesky servers through a login, publishes, a
429 and a 5xx on every network, and SIGTERM; a second worker starts on the same database
(nothing left to do) and stops. Every line either wrote, on stdout or
stderr, adapters' lines included, must parse as logfmt, start with ``time`` in UTC with its
``Z`` and a ``level``, name its ``event``, and hold no credential value.
"""

from __future__ import annotations

import re
from pathlib import Path

from amplifier.logs import parse_logfmt
from amplifier.testing.fakeserver import Fault
from amplifier.testing.faults import rate_limited

from .harness import POST_PATHS, Rig, Schedule, sqlite_database

TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


def test_every_worker_line_is_one_logfmt_event_without_secrets(tmp_path: Path) -> None:
    """Publish, 429, 5xx, login, shutdown: each line logfmt, time with zone, no secret."""
    schedule = Schedule.minutes_ago([3, 2, 1])
    with Rig(tmp_path, database_url=sqlite_database(tmp_path), schedule=schedule) as rig:
        for network, path in POST_PATHS.items():
            # The first publish on each network meets a 429, the next a 503. The reset is set
            # now and must still be ahead when the worker, not started yet, meets it.
            rig.fakes.add_fault(network, rate_limited(network, 10.0))
            rig.fakes.add_fault(network, Fault(path_prefix=path, status=503, body={"e": "down"}))
        first = rig.spawn("first")
        outcome = rig.wait_settled(timeout=90, watch=first)
        assert outcome.problems(all_published=True) == []
        code, _ = first.stop()
        assert code == 0, first.tail()
        second = rig.spawn("second")
        rig.wait_started(second)
        code, _ = second.stop()
        assert code == 0, second.tail()

        events: dict[str, list[dict[str, str]]] = {}
        for worker in (first, second):
            for number, line in enumerate(worker.output().splitlines(), start=1):
                try:
                    fields = parse_logfmt(line)
                except ValueError as error:
                    raise AssertionError(f"{worker.name} line {number}: {error}") from None
                assert TIME.match(fields.get("time", "")), f"{worker.name}:{number}: {line}"
                assert list(fields)[:3] == ["time", "level", "event"], line
                events.setdefault(fields["event"], []).append(fields)
        assert rig.secret_leaks() == []

        networks = {row["network"] for row in events.get("posted", [])}
        assert networks == {"x", "mastodon", "bluesky"}, sorted(events)
        assert [row["session"] for row in events["login"]] == ["app-password"]  # once only
        assert {row["level"] for row in events["deferred"]} == {"warning"}  # the 429s
        assert len(events["deferred"]) >= 3
        assert events["retry"], "the 503s are retried"
        assert {"starting", "started", "stopping", "stopped"} <= set(events)
        starting = events["starting"][0]
        assert starting["live"] == "pt-bluesky,pt-mastodon,pt-x" and starting["dry_run"] == "none"
