"""The settings models: every section of the config file, with its defaults and bounds.

``Settings`` is the whole file plus the environment; ``load_settings`` (loading.py) builds it
and reports every problem at its line. Secrets never live here: an account names the
environment variables that hold them (``secrets_from_env``).
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from amplifier.config.limits import DEFAULT_LIMITS, NetworkLimits
from amplifier.config.overrides import OverridesSource
from amplifier.config.times import parse_days, parse_time, validate_timezone
from amplifier.config.variables import ENV_PREFIX
from amplifier.networks.base import NetworkName

ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class NetworkSettings(_Strict):
    """Per-network limits; defaults are the platforms' own (see limits.DEFAULT_LIMITS)."""

    max_length: int | None = Field(default=None, ge=1, le=100_000)
    url_length: int | None = Field(default=None, ge=0, le=1_000)
    max_hashtags: int | None = Field(default=None, ge=0, le=30)

    def limits(self, network: NetworkName) -> NetworkLimits:
        base = DEFAULT_LIMITS[network]
        return NetworkLimits(
            max_length=self.max_length if self.max_length is not None else base.max_length,
            url_length=self.url_length if self.url_length is not None else base.url_length,
            max_hashtags=self.max_hashtags if self.max_hashtags is not None else base.max_hashtags,
            max_bytes=base.max_bytes,
        )


class Networks(_Strict):
    x: NetworkSettings = NetworkSettings()
    mastodon: NetworkSettings = NetworkSettings()
    bluesky: NetworkSettings = NetworkSettings()

    def limits(self, network: NetworkName) -> NetworkLimits:
        settings: NetworkSettings = getattr(self, network)
        return settings.limits(network)


HASHTAG = re.compile(r"^#?\w*[^\W\d]\w*$")


class CampaignHashtags(_Strict):
    always: tuple[str, ...] = ()
    pool: tuple[str, ...] = ()
    per_post: int = Field(default=1, ge=0, le=10)

    @field_validator("always", "pool")
    @classmethod
    def _hashtags(cls, tags: tuple[str, ...]) -> tuple[str, ...]:
        for tag in tags:
            if not HASHTAG.match(tag):
                raise ValueError(
                    f"{tag!r} is not a hashtag: use letters, digits and '_' only, "
                    "not digits alone, with or without a leading '#'"
                )
        return tuple(tag.lstrip("#") for tag in tags)


class Campaign(_Strict):
    name: str = ""
    language: str = Field(default="en", pattern=r"^[a-z]{2,3}$")
    start: date | None = None
    end: date | None = None
    posts: tuple[str, ...] = ("*",)  # patterns of post ids this campaign publishes
    hashtags: CampaignHashtags = CampaignHashtags()
    # "utm": the share kit tags each post's link with UTM parameters (kit/attribution.py)
    attribution: Literal["none", "utm"] = "none"


class Schedule(_Strict):
    timezone: str
    times: tuple[str, ...] = Field(min_length=1)
    days: tuple[str, ...] = ("daily",)
    random_offset_minutes: int = Field(default=0, ge=0, le=180)
    blackout_dates: tuple[date, ...] = ()

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        return validate_timezone(value)

    @field_validator("times")
    @classmethod
    def _times(cls, values: tuple[str, ...]) -> tuple[str, ...]:
        for value in values:
            parse_time(value)
        return values

    @field_validator("days")
    @classmethod
    def _days(cls, values: tuple[str, ...]) -> tuple[str, ...]:
        parse_days(values)
        return values


Visibility = Literal["public", "unlisted", "private", "direct"]


class Account(_Strict):
    name: str = Field(pattern=ID.pattern)
    network: NetworkName
    campaigns: tuple[str, ...] = Field(min_length=1)
    schedule: str
    language: str | None = Field(default=None, pattern=r"^[a-z]{2,3}$")
    enabled: bool = True
    instance: str | None = Field(default=None, pattern=r"^https?://[^\s/]+")  # Mastodon
    visibility: Visibility = "unlisted"  # Mastodon: bots post unlisted by convention
    service: str = Field(default="https://bsky.social", pattern=r"^https?://[^\s/]+")  # Bluesky
    handle: str | None = None  # Bluesky
    # X only: another API host (a proxy, or a local fake server in tests). Default api.twitter.com.
    api_base: str | None = Field(default=None, pattern=r"^https?://[^\s/]+")
    # X only: most this account may spend in a calendar month (UTC), in US dollars.
    monthly_budget_usd: float | None = Field(default=None, ge=0, le=1_000_000)
    secrets_from_env: dict[str, str] = Field(default_factory=dict)


class WorkerRetrySettings(_Strict):
    """How hard one delivery retries transient errors inside one attempt run (seconds)."""

    max_attempts: int = Field(default=4, ge=1, le=20)
    initial_wait: float = Field(default=2.0, ge=0, le=600)
    max_wait: float = Field(default=60.0, ge=0, le=3_600)
    # The whole run, waits included; past it the post is deferred and tried on a later pass.
    total_timeout: float = Field(default=120.0, ge=0, le=3_600)


class WorkerSettings(_Strict):
    """The worker's timing rules; see the [worker] section of config.example.toml."""

    grace_minutes: int = Field(default=30, ge=0, le=24 * 60)
    lookback_hours: int = Field(default=24, ge=1, le=24 * 14)
    tick_seconds: int = Field(default=30, ge=1, le=3_600)
    stale_worker_seconds: int = Field(default=45, ge=10, le=24 * 3_600)
    max_attempts_total: int = Field(default=8, ge=1, le=100)
    retry: WorkerRetrySettings = WorkerRetrySettings()
    # Mastodon keeps an Idempotency-Key for one hour; stay inside it with a margin.
    mastodon_idempotency_minutes: int = Field(default=55, ge=0, le=59)
    # Accounts published side by side in one pass (each account's own posts stay in order).
    parallel_accounts: int = Field(default=4, ge=1, le=64)


class XPrices(_Strict):
    """X's pay-per-use prices in US dollars (since 2026-02-06; see the platform notes)."""

    post: float = Field(default=0.015, ge=0, le=100)  # a post without a link
    post_with_url: float = Field(default=0.200, ge=0, le=100)  # instead of `post`
    media_metadata: float = Field(default=0.005, ge=0, le=100)  # per image (its alt text)


class GuardSettings(_Strict):
    """The rules that keep accounts in good standing; see [guards] in config.example.toml.

    A value of 0 turns a window or a cap off.
    """

    # Same or substantially similar text never goes to two accounts of these networks
    # within this many days; similarity as amplifier.guards defines it.
    distinct_text_days: int = Field(default=7, ge=0, le=365)
    distinct_text_networks: tuple[NetworkName, ...] = ("x",)
    similarity_threshold: float = Field(default=0.8, ge=0.5, le=1.0)
    # An account never sends the same post again within this many days.
    no_repeat_days: int = Field(default=3, ge=0, le=365)
    # An X account never sends a text it sent word for word within this many days: X refuses
    # duplicate content (403) over a window it does not document.
    x_duplicate_days: int = Field(default=14, ge=0, le=365)
    # Posts per account per local day (the schedule's timezone).
    daily_cap: int = Field(default=8, ge=0, le=1_000)
    # X's self-serve rule: at most this many $cashtags in a post.
    x_max_cashtags: int = Field(default=1, ge=0, le=10)
    # @mentions only in posts whose file says `allow_mentions: true`.
    mentions_need_allow: bool = True
    # X's legacy Free tier: 17 posts per 24 h and 500 per month, per account.
    x_legacy_free_tier: bool = False
    # Most all X accounts together may spend in a calendar month (UTC), in US dollars.
    x_monthly_budget_usd: float | None = Field(default=None, ge=0, le=1_000_000)
    x_prices: XPrices = XPrices()


class Settings(BaseSettings):
    """Everything amplifier is told. Build it with ``load_settings``."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="forbid", frozen=True)

    posts_dir: str = "posts"
    # DATABASE_URL (Heroku's) overrides the file, AMPLIFIER_DATABASE_URL both: overrides.py.
    database_url: str = "sqlite:///amplifier.db"
    # On Heroku (DYNO set), a SQLite database is refused unless this is true: see deployment.py.
    allow_sqlite_on_heroku: bool = False
    seed: str = "amplifier"
    dry_run: bool = False
    networks: Networks = Networks()
    campaigns: dict[str, Campaign] = Field(default_factory=dict)
    schedules: dict[str, Schedule] = Field(default_factory=dict)
    accounts: tuple[Account, ...] = ()
    worker: WorkerSettings = WorkerSettings()
    guards: GuardSettings = GuardSettings()

    # Set by load_settings, not by the file: where the file was, so relative paths resolve.
    config_path: str = ""

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # The AMPLIFIER_* variables override the file, which arrives as init kwargs; they are
        # read by overrides.py, not by pydantic-settings' own source (names with hyphens,
        # accounts by name, each variable checked).
        file_values = getattr(init_settings, "init_kwargs", {})
        return (OverridesSource(settings_cls, file_values), init_settings)

    @property
    def base_dir(self) -> Path:
        return Path(self.config_path).parent if self.config_path else Path.cwd()

    @property
    def posts_path(self) -> Path:
        path = Path(self.posts_dir)
        return path if path.is_absolute() else self.base_dir / path

    @property
    def sqlalchemy_url(self) -> str:
        """DATABASE_URL in the form SQLAlchemy 2 wants (Heroku still hands out postgres://)."""
        url = self.database_url
        for prefix in ("postgres://", "postgresql://"):
            if url.startswith(prefix):
                return "postgresql+psycopg://" + url[len(prefix) :]
        return url

    def account(self, name: str) -> Account:
        for account in self.accounts:
            if account.name == name:
                return account
        raise KeyError(name)
