"""The command line: parse arguments, call the functions that do the work, print.

Every command reads ``--config FILE``, else ``$AMPLIFIER_CONFIG``, else ``config.toml``, else
``config.example.toml``; the posts folder is the one the config names unless ``--posts``.
Exit codes: 0 ok, 1 problems found or an operation failed, 2 a wrong argument or unusable
input (bad config, unusable database), 130 interrupted (Ctrl-C), 141 the reader of the output
went away (``amplifier preview | head``), as other Unix tools.

Whatever goes wrong on the way is a message on stderr and an exit status, never a traceback:
an unknown command or a bad value (argparse, with the allowed values), a config that cannot be
used, a database that cannot be reached, Ctrl-C, a closed pipe, a terminal that cannot show a
character (it is shown escaped instead).
"""

from __future__ import annotations

import argparse
import io
import os
import sys
from collections.abc import Callable, Sequence
from contextlib import redirect_stderr, redirect_stdout
from datetime import UTC, datetime
from typing import TextIO

from amplifier.cli.common import CommandError
from amplifier.cli.parser import build_parser, check_combinations
from amplifier.errors import AmplifierError, ConfigError

Clock = Callable[[], datetime]
INTERRUPTED = 130  # 128 + SIGINT, what a shell reports for a command stopped by Ctrl-C
BROKEN_PIPE = 141  # 128 + SIGPIPE


def _now() -> datetime:
    return datetime.now(UTC)


def main(
    argv: Sequence[str] | None = None,
    *,
    out: TextIO | None = None,
    err: TextIO | None = None,
    clock: Clock = _now,
) -> int:
    """Run one command; its exit status. ``out`` receives the output (stdout by default) and
    ``err`` the errors (stderr by default, or ``out`` when only ``out`` is given)."""
    if out is None:
        for stream in (sys.stdout, sys.stderr):
            _tolerant(stream)
    stream = out or sys.stdout
    errors = err or out or sys.stderr
    try:
        return _main(argv, stream, errors, clock)
    except BrokenPipeError:
        if out is None:
            _quiet_stdout()
        return BROKEN_PIPE
    except KeyboardInterrupt:
        print("interrupted", file=errors)
        return INTERRUPTED
    except RuntimeError as error:
        # Python 3.11 wraps what is raised while a class is made (``__set_name__``, which a
        # dataclass's fields run at import) in a RuntimeError: a Ctrl-C landing there, while a
        # command still imports, is still a Ctrl-C.
        if not isinstance(error.__cause__, KeyboardInterrupt):
            raise
        print("interrupted", file=errors)
        return INTERRUPTED


def _main(argv: Sequence[str] | None, out: TextIO, err: TextIO, clock: Clock) -> int:
    # Only argparse and amplifier's exception tree are loaded before this point; everything
    # else is imported by the command below, inside main's try, so a Ctrl-C during the imports
    # is an "interrupted" like any other.
    parser = build_parser()
    with redirect_stdout(out), redirect_stderr(err):
        try:
            args = parser.parse_args(argv)
            check_combinations(parser, args)
        except SystemExit as done:  # --help, --version, or a usage error (status 2)
            return done.code if isinstance(done.code, int) else 2
    if args.command is None:
        parser.print_help(out)
        return 0
    try:
        return _command(args.command)(args, out, clock)
    except ConfigError as exc:
        from amplifier.check import format_problem

        for problem in exc.problems:
            print(format_problem(problem, "text"), file=err)
        print("The config is unusable; fix it and try again (amplifier check).", file=err)
        return 2
    except CommandError as exc:
        print(f"error: {exc}", file=err)
        return exc.code
    except AmplifierError as exc:
        print(f"error: {exc}", file=err)
        return 1


Command = Callable[[argparse.Namespace, TextIO, Clock], int]


def _command(name: str) -> Command:
    """The function behind a command (the parser only lets through names that have one).

    Its module is imported only when that command runs, so ``amplifier check`` loads neither
    the worker nor the delivery stage nor the store.
    """
    if name == "check":
        from amplifier.cli.check import cmd_check

        return cmd_check
    if name in ("preview", "schedule"):
        from amplifier.cli.preview import cmd_preview, cmd_schedule

        return cmd_preview if name == "preview" else cmd_schedule
    if name == "accounts":
        from amplifier.cli.accounts import cmd_accounts_verify

        return cmd_accounts_verify
    if name == "kit":
        from amplifier.cli.kit import cmd_kit_build

        return cmd_kit_build
    if name == "alerts":
        from amplifier.cli.alerting import cmd_alerts_test

        return cmd_alerts_test
    if name in ("run", "post-now"):
        from amplifier.cli.run import RUN_COMMANDS

        return RUN_COMMANDS[name]
    if name in ("results", "report"):
        from amplifier.cli.results import cmd_results

        return cmd_results
    if name == "web":
        from amplifier.cli.web import cmd_web  # the console's packages load only here

        return cmd_web
    from amplifier.cli.operator import OPERATOR_COMMANDS

    return OPERATOR_COMMANDS[name]


def _tolerant(stream: TextIO) -> None:
    """A character the terminal's encoding lacks is written escaped (\\xb7), not an error."""
    if isinstance(stream, io.TextIOWrapper) and stream.errors == "strict":
        stream.reconfigure(errors="backslashreplace")


def _quiet_stdout() -> None:
    """After the reader went away: point stdout at /dev/null, so the interpreter's last flush
    at exit does not fail again (Python's documented way, signal.SIGPIPE's notes)."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass
