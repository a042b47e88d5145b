"""What the console serves from: the settings, the posts as ``check`` sees them, the store."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from amplifier.check import CheckReport, run_check
from amplifier.config import Account, Settings, WebAccess
from amplifier.content import Library
from amplifier.errors import ConfigError
from amplifier.forecast import rehearsals
from amplifier.networks.base import Network
from amplifier.schedule import Slot
from amplifier.store import Store, stored_instance_limits
from amplifier.web.reads import LoopReads
from amplifier.web.watching import ConsoleWatch

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Console:
    """Everything a request reads; ``clock`` is injected so tests pick the moment."""

    settings: Settings
    library: Library
    report: CheckReport
    store: Store
    access: WebAccess
    clock: Clock = utc_now
    rehearsals: Mapping[str, str] = field(default_factory=dict)
    config_path: str | None = None
    posts_path: str | None = None
    # Builds each account's network for post-now; None: the deployment's own (tests give fakes).
    network_factory: Callable[[Account], Network] | None = None
    # The silent-worker watch and the alerts' sender, run by the app's lifespan; None: alerts off.
    watch: ConsoleWatch | None = None
    # Each account's next slot and when it was worked out (the status page's, kept until it
    # comes: the config, so the schedule, is read once per console).
    next_slots: dict[str, tuple[datetime, Slot]] = field(default_factory=dict)
    # The pages' reads on the event loop (a SQLite file in WAL mode; reads.py); None: in a thread.
    loop_reads: LoopReads | None = None

    def close(self) -> None:
        if self.watch is not None:
            self.watch.close()
        if self.loop_reads is not None:
            self.loop_reads.close()
        self.store.close()


def open_console(
    config: str | Path | None,
    posts: str | Path | None,
    access: WebAccess,
    *,
    clock: Clock = utc_now,
) -> Console:
    """Load the config and posts as ``check`` does, open and migrate the store.

    Raises ``ConfigError`` for an unusable config and ``StoreError`` for a database that
    cannot be used; the command line turns both into a message.
    """
    report = run_check(config, posts, stored=lambda s: stored_instance_limits(s.sqlalchemy_url))
    if report.settings is None or report.library is None:
        raise ConfigError(list(report.problems))
    settings = report.settings
    store = Store(settings.sqlalchemy_url, clock=clock)
    try:
        store.migrate()
    except BaseException:
        store.close()
        raise
    quick = Store.never_waiting(settings.sqlalchemy_url, clock=clock)
    return Console(
        settings=settings,
        library=report.library,
        report=report,
        store=store,
        access=access,
        clock=clock,
        rehearsals=rehearsals(settings),
        config_path=None if config is None else str(config),
        posts_path=None if posts is None else str(posts),
        loop_reads=None if quick is None else LoopReads(quick),
    )
