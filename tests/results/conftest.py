"""A project publishing to the three fake servers through the real SDKs, with a fake clock:
the worker posts, the fakes' readers react, and results collection reads the counts back."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from amplifier.check import load
from amplifier.config import Account
from amplifier.networks.base import HttpSettings, MemorySessionStore, Network
from amplifier.networks.bluesky import BlueskyNetwork
from amplifier.networks.mastodon import MastodonNetwork
from amplifier.networks.x import XNetwork
from amplifier.store import Store
from amplifier.testing.fake_bluesky import FakeBluesky
from amplifier.testing.fake_mastodon import FakeMastodon, FakeMastodonSettings
from amplifier.testing.fake_x import FakeX, make_fake_x
from amplifier.worker import Worker

NY = ZoneInfo("America/New_York")
TOKEN = "results-mastodon-token"
HANDLE = "results.test"
PASSWORD = "results-app-password"
HTTP = HttpSettings(connect_timeout=2.0, read_timeout=5.0)

CONFIG = """
posts_dir = "posts"
seed = "results"
{extra}
[guards]
daily_cap = 0
{guards}
[campaigns.fbt]
language = "en"
[campaigns.fbt.hashtags]
pool = ["KeepFamiliesTogether", "EndFamilySeparation"]
per_post = 1
[schedules.ny]
timezone = "America/New_York"
times = ["09:00", "13:00", "18:30"]
[[accounts]]
name = "masto"
network = "mastodon"
instance = "{mastodon}"
campaigns = ["fbt"]
schedule = "ny"
[[accounts]]
name = "bsky"
network = "bluesky"
handle = "{handle}"
service = "{bluesky}"
campaigns = ["fbt"]
schedule = "ny"
[[accounts]]
name = "xa"
network = "x"
api_base = "{x}"
campaigns = ["fbt"]
schedule = "ny"
{x_extra}
"""


def ny(day: str, clock_time: str) -> datetime:
    return datetime.fromisoformat(f"{day}T{clock_time}").replace(tzinfo=NY).astimezone(UTC)


@dataclass
class Clock:
    now: datetime

    def __call__(self) -> datetime:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@dataclass
class Servers:
    mastodon: FakeMastodon
    bluesky: FakeBluesky
    x: FakeX


@pytest.fixture(scope="package")
def servers() -> Iterator[Servers]:
    with (
        FakeMastodon(FakeMastodonSettings(token=TOKEN)) as mastodon,
        FakeBluesky(handle=HANDLE, password=PASSWORD) as bluesky,
        make_fake_x() as x,
    ):
        yield Servers(mastodon, bluesky, x)


class Project:
    """One folder, one database, one worker over the fakes."""

    def __init__(
        self, tmp_path: Path, servers: Servers, *, extra: str = "", guards: str = "",
        x_extra: str = "", start: datetime | None = None,
    ) -> None:  # fmt: skip
        self.servers = servers
        servers.mastodon.reset()
        servers.bluesky.reset()
        servers.x.reset()
        (tmp_path / "posts").mkdir(exist_ok=True)
        for n in range(1, 7):
            tag = "#Asylum" if n % 2 else "#Vigil"
            (tmp_path / "posts" / f"post-{n}.md").write_text(
                f"---\nid: post-{n}\ncampaign: fbt\nlanguage: en\nsource: test fixture\n---\n"
                f"Families belong together, reason number {n}. {tag}\n"
            )
        (tmp_path / "config.toml").write_text(
            CONFIG.format(
                extra=extra, guards=guards, x_extra=x_extra, handle=HANDLE,
                mastodon=servers.mastodon.base_url, bluesky=servers.bluesky.base_url,
                x=servers.x.base_url,
            )
        )  # fmt: skip
        self.settings, self.library = load(tmp_path / "config.toml", None)
        self.clock = Clock(start or ny("2026-11-23", "09:00"))
        self.store = Store(f"sqlite:///{tmp_path / 'state.db'}", clock=self.clock)
        self.store.migrate()
        self.built: list[Network] = []
        self.worker = Worker(
            self.settings, self.library, self.store, self.network, worker_id="w1",
            clock=self.clock, sleep=self.clock.sleep, rehearsals={},
        )  # fmt: skip

    def network(self, account: Account) -> Network:
        net: Network
        if account.network == "mastodon":
            net = MastodonNetwork(
                account.name, instance_url=self.servers.mastodon.base_url, access_token=TOKEN,
                http=HTTP, clock=self.clock, sleep=self.clock.sleep,
            )  # fmt: skip
        elif account.network == "bluesky":
            net = BlueskyNetwork(
                account.name, handle=HANDLE, app_password=PASSWORD,
                sessions=MemorySessionStore(), service_url=self.servers.bluesky.base_url,
                http=HTTP, clock=self.clock,
            )  # fmt: skip
        else:
            net = XNetwork(
                account.name, consumer_key="ck", consumer_secret="cs", access_token="at",
                access_token_secret="ats", api_base=self.servers.x.base_url,
                upload_base=self.servers.x.base_url, http=HTTP, clock=self.clock,
            )  # fmt: skip
        self.built.append(net)
        return net

    def at(self, moment: datetime) -> datetime:
        self.clock.now = moment
        return moment

    def close(self) -> None:
        for net in self.built:
            if isinstance(net, BlueskyNetwork):
                net.close()
        self.store.close()

    def reads(self) -> dict[str, int]:
        """Read requests of posts' counts each fake received so far."""
        m = [
            r
            for r in self.servers.mastodon.server.received
            if r.method == "GET" and r.path.startswith("/api/v1/statuses")
        ]
        b = [r for r in self.servers.bluesky.server.received if "getPosts" in r.path]
        x = [r for r in self.servers.x.received if r.method == "GET" and r.path == "/2/tweets"]
        return {"mastodon": len(m), "bluesky": len(b), "x": len(x)}
