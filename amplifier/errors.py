"""Every exception amplifier raises on purpose.

    AmplifierError
    ├── ConfigError            the config file or environment is wrong; .problems says where
    ├── ContentError           a post template is wrong; .problems says where
    ├── RenderError            a post cannot be rendered for a network (for example too long)
    ├── StoreError             the database failed or holds something unexpected
    │   └── StoreBusy          SQLite found the file locked (a store that never waits: at
    │                          once; read again where waiting is allowed)
    ├── StateMoved             the rotation a decision was made on changed before its claim:
    │                          another process decided for the account meanwhile; decide again
    └── NetworkError           publishing failed; .account and .network say where
        ├── TransientError     network error, timeout or 5xx: a retry may succeed;
        │   │                  .ambiguous is True when the request may have landed
        │   └── MediaNotReady  a video still processing at the bound (or at a shutdown):
        │                      nothing was posted; deferred, not retried at once
        ├── RateLimited        the platform said "not now"; .retry_at and .window say until when
        ├── DuplicatePost      the platform already holds this text (X's duplicate-content 403)
        ├── PostRejected       a 4xx about the content itself; .reason is the server's words
        ├── AuthFailed         401/403 about the account: token revoked, account suspended
        └── AccountUnreadable  a read (verify, a look-up) got a 4xx that is neither about the
                               credentials nor about a post: wrong address, picky server

Library exceptions (tweepy, Mastodon.py, atproto, requests, httpx) are translated into
these in one place per adapter, so nothing above ``amplifier.networks`` knows an SDK.
Messages never contain a secret: adapters build them from status codes and server text
(trimmed and bounded, see ``amplifier.networks.answers``), with any secret scrubbed out.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path


@dataclass(frozen=True)
class Problem:
    """One thing wrong with one input file, printed as ``file:line: message``."""

    file: Path | str
    line: int | None
    message: str
    severity: str = "error"  # "error" stops publishing of that item; "warning" does not

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else f"{self.file}"
        prefix = "" if self.severity == "error" else f"{self.severity}: "
        return f"{where}: {prefix}{self.message}"


class AmplifierError(Exception):
    """Base of every error amplifier raises on purpose."""


class ConfigError(AmplifierError):
    """The configuration cannot be used; each problem names the key, the value, what is allowed."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


class ContentError(AmplifierError):
    """A post template cannot be used."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


class RenderError(AmplifierError):
    """A template cannot be turned into text for a network."""


class StoreError(AmplifierError):
    """The state database failed."""


class StoreBusy(StoreError):
    """SQLite found the file locked: at once for a store that never waits
    (``Store.never_waiting``: nothing was read, and a store that waits its turn will answer),
    after its busy_timeout for the others."""


class StateMoved(AmplifierError):
    """The account's rotation changed between a decision and its claim; decide again.

    Another process (a second worker, a ``post-now``) claimed a post for the account after this
    decision read its state: claiming anyway could send the same post twice, or pass a guard
    that the other claim now fails.
    """


class NetworkError(AmplifierError):
    """Publishing or verifying an account failed."""

    def __init__(self, message: str, *, account: str = "", network: str = "") -> None:
        self.account = account
        self.network = network
        super().__init__(message)


class TransientError(NetworkError):
    """A failure a retry may cure: connection error, timeout, 5xx.

    ``ambiguous`` is True when the request may have reached the platform (a read timeout
    after sending, a reset connection): a blind retry could then post twice.
    """

    def __init__(
        self, message: str, *, account: str = "", network: str = "", ambiguous: bool = False
    ) -> None:
        super().__init__(message, account=account, network=network)
        self.ambiguous = ambiguous


class MediaNotReady(TransientError):
    """An uploaded video or GIF was still being processed when the wait ended (its bound, or
    the worker stopping). The post was not sent, so never ambiguous. Retrying at once would
    upload and wait again inside the same pass: the delivery is deferred instead."""

    def __init__(self, message: str, *, account: str = "", network: str = "") -> None:
        super().__init__(message, account=account, network=network, ambiguous=False)


class RateLimited(NetworkError):
    """The platform refused for now. Never sleep on it: hand the post back until retry_at.

    ``window`` names the limit that was hit, for example "15m", "24h-user", "24h-app", "5m", "3h".
    """

    def __init__(
        self,
        message: str,
        *,
        retry_at: datetime,
        window: str,
        account: str = "",
        network: str = "",
    ) -> None:
        super().__init__(message, account=account, network=network)
        self.retry_at = retry_at
        self.window = window


class DuplicatePost(NetworkError):
    """The platform says it already holds this exact text (X answers 403 "duplicate content")."""


class PostRejected(NetworkError):
    """The platform refused the content itself (too long, invalid media ...). Never retried."""

    def __init__(
        self, message: str, *, reason: str = "", account: str = "", network: str = ""
    ) -> None:
        super().__init__(message, account=account, network=network)
        self.reason = reason


class AuthFailed(NetworkError):
    """The account's credentials were refused: revoked token, wrong app password, suspension."""


class AccountUnreadable(NetworkError):
    """A read-only request about the account failed with a definite 4xx that is neither about
    the credentials (AuthFailed) nor about a post (PostRejected): for example a 404 because the
    configured address is not the platform's API, or a 400 from a server that does not serve
    the call. Nothing was posted; the message carries the server's own words."""
