"""The worker's log: one logfmt line per event on stdout, and never a secret.

    time=2026-11-23T15:00:04.120Z level=info event=published account=fbt-x slot=2026-11-23T09:00 …

Every line starts with ``time`` (UTC, with its zone) and ``level``, then ``event`` and the
event's fields. ``log_event`` writes such an event, from any stage, the network adapters
included (this module imports nothing of amplifier, so every layer may use it). A record that
did not come from ``log_event`` (a library's warning) is still one logfmt line:
``event=log logger=NAME msg="…"``.

``install`` puts one handler on the ``amplifier`` logger (and APScheduler's warnings, and
uvicorn's lines in the console's process) whose
filter replaces every given secret value with ``[redacted]`` in every record, message and
arguments alike, and whose formatter redacts the finished line again (errors included).
Adapters already keep secrets out of their fields; this is the second line of defence, for
whatever a library puts in an exception.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import TextIO

REDACTED = "[redacted]"
# Shorter values would blank out ordinary words; no real token or password is this short.
MIN_SECRET_LENGTH = 4
_MARK = "_amplifier_handler"
_FIELDS = "amplifier_fields"  # the LogRecord attribute log_event stores its fields under


def logfmt(event: str, **fields: object) -> str:
    """``event=NAME key=value ...``; None values are left out, values with spaces quoted."""
    parts = [f"event={_value(event)}"]
    parts.extend(f"{key}={_value(value)}" for key, value in fields.items() if value is not None)
    return " ".join(parts)


_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _value(value: object) -> str:
    text = str(value)
    if text and not any(char.isspace() or char in '="\\' or _control(char) for char in text):
        return text
    escaped = "".join(_ESCAPES.get(char, _escape(char)) for char in text)
    return f'"{escaped}"'


def _control(char: str) -> bool:
    """Characters a reader could take for a line end, or that a terminal would act on."""
    return (char.isspace() and char != " ") or ord(char) < 32 or 0x7F <= ord(char) < 0xA0


def _escape(char: str) -> str:
    return f"\\u{ord(char):04x}" if _control(char) else char


_PAIR = re.compile(r'([A-Za-z_][\w.-]*)=("(?:[^"\\]|\\.)*"|[^\s"=\\]+)(?: |$)')
_UNESCAPE = re.compile(r"\\(u[0-9a-f]{4}|.)")


def parse_logfmt(line: str) -> dict[str, str]:
    """A line ``logfmt`` wrote, back into its fields; ValueError for anything else.

    Strict on purpose (tests read every line the worker writes with it): every part must be
    ``key=value`` or ``key="quoted value"``, separated by single spaces, no key twice.
    """
    if not line or line.endswith(" "):
        raise ValueError(f"not logfmt: {line!r}")
    fields: dict[str, str] = {}
    position = 0
    while position < len(line):
        match = _PAIR.match(line, position)
        if match is None:
            raise ValueError(f"not logfmt at column {position + 1}: {line[position:][:40]!r}")
        key, raw = match.groups()
        if key in fields:
            raise ValueError(f"key {key!r} twice in {line!r}")
        if raw.startswith('"'):
            raw = _UNESCAPE.sub(_unescaped, raw[1:-1])
        fields[key] = raw
        position = match.end()
    return fields


def _unescaped(match: re.Match[str]) -> str:
    code = match.group(1)
    if code.startswith("u") and len(code) == 5:
        return chr(int(code[1:], 16))
    return {"n": "\n", "r": "\r", "t": "\t"}.get(code, code)


def log_event(
    logger: logging.Logger, event: str, level: int = logging.INFO, /, **fields: object
) -> None:
    """Log one event as a single logfmt line: ``log_event(log, "deferred", WARNING, ...)``."""
    logger.log(level, "%s", logfmt(event, **fields), extra={_FIELDS: True})


def log_exception(
    logger: logging.Logger, event: str, level: int = logging.ERROR, /, **fields: object
) -> None:
    """``log_event`` inside an ``except``: the error is folded into the line as ``exc`` and
    ``at`` (type, message, where it was raised); no traceback over several lines."""
    logger.log(level, "%s", logfmt(event, **fields), exc_info=True, extra={_FIELDS: True})


def timestamp(created: float) -> str:
    """A record's time as ``2026-11-23T15:00:04.120Z``: UTC, milliseconds, the zone said."""
    moment = datetime.fromtimestamp(created, UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


class RedactSecrets(logging.Filter):
    """Replaces each secret value with ``[redacted]`` in a record's message and arguments."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        unique = {secret for secret in secrets if len(secret) >= MIN_SECRET_LENGTH}
        # A value with a quote or a backslash appears escaped inside a quoted field.
        unique |= {"".join(_ESCAPES.get(char, _escape(char)) for char in s) for s in unique}
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
    """One line per record: time and level, the event, an error folded into ``exc`` and ``at``."""

    def __init__(self, redact: RedactSecrets | None = None) -> None:
        super().__init__()
        self._redact = redact or RedactSecrets(())

    def format(self, record: logging.LogRecord) -> str:
        message = record.getMessage()
        if not getattr(record, _FIELDS, False) and not message.startswith("event="):
            # Not one of ours (a library's warning): still one event, its words in msg.
            message = logfmt("log", logger=record.name, msg=message)
        line = f"time={timestamp(record.created)} level={record.levelname.lower()} {message}"
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
        return self._redact.redact(line.replace("\r", " ").replace("\n", " | "))


class _Handler(logging.StreamHandler):  # type: ignore[type-arg]
    """A stream handler that stays quiet when its reader has gone (``amplifier run | head``).

    The worker must go on recording deliveries whether or not anyone reads its log; the
    default handler would print a traceback to stderr for every line instead.
    """

    def handleError(self, record: logging.LogRecord) -> None:
        error = sys.exc_info()[1]
        if isinstance(error, BrokenPipeError | ValueError):  # closed pipe, closed stream
            return
        super().handleError(record)


# Libraries whose records go through the same handler (and at what level at least).
# APScheduler's INFO lines ("Running job ...") are noise; its warnings matter. uvicorn (the
# console's server, ``amplifier web``) logs its errors and one access line per request.
LIBRARY_LOGGERS = {"apscheduler": logging.WARNING, "uvicorn": logging.INFO}


def install(
    secrets: Iterable[str],
    *,
    stream: TextIO | None = None,
    level: int = logging.INFO,
    filters: Iterable[logging.Filter] = (),
) -> logging.Handler:
    """Send amplifier's log to ``stream`` (stdout), redacted; replaces an earlier install.

    ``filters`` run before the redaction (the console's access lines made events)."""
    uninstall()
    handler = _Handler(stream or sys.stdout)
    for extra in filters:
        handler.addFilter(extra)
    redactor = RedactSecrets(secrets)
    handler.addFilter(redactor)
    handler.setFormatter(LogfmtFormatter(redactor))
    setattr(handler, _MARK, True)
    package = logging.getLogger("amplifier")
    package.addHandler(handler)
    package.setLevel(level)
    for name, least in LIBRARY_LOGGERS.items():
        library = logging.getLogger(name)
        library.addHandler(handler)
        library.setLevel(max(level, least))
        library.propagate = False  # one line per record, whatever the root logger holds
        library.disabled = False
        _route_children_to(name)
    return handler


def _route_children_to(name: str) -> None:
    """Loggers under ``name`` that a logging config already set up (uvicorn's default one
    gives ``uvicorn.access`` a handler of its own and stops it propagating, its ``log_level``
    sets the level of each, another config may disable them) send their records up to
    ``name``'s handler again, once each, at the level ``name`` has."""
    for child_name, child in list(logging.root.manager.loggerDict.items()):
        if child_name.startswith(f"{name}.") and isinstance(child, logging.Logger):
            for handler in list(child.handlers):
                child.removeHandler(handler)
            child.propagate = True
            child.disabled = False
            child.setLevel(logging.NOTSET)  # uvicorn sets its own levels: ours decides


def uninstall() -> None:
    """Remove the handler ``install`` added, if any."""
    for name in ("amplifier", *LIBRARY_LOGGERS):
        logger = logging.getLogger(name)
        for handler in list(logger.handlers):
            if getattr(handler, _MARK, False):
                logger.removeHandler(handler)
                logger.propagate = True


@contextmanager
def installed(
    secrets: Iterable[str],
    *,
    stream: TextIO | None = None,
    filters: Iterable[logging.Filter] = (),
) -> Iterator[None]:
    """``install`` for the length of a command."""
    install(secrets, stream=stream, filters=filters)
    try:
        yield
    finally:
        uninstall()
