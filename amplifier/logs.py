"""The worker's log: one logfmt line per event on stdout, and never a secret.

    event=published account=fbt-x slot=2026-11-23T09:00 post=call-congress url=https://...

``log_event`` writes such a line. ``install`` puts one handler on the ``amplifier`` logger (and
APScheduler's warnings) whose filter replaces every configured secret value with
``[redacted]`` in every record, message and arguments alike, and whose formatter redacts the
finished line again (tracebacks included). Adapters already keep secrets out of their
messages; this is the second line of defence, for whatever a library puts in an exception.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import TextIO

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from amplifier.config import Settings, resolve_secrets

REDACTED = "[redacted]"
# Shorter values would blank out ordinary words; no real token or password is this short.
MIN_SECRET_LENGTH = 4
_MARK = "_amplifier_handler"


def logfmt(event: str, **fields: object) -> str:
    """``event=NAME key=value ...``; None values are left out, values with spaces quoted."""
    parts = [f"event={_value(event)}"]
    parts.extend(f"{key}={_value(value)}" for key, value in fields.items() if value is not None)
    return " ".join(parts)


def _value(value: object) -> str:
    text = str(value)
    if text and not any(char in text for char in ' ="\\\n\t'):
        return text
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped.replace(chr(9), " ")}"'


def log_event(
    logger: logging.Logger, event: str, level: int = logging.INFO, /, **fields: object
) -> None:
    """Log one event as a single logfmt line: ``log_event(log, "deferred", WARNING, ...)``."""
    logger.log(level, "%s", logfmt(event, **fields))


class RedactSecrets(logging.Filter):
    """Replaces each secret value with ``[redacted]`` in a record's message and arguments."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        unique = {secret for secret in secrets if len(secret) >= MIN_SECRET_LENGTH}
        # Longest first, so a secret that contains another is removed whole.
        self.secrets = sorted(unique, key=len, reverse=True)

    def redact(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, REDACTED)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):  # arguments that do not fit the format
            message = f"{record.msg!s} {record.args!r}"
        record.msg = self.redact(message)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        return True


class LogfmtFormatter(logging.Formatter):
    """One line per record: the message, a level prefix when not INFO, errors folded in."""

    def __init__(self, redact: RedactSecrets) -> None:
        super().__init__()
        self._redact = redact

    def format(self, record: logging.LogRecord) -> str:
        line = record.getMessage()
        if record.levelno != logging.INFO:
            line = f"level={record.levelname.lower()} {line}"
        if record.exc_info and record.exc_info[1] is not None:
            error = record.exc_info[1]
            line += f" exc={_value(f'{type(error).__name__}: {error}')}"
            frame = error.__traceback__
            while frame is not None and frame.tb_next is not None:
                frame = frame.tb_next
            if frame is not None:
                code = frame.tb_frame.f_code
                line += f" at={_value(f'{code.co_filename}:{frame.tb_lineno}')}"
        # Heroku shows one event per line: nothing may span lines.
        return self._redact.redact(line.replace("\n", " | "))


def secret_values(settings: Settings) -> list[str]:
    """Every secret this deployment holds: account credentials and the database password."""
    found, _ = resolve_secrets(settings)
    values = [value for secrets in found.values() for value in secrets.values.values()]
    try:
        password = make_url(settings.sqlalchemy_url).password
    except ArgumentError:
        password = None
    if password:
        values.append(str(password))
    return values


def install(
    secrets: Iterable[str], *, stream: TextIO | None = None, level: int = logging.INFO
) -> logging.Handler:
    """Send amplifier's log to ``stream`` (stdout), redacted; replaces an earlier install."""
    uninstall()
    handler = logging.StreamHandler(stream or sys.stdout)
    redactor = RedactSecrets(secrets)
    handler.addFilter(redactor)
    handler.setFormatter(LogfmtFormatter(redactor))
    setattr(handler, _MARK, True)
    package = logging.getLogger("amplifier")
    package.addHandler(handler)
    package.setLevel(level)
    # APScheduler's INFO lines ("Running job ...") are noise; its warnings matter.
    scheduler = logging.getLogger("apscheduler")
    scheduler.addHandler(handler)
    scheduler.setLevel(logging.WARNING)
    return handler


def uninstall() -> None:
    """Remove the handler ``install`` added, if any."""
    for name in ("amplifier", "apscheduler"):
        logger = logging.getLogger(name)
        for handler in list(logger.handlers):
            if getattr(handler, _MARK, False):
                logger.removeHandler(handler)


@contextmanager
def installed(secrets: Iterable[str], *, stream: TextIO | None = None) -> Iterator[None]:
    """``install`` for the length of a command."""
    install(secrets, stream=stream)
    try:
        yield
    finally:
        uninstall()
