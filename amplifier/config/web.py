"""The organizers' console's access settings, read from the environment at the edge.

Passwords, the session secret and the calendar feed's token are secrets: like an account's
credentials they never go in the config file, only in these variables. A role is enabled by
its password (``AMPLIFIER_WEB_ORGANIZER_PASSWORD``) or, better, a hash of it
(``AMPLIFIER_WEB_ORGANIZER_PASSWORD_HASH``, made by ``hash_password``), so the clear password
need not sit in the deployment's settings. ``repr`` never shows a value.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

# Each role's variables: (its password, a hash of it).
ROLES = {
    "organizer": ("AMPLIFIER_WEB_ORGANIZER_PASSWORD", "AMPLIFIER_WEB_ORGANIZER_PASSWORD_HASH"),
    "viewer": ("AMPLIFIER_WEB_VIEWER_PASSWORD", "AMPLIFIER_WEB_VIEWER_PASSWORD_HASH"),
}
SESSION_SECRET = "AMPLIFIER_WEB_SESSION_SECRET"
CALENDAR_TOKEN = "AMPLIFIER_WEB_CALENDAR_TOKEN"
TIMEZONE = "AMPLIFIER_WEB_TIMEZONE"
WEB_VARIABLES: dict[str, str] = {
    "AMPLIFIER_WEB_ORGANIZER_PASSWORD": "the console: the organizers' password",
    "AMPLIFIER_WEB_ORGANIZER_PASSWORD_HASH": "the console: a hash of the organizers' password",
    "AMPLIFIER_WEB_VIEWER_PASSWORD": "the console: the viewers' (read-only) password",
    "AMPLIFIER_WEB_VIEWER_PASSWORD_HASH": "the console: a hash of the viewers' password",
    SESSION_SECRET: "the console: the key that signs session cookies",
    CALENDAR_TOKEN: "the console: the token of the calendar feed (/calendar.ics?token=...)",
    TIMEZONE: "the console: the organizers' own timezone, shown beside each account's",
}
PORT = "PORT"  # set by Heroku (and other platforms) for a web process
_ALGORITHM = "pbkdf2_sha256"
_ITERATIONS = 200_000


def hash_password(password: str, *, salt: bytes | None = None) -> str:
    """'pbkdf2_sha256$200000$<salt>$<digest>' for a role's ..._PASSWORD_HASH variable."""
    salt = salt if salt is not None else secrets.token_bytes(16)
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, _ITERATIONS)
    encoded = [base64.b64encode(part).decode() for part in (salt, digest)]
    return f"{_ALGORITHM}${_ITERATIONS}${encoded[0]}${encoded[1]}"


def _hash_problem(value: str) -> str | None:
    parts = value.split("$")
    if len(parts) != 4 or parts[0] != _ALGORITHM or not parts[1].isdigit():
        return f"is not a hash made by amplifier ({_ALGORITHM}$iterations$salt$digest)"
    try:
        base64.b64decode(parts[2], validate=True), base64.b64decode(parts[3], validate=True)
    except ValueError:
        return "has a salt or digest that is not base64"
    return None


@dataclass(frozen=True)
class Credential:
    """One role's password, clear or hashed; compared in constant time."""

    role: str
    secret: str = field(repr=False)
    hashed: bool

    def matches(self, password: str) -> bool:
        if not self.hashed:
            return hmac.compare_digest(password.encode(), self.secret.encode())
        _, iterations, salt, digest = self.secret.split("$")
        tried = hashlib.pbkdf2_hmac(
            "sha256", password.encode(), base64.b64decode(salt), int(iterations)
        )
        return hmac.compare_digest(tried, base64.b64decode(digest))

    def fingerprint(self, key: bytes) -> str:
        """Changes when the password does, so a new password ends every older session."""
        return hmac.new(key, self.secret.encode(), hashlib.sha256).hexdigest()[:16]


@dataclass(frozen=True)
class WebAccess:
    """Who may sign in, the session key, the feed token and the organizers' timezone."""

    credentials: tuple[Credential, ...]
    session_secret: str = field(repr=False)
    session_secret_generated: bool
    calendar_token: str | None = field(repr=False)
    timezone: ZoneInfo
    secure_cookies: bool
    port: int | None = None  # $PORT, where the platform routes the web process's requests
    problems: tuple[str, ...] = ()

    def secret_values(self) -> list[str]:
        """Every secret value held, for the tests that no page shows one."""
        values = [c.secret for c in self.credentials] + [self.session_secret]
        return values + ([self.calendar_token] if self.calendar_token else [])


def web_access(environ: Mapping[str, str] | None = None) -> WebAccess:
    """The console's access from the environment; ``problems`` say what is wrong, by name.

    Without any password the console has no one to let in (a problem). Without a session
    secret a random one is made for this process: sessions end when it restarts, and two web
    processes would not share them, so on Heroku the secret is required.
    """
    env = os.environ if environ is None else environ
    on_heroku = bool(env.get("DYNO"))  # as config.deployment.heroku_dyno reads it
    problems: list[str] = []
    credentials: list[Credential] = []
    for role, (clear_name, hash_name) in ROLES.items():
        clear, hashed = env.get(clear_name, ""), env.get(hash_name, "")
        if hashed:
            problem = _hash_problem(hashed)
            if problem is not None:
                problems.append(f"{hash_name} {problem}")
            else:
                credentials.append(Credential(role, hashed, hashed=True))
        elif clear:
            credentials.append(Credential(role, clear, hashed=False))
    if len({c.secret for c in credentials}) < len(credentials):
        problems.append("the organizers' and the viewers' passwords must differ")
    if not any(c.role == "organizer" for c in credentials):
        problems.append(
            "no organizer password: set AMPLIFIER_WEB_ORGANIZER_PASSWORD_HASH (or "
            "AMPLIFIER_WEB_ORGANIZER_PASSWORD) so organizers can sign in"
        )
    secret = env.get(SESSION_SECRET, "")
    generated = not secret
    if generated and on_heroku:
        problems.append(
            f"{SESSION_SECRET} is not set: on Heroku every web process must sign sessions "
            "with the same key (heroku config:set AMPLIFIER_WEB_SESSION_SECRET=$(openssl rand "
            "-hex 32))"
        )
    elif secret and len(secret) < 32:
        problems.append(f"{SESSION_SECRET} is too short: at least 32 characters")
    token = env.get(CALENDAR_TOKEN, "") or None
    if token is not None and len(token) < 16:
        problems.append(f"{CALENDAR_TOKEN} is too short: at least 16 characters")
    zone_name = env.get(TIMEZONE, "") or "UTC"
    try:
        zone = ZoneInfo(zone_name)
    except (ZoneInfoNotFoundError, ValueError):
        problems.append(f"{TIMEZONE}={zone_name!r} is not an IANA timezone (America/Chicago)")
        zone = ZoneInfo("UTC")
    port_text = env.get(PORT, "")
    port = int(port_text) if port_text.isdigit() and 0 < int(port_text) < 65_536 else None
    if port_text and port is None:
        problems.append(f"{PORT}={port_text[:20]!r} is not a port number (1 to 65535)")
    return WebAccess(
        port=port,
        credentials=tuple(credentials),
        session_secret=secret or secrets.token_hex(32),
        session_secret_generated=generated,
        calendar_token=token,
        timezone=zone,
        secure_cookies=on_heroku,
        problems=tuple(problems),
    )
