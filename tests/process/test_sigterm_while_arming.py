"""Found by the fault soak (bench/soak.py): SIGTERM while the scheduler re-arms its slot jobs
hangs `amplifier run` until SIGKILL.

After every pass, ``scheduler.fire`` re-arms one date job per account (``arm``: get_job and
add_job, which take APScheduler's job-store lock). SIGTERM wakes ``run_forever``, whose
``scheduler.shutdown(wait=True)`` takes that same lock and then waits for the running jobs; the
job in ``arm`` waits for the lock: neither moves, and Heroku SIGKILLs the dyno 30 s later.
Many accounts make ``arm`` long enough to hit every time: SIGTERM goes out 0.1 s after the
first pass has published the last account's due post, while ``arm`` runs. Fixed by stopping
the scheduler without waiting and then waiting, bounded, for the pass in flight.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import pytest

from amplifier.testing.rig import WorkerProcess, poll_until, wait_for
from amplifier.testing.scenario import CAMPAIGN, POSTS_DIR, Schedule

IDLE_ACCOUNTS = 1500  # each re-armed after every pass (arm takes ~1 s); none has a slot due
INTO_ARM = 0.1  # seconds after the pass's last line: the pass has returned, arm() runs
EXIT_WITHIN = 10.0  # as test_sigterm; Heroku allows 30


def config(tmp_path: Path) -> Path:
    """IDLE_ACCOUNTS accounts with no slot due, then 'last' with one slot due a minute ago; no
    credentials anywhere, so every post is a dry run (printed, recorded 'rehearsed', never
    sent)."""
    due = Schedule.minutes_ago([1])
    url = f"sqlite:///{tmp_path / 'state.db'}"
    lines = [
        f"posts_dir = {json.dumps(str(POSTS_DIR))}",
        f"database_url = {json.dumps(url)}",
        "",
        "[worker]",
        "tick_seconds = 2",
        "[guards]",
        "daily_cap = 0",
        f"[campaigns.{CAMPAIGN}]",
        'language = "en"',
        "[schedules.idle]",  # 11.5 h from now both ways: nothing due, nothing missed
        f"timezone = {json.dumps(due.zone)}",
        'times = ["00:30"]',
        "[schedules.now]",
        f"timezone = {json.dumps(due.zone)}",
        f"times = {json.dumps(list(due.times))}",
    ]
    for name, schedule in [*((f"idle-{i}", "idle") for i in range(IDLE_ACCOUNTS)), ("last", "now")]:
        lines += ["[[accounts]]", f'name = "{name}"', 'network = "mastodon"']
        lines += [f'campaigns = ["{CAMPAIGN}"]', f'schedule = "{schedule}"']
        lines += ['instance = "http://127.0.0.1:9"']  # never contacted: dry run
    path = tmp_path / "config.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.mark.slow
def test_sigterm_as_the_slot_jobs_are_rearmed_exits_in_seconds(tmp_path: Path) -> None:
    """SIGTERM right after a pass, while its jobs are re-armed: exit 0 within 10 s."""
    (tmp_path / "logs").mkdir()
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith("AMPLIFIER_")}
    env.pop("DATABASE_URL", None)
    command = [sys.executable, "-m", "amplifier", "run", "--config", str(config(tmp_path))]
    worker = WorkerProcess("arming", command, env | {"PYTHONUNBUFFERED": "1"}, tmp_path)
    try:
        wait_for(
            lambda: worker.events("rehearsed") or not worker.alive,
            timeout=60,
            what="the first pass to rehearse the last account's post",
            interval=0.005,
            describe=worker.tail,
        )
        assert worker.alive, worker.tail()
        moment = time.monotonic() + INTO_ARM
        poll_until(lambda: time.monotonic() >= moment, INTO_ARM + 1, interval=0.01)
        code, took = worker.stop(timeout=EXIT_WITHIN)
        assert code == 0, f"no exit {took:.0f} s after SIGTERM:\n{worker.tail(5)}"
    finally:
        worker.close()
