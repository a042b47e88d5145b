"""Settings from the config file and the environment: the ONLY module that reads os.environ.

Order of precedence (highest first): ``AMPLIFIER_…`` environment variables (nested keys with
``__``, e.g. ``AMPLIFIER_NETWORKS__X__MAX_HASHTAGS=1``), ``DATABASE_URL``, the TOML file, the
defaults below. Secrets never live in the file: an account names the environment variables
that hold them (``[accounts.secrets_from_env]``) and ``resolve_secrets`` reads them.

Every problem is reported as ``file:line: key: what is wrong (got …); what is allowed``.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from amplifier import slots
from amplifier.errors import ConfigError, Problem
from amplifier.networks.base import NetworkName
from amplifier.render import DEFAULT_LIMITS, NetworkLimits

CONFIG_CANDIDATES = ("config.toml", "config.example.toml")
ENV_PREFIX = "AMPLIFIER_"
ENV_NAME = re.compile(r"^[A-Z_][A-Z0-9_]{0,127}$")
ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")

# Keys that hold a credential's value. Written anywhere in the file they are refused.
SECRET_KEYS = frozenset(
    {
        "token",
        "access_token",
        "access_token_secret",
        "consumer_key",
        "consumer_secret",
        "api_key",
        "api_secret",
        "bearer_token",
        "oauth2_user_token",
        "password",
        "app_password",
        "secret",
        "client_secret",
    }
)

# Which secrets each network needs; X takes OAuth 1.0a keys, or an OAuth 2.0 user token instead.
REQUIRED_SECRETS: dict[NetworkName, tuple[tuple[str, ...], ...]] = {
    "x": (
        ("consumer_key", "consumer_secret", "access_token", "access_token_secret"),
        ("oauth2_user_token",),
    ),
    "mastodon": (("access_token",),),
    "bluesky": (("app_password",),),
}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class NetworkSettings(_Strict):
    """Per-network limits; defaults are the platforms' own (see render.DEFAULT_LIMITS)."""

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


class Schedule(_Strict):
    timezone: str
    times: tuple[str, ...] = Field(min_length=1)
    days: tuple[str, ...] = ("daily",)
    random_offset_minutes: int = Field(default=0, ge=0, le=180)
    blackout_dates: tuple[date, ...] = ()

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        return slots.validate_timezone(value)

    @field_validator("times")
    @classmethod
    def _times(cls, values: tuple[str, ...]) -> tuple[str, ...]:
        for value in values:
            slots.parse_time(value)
        return values

    @field_validator("days")
    @classmethod
    def _days(cls, values: tuple[str, ...]) -> tuple[str, ...]:
        slots.parse_days(values)
        return values

    def slot_spec(self, start: date | None = None, end: date | None = None) -> slots.SlotSpec:
        return slots.SlotSpec(
            timezone=self.timezone,
            times=tuple(sorted(slots.parse_time(v) for v in self.times)),
            days=slots.parse_days(self.days),
            random_offset_minutes=self.random_offset_minutes,
            blackout_dates=frozenset(self.blackout_dates),
            start=start,
            end=end,
        )


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
    # within this many days; similarity as amplifier.compliance defines it.
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

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, env_nested_delimiter="__", extra="forbid", frozen=True
    )

    posts_dir: str = "posts"
    database_url: str = Field(
        default="sqlite:///amplifier.db",
        validation_alias=AliasChoices("AMPLIFIER_DATABASE_URL", "DATABASE_URL", "database_url"),
    )
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
        # The environment overrides the file (which arrives as init kwargs).
        return (env_settings, init_settings)

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


@dataclass(frozen=True)
class AccountSecrets:
    """Credential values read from the environment. repr never shows them."""

    account: str
    values: Mapping[str, str]

    def __repr__(self) -> str:
        return f"AccountSecrets(account={self.account!r}, keys={sorted(self.values)!r})"

    def get(self, key: str) -> str:
        return self.values.get(key, "")


# -- finding and loading ------------------------------------------------------------------


def find_config_file(explicit: str | Path | None = None, cwd: Path | None = None) -> Path:
    """--config, else $AMPLIFIER_CONFIG, else config.toml, else config.example.toml."""
    if explicit:
        return Path(explicit)
    from_env = os.environ.get("AMPLIFIER_CONFIG")
    if from_env:
        return Path(from_env)
    base = cwd or Path.cwd()
    for name in CONFIG_CANDIDATES:
        candidate = base / name
        if candidate.exists():
            return candidate
    return base / CONFIG_CANDIDATES[-1]


def load_settings(path: str | Path | None = None) -> Settings:
    """Read and validate the config file and environment; ConfigError lists every problem."""
    config_path = find_config_file(path)
    try:
        raw_bytes = config_path.read_bytes()
    except OSError as exc:
        hint = "pass --config FILE or copy config.example.toml to config.toml"
        problem = Problem(
            config_path, None, f"cannot read the config file ({exc.strerror}); {hint}"
        )
        raise ConfigError([problem]) from None
    try:
        text = raw_bytes.decode("utf-8")
        raw = tomllib.loads(text)
    except UnicodeDecodeError as exc:
        problem = Problem(config_path, None, f"not UTF-8 text (byte {exc.start}); save it as UTF-8")
        raise ConfigError([problem]) from None
    except tomllib.TOMLDecodeError as exc:
        line_match = re.search(r"line (\d+)", str(exc))
        line = int(line_match.group(1)) if line_match else None
        problem = Problem(config_path, line, f"not valid TOML: {exc}")
        raise ConfigError([problem]) from None

    locator = _KeyLocator(text)
    problems = [
        Problem(config_path, locator.line(loc), message) for loc, message in _secret_problems(raw)
    ]
    if problems:
        raise ConfigError(problems)
    raw.pop("config_path", None)
    try:
        settings = Settings(**raw, config_path=str(config_path))
    except ValidationError as exc:
        raise ConfigError(_validation_problems(exc, config_path, locator)) from None
    cross = [
        Problem(config_path, locator.line(loc), message) for loc, message in _cross_check(settings)
    ]
    if cross:
        raise ConfigError(cross)
    return settings


def resolve_secrets(settings: Settings) -> tuple[dict[str, AccountSecrets], list[str]]:
    """Read each enabled account's secrets from the environment.

    Returns the secrets of accounts that have all they need, and one message per account that
    lacks some (naming the variables, never a value).
    """
    found: dict[str, AccountSecrets] = {}
    missing: list[str] = []
    for account in settings.accounts:
        if not account.enabled:
            continue
        values = {
            key: os.environ[var]
            for key, var in account.secrets_from_env.items()
            if os.environ.get(var)
        }
        options = REQUIRED_SECRETS[account.network]
        if any(all(key in values for key in option) for option in options):
            found[account.name] = AccountSecrets(account.name, values)
            continue
        wanted = options[0]
        unset = [
            account.secrets_from_env.get(key, f"<{key}>") for key in wanted if key not in values
        ]
        missing.append(
            f"account {account.name!r} ({account.network}): environment variable(s) "
            f"{', '.join(unset)} not set; export them (Heroku: heroku config:set NAME=value)"
        )
    return found, missing


# -- checks beyond the schema -------------------------------------------------------------

Loc = tuple[str | int, ...]


def _secret_problems(raw: Mapping[str, Any]) -> list[tuple[Loc, str]]:
    problems: list[tuple[Loc, str]] = []

    def walk(node: Any, loc: Loc) -> None:
        if isinstance(node, Mapping):
            for key, value in node.items():
                if key == "secrets_from_env" and isinstance(value, Mapping):
                    for secret, var in value.items():
                        if not isinstance(var, str) or not ENV_NAME.match(var):
                            problems.append(
                                (
                                    (*loc, key, secret),
                                    f"{_dotted((*loc, key, secret))}: the value (not shown) is "
                                    "not an environment variable name; write the NAME of the "
                                    "variable that holds the secret, in capitals, e.g. "
                                    f"{_example_env(loc, secret)}. If you pasted the secret "
                                    "itself here, delete it and revoke it",
                                )
                            )
                    continue
                if key in SECRET_KEYS and isinstance(value, str):
                    problems.append(
                        (
                            (*loc, key),
                            f"{_dotted((*loc, key))}: secrets may not be written in the config "
                            "file (value not shown). Put it in an environment variable and name "
                            f'that variable instead: [accounts.secrets_from_env] {key} = "'
                            f'{_example_env(loc, key)}"',
                        )
                    )
                    continue
                walk(value, (*loc, key))
        elif isinstance(node, list):
            for index, item in enumerate(node):
                walk(item, (*loc, index))

    walk(raw, ())
    return problems


def _example_env(loc: Loc, key: str) -> str:
    return f"AMPLIFIER_{'ACCOUNT' if not loc else 'ACCOUNT_' + str(loc[-1])}_{key}".upper()


def _cross_check(settings: Settings) -> list[tuple[Loc, str]]:
    problems: list[tuple[Loc, str]] = []
    seen: set[str] = set()
    campaigns = ", ".join(sorted(settings.campaigns)) or "(none defined)"
    schedules = ", ".join(sorted(settings.schedules)) or "(none defined)"
    for index, account in enumerate(settings.accounts):
        loc: Loc = ("accounts", index)
        if account.name in seen:
            problems.append(
                ((*loc, "name"), f"accounts[{index}].name: {account.name!r} is used twice")
            )
        seen.add(account.name)
        for campaign in account.campaigns:
            if campaign not in settings.campaigns:
                problems.append(
                    (
                        (*loc, "campaigns"),
                        f"accounts[{index}].campaigns: unknown campaign {campaign!r}; "
                        f"defined campaigns: {campaigns}",
                    )
                )
        if account.schedule not in settings.schedules:
            problems.append(
                (
                    (*loc, "schedule"),
                    f"accounts[{index}].schedule: unknown schedule {account.schedule!r}; "
                    f"defined schedules: {schedules}",
                )
            )
        if account.network == "mastodon" and not account.instance:
            problems.append(
                (
                    loc,
                    f"accounts[{index}] ({account.name}): a Mastodon account needs "
                    'instance = "https://your.instance"',
                )
            )
        if account.network == "bluesky" and not account.handle:
            problems.append(
                (
                    loc,
                    f"accounts[{index}] ({account.name}): a Bluesky account needs "
                    'handle = "name.bsky.social"',
                )
            )
        if account.monthly_budget_usd is not None and account.network != "x":
            problems.append(
                (
                    (*loc, "monthly_budget_usd"),
                    f"accounts[{index}].monthly_budget_usd: only X bills per post; remove it "
                    f"from this {account.network} account",
                )
            )
        allowed = {key for option in REQUIRED_SECRETS[account.network] for key in option}
        for key in account.secrets_from_env:
            if key not in allowed:
                problems.append(
                    (
                        (*loc, "secrets_from_env", key),
                        f"accounts[{index}].secrets_from_env.{key}: not a {account.network} "
                        f"credential; allowed: {', '.join(sorted(allowed))}",
                    )
                )
    for name, dates in settings.campaigns.items():
        if dates.start and dates.end and dates.end < dates.start:
            problems.append(
                (
                    ("campaigns", name, "end"),
                    f"campaigns.{name}.end: {dates.end} is before start {dates.start}",
                )
            )
    return problems


def _validation_problems(exc: ValidationError, path: Path, locator: _KeyLocator) -> list[Problem]:
    problems = []
    for error in exc.errors():
        loc: Loc = tuple(error["loc"])
        env_name = ENV_PREFIX + "__".join(str(part) for part in loc).upper()
        where: Path | str = path
        line = locator.line(loc)
        if env_name in os.environ:
            where, line = f"environment variable {env_name}", None
        key = _dotted(loc)
        if error["type"] == "extra_forbidden":
            allowed = ", ".join(_allowed_keys(loc[:-1])) or "none"
            message = f"{key}: unknown key; allowed keys here: {allowed}"
        elif error["type"] == "missing":
            message = f"{key}: required but missing"
        else:
            text = str(error["msg"]).removeprefix("Value error, ")
            message = f"{key}: {text} (got {_short(error.get('input'))})"
        problems.append(Problem(where, line, message))
    return problems


def _allowed_keys(loc: Loc) -> list[str]:
    model: Any = Settings
    for part in loc:
        if isinstance(part, int) or model is None:
            continue
        fields = getattr(model, "model_fields", None)
        if fields is None or part not in fields:
            # Inside dict[str, Model]: the key is a user's name; keep the same model.
            continue
        model = _inner_model(fields[part].annotation)
    fields = getattr(model, "model_fields", {})
    return sorted(name for name in fields if name != "config_path")


def _inner_model(annotation: Any) -> Any:
    for arg in getattr(annotation, "__args__", ()) or ():
        inner = _inner_model(arg)
        if inner is not None:
            return inner
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    return None


def _dotted(loc: Loc) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


class _KeyLocator:
    """Finds the line of a key path in TOML text, for messages. Best effort, never fails."""

    HEADER = re.compile(r"^\s*(\[\[?)\s*([^\]]+?)\s*\]\]?\s*(#.*)?$")
    KEY = re.compile(r"^\s*([A-Za-z0-9_\-\"'. ]+?)\s*=")

    def __init__(self, text: str) -> None:
        self.lines: dict[Loc, int] = {}
        table: Loc = ()
        array_counts: dict[Loc, int] = {}
        for number, line in enumerate(text.splitlines(), start=1):
            header = self.HEADER.match(line)
            if header:
                parts = self._split(header.group(2))
                if header.group(1) == "[[":
                    index = array_counts.get(parts, -1) + 1
                    array_counts[parts] = index
                    table = self._with_indexes(parts, array_counts)
                else:
                    table = self._with_indexes(parts, array_counts)
                self.lines.setdefault(table, number)
                continue
            key = self.KEY.match(line)
            if key:
                self.lines.setdefault((*table, *self._split(key.group(1))), number)

    @staticmethod
    def _split(dotted: str) -> tuple[str, ...]:
        return tuple(part.strip().strip("\"'") for part in dotted.split("."))

    @staticmethod
    def _with_indexes(parts: tuple[str, ...], counts: dict[Loc, int]) -> Loc:
        out: list[str | int] = []
        for i in range(len(parts)):
            out.append(parts[i])
            if parts[: i + 1] in counts:
                out.append(counts[parts[: i + 1]])
        return tuple(out)

    def line(self, loc: Loc) -> int | None:
        for size in range(len(loc), 0, -1):
            if loc[:size] in self.lines:
                return self.lines[loc[:size]]
        return None
