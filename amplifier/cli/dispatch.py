"""The command line: parse arguments, call the functions that do the work, print.

Every command reads ``--config FILE``, else ``$AMPLIFIER_CONFIG``, else ``config.toml``, else
``config.example.toml``; the posts folder is the one the config names unless ``--posts``.
Exit codes: 0 ok, 1 problems found or an operation failed, 2 unusable input (bad config).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import TextIO

from amplifier.check import format_problem
from amplifier.cli.parser import build_parser
from amplifier.errors import AmplifierError, ConfigError

Clock = Callable[[], datetime]


def _now() -> datetime:
    return datetime.now(UTC)


def main(
    argv: Sequence[str] | None = None,
    *,
    out: TextIO | None = None,
    clock: Clock = _now,
) -> int:
    stream = out or sys.stdout
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help(stream)
        return 0
    try:
        if args.command == "accounts" and args.accounts_command != "verify":
            parser.parse_args(["accounts", "--help"])
        command = _command(args.command)
        if command is not None:
            return command(args, stream, clock)
    except ConfigError as exc:
        for problem in exc.problems:
            print(format_problem(problem, "text"), file=stream)
        print("The config is invalid; fix it and try again (amplifier check).", file=stream)
        return 2
    except AmplifierError as exc:
        print(f"error: {exc}", file=stream)
        return 1
    parser.error(f"unknown command {args.command}")
    return 2


Command = Callable[[argparse.Namespace, TextIO, Clock], int]


def _command(name: str) -> Command | None:
    """The function behind a command, or None for a name no command has.

    Its module is imported only when that command runs, so ``amplifier check`` loads neither
    the worker nor the delivery stage.
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
    if name in ("run", "post-now"):
        from amplifier.cli.run import RUN_COMMANDS

        return RUN_COMMANDS[name]
    from amplifier.cli.operator import OPERATOR_COMMANDS

    return OPERATOR_COMMANDS.get(name)
