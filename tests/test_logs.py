"""The one log format: every record one logfmt line with its time (zone said) and level."""

from __future__ import annotations

import io
import logging
import re
from collections.abc import Iterator

import pytest

from amplifier.logs import (
    REDACTED,
    install,
    log_event,
    log_exception,
    logfmt,
    parse_logfmt,
    uninstall,
)

SECRET = 'tok"en\\secret-value'  # a quote and a backslash: escaped inside a quoted field
TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


@pytest.fixture
def captured() -> Iterator[io.StringIO]:
    """amplifier's log handler writing into a buffer, with one secret configured."""
    stream = io.StringIO()
    install([SECRET], stream=stream)
    try:
        yield stream
    finally:
        uninstall()


def test_values_round_trip_whatever_they_hold() -> None:
    """Quotes, backslashes, '=', line breaks of every kind and control characters come back
    exactly from parse_logfmt, and the line itself holds no character that ends a line."""
    nasty = 'said "no"\\ a=b\n\r\t\x0b\x0c\x1c\x85\u2028\u2029 end \\u0041'
    line = logfmt("x", text=nasty, empty="", plain="ok", number=3, missing=None)
    assert len(line.splitlines()) == 1
    assert parse_logfmt(line) == {
        "event": "x",
        "text": nasty,
        "empty": "",
        "plain": "ok",
        "number": "3",
    }


@pytest.mark.parametrize(
    "line",
    ["", "event=x ", "event=x  a=b", "event", "event=x a", 'event=x a="open', "event=x event=y"],
)
def test_parser_refuses_what_logfmt_never_writes(line: str) -> None:
    """The parser used to check the worker's output is strict: a stray word fails it."""
    with pytest.raises(ValueError):
        parse_logfmt(line)


def test_every_line_starts_with_time_in_utc_and_level(captured: io.StringIO) -> None:
    """An event line reads time=…Z level=… event=…, at every level."""
    logger = logging.getLogger("amplifier.test-logs")
    log_event(logger, "published", account="fbt-x")
    log_event(logger, "deferred", logging.WARNING, account="fbt-x", reason="429 from x")
    lines = captured.getvalue().splitlines()
    first, second = (parse_logfmt(line) for line in lines)
    assert TIME.match(first["time"]) and TIME.match(second["time"])
    assert (first["level"], first["event"], first["account"]) == ("info", "published", "fbt-x")
    assert (second["level"], second["reason"]) == ("warning", "429 from x")
    assert lines[0].startswith("time=") and " level=info event=published " in lines[0]


def test_a_library_message_is_one_event_too(captured: io.StringIO) -> None:
    """A record that did not come from log_event (APScheduler's warnings, a stray call) is
    still one logfmt line: event=log, the logger's name, its words in msg."""
    logging.getLogger("apscheduler.scheduler").warning(
        'Run time of job "x" was missed by %s\nsecond line', "0:00:02"
    )
    [line] = captured.getvalue().splitlines()
    fields = parse_logfmt(line)
    assert fields["event"] == "log" and fields["logger"] == "apscheduler.scheduler"
    assert fields["msg"] == 'Run time of job "x" was missed by 0:00:02\nsecond line'


def test_an_error_is_folded_into_its_line(captured: io.StringIO) -> None:
    """log_exception puts the error's type, message and place in the one line; a secret in
    the error (even one holding a quote and a backslash, escaped in the line) is redacted."""
    logger = logging.getLogger("amplifier.test-logs")
    try:
        raise RuntimeError(f"header {SECRET} refused\nby the server")
    except RuntimeError:
        log_exception(logger, "pass-failed", account="fbt-x")
    try:
        raise RuntimeError(SECRET)
    except RuntimeError:
        log_exception(logger, "pass-failed", account="fbt-x")
    output = captured.getvalue()
    lines = output.splitlines()
    assert len(lines) == 2
    fields = parse_logfmt(lines[0])
    assert fields["level"] == "error" and fields["event"] == "pass-failed"
    assert fields["exc"].startswith("RuntimeError: header")
    assert fields["at"].endswith("test_logs.py:" + fields["at"].rsplit(":", 1)[1])
    assert "secret-value" not in output
    assert parse_logfmt(lines[1])["exc"] == f"RuntimeError: {REDACTED}"


def test_a_closed_reader_does_not_stop_the_worker(capsys: pytest.CaptureFixture[str]) -> None:
    """When the log's reader has gone (``amplifier run | head``), logging stays silent: no
    'Logging error' traceback per line on stderr, and the caller carries on."""

    class Closed(io.StringIO):
        def write(self, text: str) -> int:
            raise BrokenPipeError(32, "Broken pipe")

    install([], stream=Closed())
    try:
        log_event(logging.getLogger("amplifier.test-logs"), "published", account="fbt-x")
    finally:
        uninstall()
    assert capsys.readouterr().err == ""


def test_the_consoles_request_lines_are_events_without_credentials() -> None:
    """uvicorn's access record (as uvicorn 0.55 logs it) becomes event=request with its
    fields; a token in the query, right or wrong, in any position or case, is redacted; its
    error lines are events too, at their level."""
    from amplifier.web import AccessEvents

    stream = io.StringIO()
    install([SECRET], stream=stream, filters=[AccessEvents()])
    access = logging.getLogger("uvicorn.access")
    form = '%s - "%s %s HTTP/%s" %d'
    try:
        access.info(form, "10.0.0.1:5000", "GET", "/calendar.ics?token=guess-1234", "1.1", 403)
        access.info(form, "10.0.0.1:5000", "GET", "/x?days=3&TOKEN=abcd1234&token", "1.1", 400)
        access.info(form, "10.0.0.1:5000", "GET", f"/status?note={SECRET}", "1.1", 200)
        access.info("%s odd shape with token=%s", "x", "zzzz9999")
        logging.getLogger("uvicorn.error").error("Exception in ASGI application")
    finally:
        uninstall()
    output = stream.getvalue()
    first, second, third, odd, error = (parse_logfmt(line) for line in output.splitlines())
    assert first["event"] == "request" and first["level"] == "info"
    assert (first["method"], first["path"], first["status"]) == ("GET", "/calendar.ics", "403")
    assert first["query"] == f"token={REDACTED}" and first["client"] == "10.0.0.1:5000"
    assert second["query"] == f"days=3&TOKEN={REDACTED}&token={REDACTED}"
    assert third["query"] == f"note={REDACTED}"  # a configured secret, as everywhere
    assert odd["event"] == "request" and "zzzz9999" not in output
    assert (error["level"], error["event"], error["logger"]) == ("error", "log", "uvicorn.error")
    for leaked in ("guess-1234", "abcd1234", "secret-value"):
        assert leaked not in output


def test_request_lines_stay_events_after_uvicorns_own_logging_config() -> None:
    """uvicorn's default logging config, applied earlier in the process (an app served with
    it at log_level "warning", or a config that disables loggers), gives uvicorn.access its
    own handler and level and stops it propagating: after install, each access record is
    still one event line, and only one."""
    import logging.config

    import uvicorn
    from uvicorn.config import LOGGING_CONFIG

    from amplifier.web import AccessEvents

    logging.config.dictConfig(LOGGING_CONFIG)
    uvicorn.Config(app=None, log_level="warning")  # sets each uvicorn logger's level
    logging.getLogger("uvicorn.access").disabled = True
    stream = io.StringIO()
    install([SECRET], stream=stream, filters=[AccessEvents()])
    try:
        logging.getLogger("uvicorn.access").info(
            '%s - "%s %s HTTP/%s" %d', "10.0.0.1:5000", "GET", "/calendar.ics?token=t-1", "1.1", 200
        )
    finally:
        uninstall()
    [line] = [parse_logfmt(line) for line in stream.getvalue().splitlines()]
    assert line["event"] == "request" and line["query"] == f"token={REDACTED}"
