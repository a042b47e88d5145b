"""The [alerts] section: which events reach the team, when, and through which channels.

The channels are Apprise URLs, and a URL (a Slack webhook, a mail password) is a secret: the
file only names the environment variable holding them (``urls_from_env``, ``ALERT_URLS`` in
the sample), one or more separated by spaces or commas; unset or empty means no alerts.
``alert_urls`` reads it; nothing else does, and nothing ever prints a URL whole.
"""

from __future__ import annotations

import os
import re
from datetime import time
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from amplifier.config.times import parse_time, validate_timezone

AlertEvent = Literal[
    "delivery-failed",
    "needs-review",
    "credentials-refused",
    "rate-limited",
    "x-spend",
    "check-failed",
    "heartbeat-silent",
    "worker-stopped",
    "digest",
]
ALERT_EVENTS: tuple[AlertEvent, ...] = (
    "delivery-failed",
    "needs-review",
    "credentials-refused",
    "rate-limited",
    "x-spend",
    "check-failed",
    "heartbeat-silent",
    "worker-stopped",
    "digest",
)
_ENV_NAME = re.compile(r"^[A-Z_][A-Z0-9_]{0,127}$")
_SEPARATORS = re.compile(r"[\s,]+")


class AlertSettings(BaseModel):
    """See [alerts] in config.example.toml."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    # The NAME of the environment variable holding the Apprise URLs, never the URLs.
    urls_from_env: str = "ALERT_URLS"
    events: tuple[AlertEvent, ...] = ALERT_EVENTS
    # Quiet hours and the digest are read in this timezone.
    timezone: str = "UTC"
    # "22:00-07:00": alerts that can wait are held until it ends; "" for none.
    quiet_hours: str = ""
    # Local time of the daily digest; "" for none.
    digest_at: str = ""
    rate_limited_longer_than_minutes: int = Field(default=60, ge=0, le=7 * 24 * 60)
    heartbeat_silent_longer_than_minutes: int = Field(default=10, ge=1, le=7 * 24 * 60)
    # Where the console is (its review page is linked from a needs-review alert); "" for none.
    console_url: str = Field(default="", pattern=r"^(https?://\S+)?$")

    @field_validator("urls_from_env")
    @classmethod
    def _env_name(cls, value: str) -> str:
        if not _ENV_NAME.match(value):
            raise ValueError(
                "write the NAME of the environment variable that holds the Apprise URLs, in "
                "capitals (e.g. ALERT_URLS), never a URL: a URL is a secret. If you pasted a "
                "URL here, delete it and revoke it"
            )
        return value

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        return validate_timezone(value)

    @field_validator("quiet_hours")
    @classmethod
    def _quiet(cls, value: str) -> str:
        if value:
            parts = value.split("-")
            if len(parts) != 2:
                raise ValueError('write quiet hours as "HH:MM-HH:MM", e.g. "22:00-07:00"')
            for part in parts:
                parse_time(part.strip())
        return value

    @field_validator("digest_at")
    @classmethod
    def _digest(cls, value: str) -> str:
        if value:
            parse_time(value)
        return value

    @property
    def quiet(self) -> tuple[time, time] | None:
        if not self.quiet_hours:
            return None
        start, end = (parse_time(part.strip()) for part in self.quiet_hours.split("-"))
        return start, end

    @property
    def digest_time(self) -> time | None:
        return parse_time(self.digest_at) if self.digest_at else None


def alert_urls(alerts: AlertSettings) -> list[str]:
    """The Apprise URLs from the variable ``urls_from_env`` names; [] when unset or empty."""
    raw = os.environ.get(alerts.urls_from_env, "")
    return [part for part in _SEPARATORS.split(raw.strip()) if part]
