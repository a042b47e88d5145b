"""Settings from the config file and the environment: the ONLY package that reads os.environ.

``load_settings`` finds the file (``--config``, ``$AMPLIFIER_CONFIG``, ``config.toml``,
``config.example.toml``), overlays the ``AMPLIFIER_…`` variables and ``DATABASE_URL``
(overrides.py: each variable must reach a setting, or be one of ``OTHER_VARIABLES`` or a
credential the file names), and returns a frozen ``Settings`` or raises ``ConfigError``
listing every problem at its line or variable.
``database_problem`` (deployment.py) reads Heroku's ``DYNO`` and refuses SQLite there.
Secrets never live in the file: an account names the variables that hold them, and
``resolve_secrets`` reads them; ``web_access`` (web.py) reads the console's passwords,
``alert_urls`` (alerts.py) the alert channels.
``attribution_pairs`` (attribution.py) reads a campaign's link tagging template.
``account_limits`` (instances.py) gives an account's limits: its Mastodon server's own as
stored, else the configured ones. Every other stage reads its
settings from here, so this stage imports nothing above the networks' names.
"""

from __future__ import annotations

# First, before any model is built (its module says why); import statements sort first.
import amplifier.config.pydantic_plugins  # noqa: F401
from amplifier.config.alerts import ALERT_EVENTS, AlertEvent, AlertSettings, alert_urls
from amplifier.config.attribution import FIELDS as ATTRIBUTION_FIELDS
from amplifier.config.attribution import attribution_pairs, fill_pairs
from amplifier.config.deployment import database_problem, heroku_dyno
from amplifier.config.instances import AccountLimits, account_limits, instance_of
from amplifier.config.limits import (
    DEFAULT_LIMITS,
    DEFAULT_MEDIA_LIMITS,
    GIF,
    JPEG,
    MOV,
    MP4,
    PNG,
    WEBP,
    MediaLimits,
    NetworkLimits,
)
from amplifier.config.loading import find_config_file, load_settings
from amplifier.config.locator import KeyLocator
from amplifier.config.models import (
    Account,
    Campaign,
    GuardSettings,
    ResultsSettings,
    Schedule,
    Settings,
    WorkerSettings,
    XPrices,
)
from amplifier.config.overrides import OTHER_VARIABLES
from amplifier.config.secrets import AccountSecrets, resolve_secrets
from amplifier.config.times import ALL_DAYS, parse_days, parse_time, validate_timezone
from amplifier.config.variables import setting_variables
from amplifier.config.web import Credential, WebAccess, hash_password, web_access

__all__ = [
    "ALERT_EVENTS",
    "ALL_DAYS",
    "ATTRIBUTION_FIELDS",
    "DEFAULT_LIMITS",
    "DEFAULT_MEDIA_LIMITS",
    "GIF",
    "JPEG",
    "MOV",
    "MP4",
    "OTHER_VARIABLES",
    "PNG",
    "WEBP",
    "Account",
    "AccountLimits",
    "AccountSecrets",
    "AlertEvent",
    "AlertSettings",
    "Campaign",
    "Credential",
    "GuardSettings",
    "KeyLocator",
    "MediaLimits",
    "NetworkLimits",
    "ResultsSettings",
    "Schedule",
    "Settings",
    "WebAccess",
    "WorkerSettings",
    "XPrices",
    "account_limits",
    "alert_urls",
    "attribution_pairs",
    "database_problem",
    "fill_pairs",
    "find_config_file",
    "hash_password",
    "heroku_dyno",
    "instance_of",
    "load_settings",
    "parse_days",
    "parse_time",
    "resolve_secrets",
    "setting_variables",
    "validate_timezone",
    "web_access",
]
