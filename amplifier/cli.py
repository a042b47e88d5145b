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

from amplifier import __version__
from amplifier.accounts import describe, verify_accounts
from amplifier.check import display_path, format_problem, load, run_check, summary_lines
from amplifier.config import load_settings
from amplifier.errors import AmplifierError, ConfigError
from amplifier.planner import NothingToPost, PlannedPost, preview, upcoming_slots

Clock = Callable[[], datetime]


def _now() -> datetime:
    return datetime.now(UTC)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="amplifier",
        description=(
            "Publish a campaign's rotating posts and hashtags to X, Mastodon and Bluesky "
            "on a schedule, exactly once."
        ),
        epilog=(
            "Start with 'amplifier check' (is everything valid?) and 'amplifier preview' "
            "(what will go out?). Config: --config FILE, else $AMPLIFIER_CONFIG, else "
            "config.toml, else config.example.toml."
        ),
    )
    parser.add_argument("--version", action="version", version=f"amplifier {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    def common(sub: argparse.ArgumentParser) -> None:
        sub.add_argument("--config", metavar="FILE", help="config file (TOML)")
        sub.add_argument("--posts", metavar="DIR", help="posts folder (default: the config's)")

    check = commands.add_parser(
        "check",
        help="validate the config and every post; exit 1 if anything is invalid",
        description=(
            "Validate the config and every post file. Each problem prints as file:line: "
            "message; checking goes on after a bad file, and a summary counts valid and "
            "invalid posts per campaign and network. Exit status 1 if anything is invalid."
        ),
    )
    common(check)
    check.add_argument(
        "--format",
        choices=("text", "github"),
        default="text",
        help="'github' prints GitHub Actions annotations, so a pull request shows errors inline",
    )

    show = commands.add_parser(
        "preview",
        help="show what each account would post in its next slots",
        description=(
            "Show what each account would post in its next slots: time, post id, the rendered "
            "text with its hashtags, and its length against the network's limit. Nothing is sent."
        ),
    )
    common(show)
    show.add_argument("--account", metavar="NAME", help="only this account")
    show.add_argument("-n", type=int, default=5, metavar="N", help="slots per account (default 5)")
    show.add_argument("--days", type=int, metavar="D", help="every slot in the next D days")

    accounts = commands.add_parser(
        "accounts",
        help="check the configured accounts' credentials (read-only)",
        description="Commands about the configured accounts.",
    )
    account_commands = accounts.add_subparsers(dest="accounts_command", metavar="ACTION")
    verify = account_commands.add_parser(
        "verify",
        help="check each account's credentials without posting",
        description=(
            "Check each enabled account's credentials read-only (nothing is posted): who it "
            "is, whether a Mastodon account carries the bot flag, and reminders such as X's "
            "'Automated' label. Exit status 1 if any account fails or lacks credentials."
        ),
    )
    verify.add_argument("--config", metavar="FILE", help="config file (TOML)")
    verify.add_argument("--account", metavar="NAME", help="only this account")
    return parser


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
        if args.command == "check":
            return cmd_check(args, stream)
        if args.command == "preview":
            return cmd_preview(args, stream, clock)
        if args.command == "accounts":
            if args.accounts_command != "verify":
                parser.parse_args(["accounts", "--help"])
            return cmd_accounts_verify(args, stream)
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


def cmd_check(args: argparse.Namespace, out: TextIO) -> int:
    report = run_check(args.config, args.posts)
    for problem in report.problems:
        print(format_problem(problem, args.format), file=out)
    for line in summary_lines(report):
        print(line, file=out)
    if report.settings is None:
        return 2
    return 0 if report.ok else 1


def cmd_preview(args: argparse.Namespace, out: TextIO, clock: Clock) -> int:
    settings, library = load(args.config, args.posts)
    if library.problems:
        print(
            f"note: {len(library.problems)} problem(s) in posts; those posts are left out "
            "(run amplifier check)",
            file=out,
        )
    accounts = [a for a in settings.accounts if a.enabled]
    if args.account:
        accounts = [a for a in accounts if a.name == args.account]
        if not accounts:
            names = ", ".join(a.name for a in settings.accounts)
            print(f"error: no account {args.account!r}; accounts: {names}", file=out)
            return 1
    now = clock()
    for account in accounts:
        schedule = settings.schedules[account.schedule]
        print(
            f"{account.name} ({account.network}) · schedule {account.schedule!r} "
            f"in {schedule.timezone}",
            file=out,
        )
        slots = upcoming_slots(settings, account, now, count=args.n, days=args.days)
        if not slots:
            print("  no slots ahead (campaign ended, or no days/times left)", file=out)
        for planned in preview(settings, library, account, slots):
            print(_preview_block(planned), file=out)
        print(file=out)
    return 0


def cmd_accounts_verify(args: argparse.Namespace, out: TextIO) -> int:
    settings = load_settings(args.config)
    results = verify_accounts(settings, only=args.account)
    if args.account and not results:
        print(f"error: no enabled account {args.account!r}", file=out)
        return 1
    for result in results:
        for line in describe(result):
            print(line, file=out)
    return 0 if all(result.ok for result in results) else 1


def _preview_block(planned: PlannedPost | NothingToPost) -> str:
    when = planned.slot.due_at.astimezone(planned.slot.nominal.tzinfo).strftime(
        "%a %Y-%m-%d %H:%M %Z"
    )
    if isinstance(planned, NothingToPost):
        return f"  {when}  (nothing: {planned.reason})"
    rendered = planned.rendered
    header = (
        f"  {when}  {planned.template.id} ({planned.template.language}) "
        f"{rendered.length}/{rendered.limit} · {display_path(planned.template.path)}"
    )
    body = "\n".join(f"      {line}".rstrip() for line in rendered.text.splitlines())
    return f"{header}\n{body}"
