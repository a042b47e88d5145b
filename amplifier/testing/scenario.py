"""What a process-level scenario runs on: three fake-backed accounts, a schedule due now, a config.

Shared by the process tests (tests/process) and the fault soak (bench/soak.py). The schedule
sits in a fixed-offset zone where it is now 12:xx, so slots some minutes back are due at once
and never cross midnight. Credentials are named in the config (``secrets_from_env``) and given
to each worker only through its environment.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from amplifier.config import Schedule as ConfigSchedule
from amplifier.schedule import next_slots, schedule_spec

if TYPE_CHECKING:
    from amplifier.testing.fakes import Fakes

# The repository's sample posts: the package is run from a clone (pip install -e .).
POSTS_DIR = Path(__file__).resolve().parents[2] / "posts"
CAMPAIGN = "families-belong-together"  # the sample posts' campaign
BLUESKY_HANDLE = "amplifier.test"
# account -> network; one account per network, so a text on a server names its row. Passes
# take accounts in this order: Bluesky first, as only the worker's own look-up (no server-side
# dedupe) stands between a crash and a duplicate there.
ACCOUNTS = {"pt-bluesky": "bluesky", "pt-mastodon": "mastodon", "pt-x": "x"}
POST_PATHS = {
    "x": "/2/tweets",
    "mastodon": "/api/v1/statuses",
    "bluesky": "/xrpc/com.atproto.repo.createRecord",
}
SECRET_NAMES = {  # account -> credential -> environment variable
    "pt-x": {
        "consumer_key": "PT_X_CONSUMER_KEY",
        "consumer_secret": "PT_X_CONSUMER_SECRET",
        "access_token": "PT_X_ACCESS_TOKEN",
        "access_token_secret": "PT_X_ACCESS_TOKEN_SECRET",
    },
    "pt-mastodon": {"access_token": "PT_MASTODON_ACCESS_TOKEN"},
    "pt-bluesky": {"app_password": "PT_BLUESKY_APP_PASSWORD"},
}


def noon_zone(now: datetime) -> str:
    """A fixed-offset zone where it is now 12:xx, so minutes back never cross midnight."""
    offset = 12 - now.astimezone(UTC).hour  # -11 .. +12; Etc/GMT-5 is five hours AHEAD of UTC
    return f"Etc/GMT{'-' if offset > 0 else '+'}{abs(offset)}" if offset else "Etc/GMT"


@dataclass(frozen=True)
class Schedule:
    """The one schedule every account shares: its times, and the keys of the slots now due."""

    zone: str
    times: tuple[str, ...]  # every configured "HH:MM", due or not
    keys: tuple[str, ...]  # amplifier.schedule.slots.Slot.key ("YYYY-MM-DDTHH:MM") of each due slot
    offset_minutes: int = 0  # random_offset_minutes
    seed: str = "process-tests"  # the config's seed: with the offset, it decides due times

    @classmethod
    def minutes_ago(
        cls,
        minutes: Sequence[int],
        now: datetime | None = None,
        *,
        ahead: Sequence[int] = (),
        offset_minutes: int = 0,
    ) -> Schedule:
        """Slots ``minutes`` ago (due), plus nominal times ``ahead`` minutes from now."""
        now = now or datetime.now(UTC)
        zone = noon_zone(now)
        local = now.astimezone(ZoneInfo(zone)).replace(second=0, microsecond=0)
        past = [local - timedelta(minutes=back) for back in sorted(set(minutes), reverse=True)]
        future = [local + timedelta(minutes=forward) for forward in sorted(set(ahead))]
        # Due whatever the offset, so the set of due slots never grows during a test.
        assert all(m <= now - timedelta(minutes=offset_minutes + 1) for m in past)
        assert all(m.date() == local.date() for m in past + future), "noon_zone: no midnight"
        times = tuple(m.strftime("%H:%M") for m in past + future)
        return cls(zone, times, tuple(m.strftime("%Y-%m-%dT%H:%M") for m in past), offset_minutes)

    def next_due(self, account: str, after: datetime, seed: str | None = None) -> datetime:
        """When ``account``'s next slot after ``after`` is due, by amplifier's own slot code."""
        spec = schedule_spec(
            ConfigSchedule(
                timezone=self.zone, times=self.times, random_offset_minutes=self.offset_minutes
            )
        )
        # The worker's seed key for an account is "<seed>:<account>" (planner.seed_key).
        return next_slots(spec, f"{seed or self.seed}:{account}", after, 1)[0].due_at

    def firing_within(self, start: datetime, end: datetime, now: datetime) -> Schedule:
        """This schedule with a seed that makes every account's first slot after ``now`` due
        between ``start`` and ``end``."""
        for attempt in range(20_000):
            seed = f"process-tests-{attempt}"
            if all(start <= self.next_due(a, now, seed) <= end for a in ACCOUNTS):
                return replace(self, seed=seed)
        raise AssertionError("no seed puts every account's next slot in the window")


@dataclass(frozen=True)
class Timing:
    """The [worker] section (retry_* go to [worker.retry]): a scenario settles in seconds."""

    grace_minutes: int = 60
    lookback_hours: int = 1
    tick_seconds: int = 2
    stale_worker_seconds: int = 10  # the smallest the config allows
    max_attempts_total: int = 30
    retry_max_attempts: int = 10
    retry_initial_wait: float = 0.1
    retry_max_wait: float = 0.5
    retry_total_timeout: float = 20.0


def config_text(database_url: str, schedule: Schedule, fakes: Fakes, timing: Timing) -> str:
    """The config: three fake-backed accounts on ``schedule``, credentials named, never given."""

    def table(name: str, values: dict[str, Any], *, array: bool = False) -> list[str]:
        # JSON strings, numbers, booleans and arrays of them are valid TOML.
        header = f"[[{name}]]" if array else f"[{name}]"
        return [header, *(f"{key} = {json.dumps(v)}" for key, v in values.items()), ""]

    rules = asdict(timing)
    top = {"posts_dir": str(POSTS_DIR), "database_url": database_url, "seed": schedule.seed}
    lines = [*(f"{key} = {json.dumps(v)}" for key, v in top.items()), "dry_run = false", ""]
    lines += table("worker", {k: v for k, v in rules.items() if not k.startswith("retry_")})
    lines += table("worker.retry", {k[6:]: v for k, v in rules.items() if k.startswith("retry_")})
    # The daily cap (8 by default) would skip most of a scenario's slots: these runs are about
    # exactly-once delivery, not the guards.
    lines += table("guards", {"daily_cap": 0})
    lines += table(f"campaigns.{CAMPAIGN}", {"language": "en"})
    tags: dict[str, Any] = {"always": ["FamiliesBelongTogether"], "per_post": 1}
    tags["pool"] = ["KeepFamiliesTogether", "EndFamilySeparation", "AsylumIsARight"]
    lines += table(f"campaigns.{CAMPAIGN}.hashtags", tags)
    when = {"timezone": schedule.zone, "times": list(schedule.times)}
    lines += table("schedules.now", {**when, "random_offset_minutes": schedule.offset_minutes})
    where: dict[str, dict[str, Any]] = {
        "pt-x": {"api_base": fakes.x.base_url},
        "pt-mastodon": {"instance": fakes.mastodon.base_url},
        "pt-bluesky": {"handle": BLUESKY_HANDLE, "service": fakes.bluesky.base_url},
    }
    for account, network in ACCOUNTS.items():
        names = {"name": account, "network": network, "campaigns": [CAMPAIGN], "schedule": "now"}
        lines += table("accounts", {**names, **where[account]}, array=True)
        lines += table("accounts.secrets_from_env", SECRET_NAMES[account])
    return "\n".join(lines)
