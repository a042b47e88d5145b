"""The command line's arguments: every command, its options, their allowed values and help.

Every value is checked here, at parse time, and a bad one is refused with the allowed values
(exit status 2, argparse's usage error): ``-n -3``, ``--status sent`` or ``--limit 0`` never
reach a command. Names that only the config knows (accounts) are checked once it is read
(``cli.accounts_named``). Each command's help says what it does, each argument's allowed
values and default, and gives an example; the README's table of commands is this parser's
summaries (tests/cli/test_help.py keeps them equal).
"""

from __future__ import annotations

import argparse
from typing import Any

from amplifier import __version__
from amplifier.cli.argtypes import Parser, count, folder, host
from amplifier.cli.kit_arguments import kit_commands
from amplifier.cli.results_arguments import results_command

# The delivery states `history --status` accepts: the store's states (amplifier.store's
# DeliveryStatus; not imported, so that `amplifier check` never loads the store).
# tests/cli/test_arguments.py fails when the two differ.
DELIVERY_STATES = (
    "published", "sending", "deferred", "failed", "unknown", "missed", "skipped", "rehearsed"
)  # fmt: skip
MAX_SLOTS = 1_000
MAX_DAYS = 366
MAX_ROWS = 100_000
COMMON_OPTIONS = ("--config", "--posts", "--help")  # every command has them: left out of tables


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="amplifier",
        description=(
            "Publish a campaign's rotating posts and hashtags to X, Mastodon and Bluesky "
            "on a schedule, exactly once."
        ),
        epilog=(
            "Start with 'amplifier check' (is everything valid?) and 'amplifier preview' "
            "(what will go out?).\nEvery command reads --config FILE, else $AMPLIFIER_CONFIG, "
            "else config.toml, else config.example.toml.\n'amplifier COMMAND --help' explains "
            "a command, its options and their defaults, with an example.\n\n"
            "Exit status: 0 done, 1 a problem found or an operation failed, 2 a wrong argument "
            "or an unusable config or database, 130 interrupted (Ctrl-C)."
        ),
    )
    parser.add_argument("--version", action="version", version=f"amplifier {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    _content_commands(commands)
    _worker_commands(commands)
    _operator_commands(commands)
    kit_commands(commands, _add)
    _alerts_commands(commands)
    results_command(commands, _add)
    return parser


def _alerts_commands(commands: Any) -> None:
    alerts = commands.add_parser(
        "alerts",
        help="the alert channels (Apprise URLs from the variable [alerts] urls_from_env names)",
        description="Commands about alerts. The one action is 'test'.",
        epilog="example:\n  amplifier alerts test",
    )
    actions = alerts.add_subparsers(
        dest="alerts_command", metavar="ACTION", parser_class=type(alerts), required=True
    )
    _add(
        actions,
        "test",
        "send one test message to each alert channel and report each result",
        "Send one test message to each Apprise URL in the variable [alerts] urls_from_env "
        "names (ALERT_URLS in the sample), each with its own timeouts, and print per channel "
        "'ok' or what went wrong (a channel shown by its place and kind, never its secret "
        "parts). Nothing is stored. Exit status 1 if any channel fails or none is configured.",
        "ALERT_URLS='json://127.0.0.1:8080/' amplifier alerts test",
    )


def _add(commands: Any, name: str, summary: str, description: str, example: str) -> Parser:
    """A command with the options every command has (--config, --posts) and its example."""
    sub: Parser = commands.add_parser(
        name,
        help=summary,
        description=description,
        epilog="example:\n" + "\n".join(f"  {line}" for line in example.splitlines()),
    )
    sub.add_argument(
        "--config",
        metavar="FILE",
        help="the config file (default: $AMPLIFIER_CONFIG, else config.toml, else "
        "config.example.toml)",
    )
    sub.add_argument(
        "--posts",
        metavar="DIR",
        type=folder,
        help="the posts folder (default: the config's posts_dir)",
    )
    return sub


def _account(sub: argparse.ArgumentParser, what: str = "only this account") -> None:
    sub.add_argument("--account", metavar="NAME", help=f"{what} (an account name in the config)")


def _content_commands(commands: Any) -> None:
    check = _add(
        commands,
        "check",
        "validate the config and every post, each problem as file:line: message; exit 1 if a "
        "post is invalid, 2 if the config is unusable",
        "Validate the config and every post file, sending nothing. Each problem prints as "
        "file:line: message; checking goes on after a bad file, and a summary counts valid and "
        "invalid posts per campaign and network. Exit status 1 if any post is invalid, 2 if "
        "the config itself is unusable.",
        "amplifier check --format github     # in a GitHub Actions job",
    )
    check.add_argument(
        "--format",
        choices=("text", "github"),
        default="text",
        help="text: file:line: message (default); github: GitHub Actions annotations, so a "
        "pull request shows errors inline",
    )
    check.add_argument(
        "--fetch-cards",
        action="store_true",
        help="also read each link a Bluesky account posts (public web pages only) and say "
        "which card it makes, or why it goes out as a plain link (a warning); stores nothing",
    )
    show = _add(
        commands,
        "preview",
        "what the worker will do with each account's next slots, from what is stored",
        "Show what the worker will do with each enabled account's next slots, from what is "
        "stored (rotation, guard history, spend, pause): the post each sends, rendered exactly "
        "as it will go out with its length against the network's limit (X accounts: the cost "
        "and the month's spend), the post it replaces and the rule that refused it, or why the "
        "slot is skipped. Each predicted post counts for the next slot's guards, rotation and "
        "spend. Nothing is sent or recorded.",
        "amplifier preview --account fbt-x --days 7",
    )
    _account(show)
    show.add_argument(
        "--fetch-cards",
        action="store_true",
        help="read each Bluesky post's link now (public web pages only) and show its card, "
        "stored for the worker when the database exists; without it, the stored cards",
    )
    span = show.add_mutually_exclusive_group()
    span.add_argument(
        "-n",
        type=count(1, MAX_SLOTS, "N"),
        default=5,
        metavar="N",
        help=f"the next N slots per account, 1 to {MAX_SLOTS} (default: 5)",
    )
    span.add_argument(
        "--days",
        type=count(1, MAX_DAYS, "D"),
        metavar="D",
        help=f"every slot in the next D days, 1 to {MAX_DAYS}, instead of -n",
    )
    accounts = commands.add_parser(
        "accounts",
        help="check the configured accounts' credentials (read-only)",
        description="Commands about the configured accounts. The one action is 'verify'.",
        epilog="example:\n  amplifier accounts verify --account fbt-mastodon",
    )
    actions = accounts.add_subparsers(
        dest="accounts_command", metavar="ACTION", parser_class=Parser, required=True
    )
    verify = actions.add_parser(
        "verify",
        help="check each account's credentials read-only: who it is, Mastodon's bot flag, X's "
        "'Automated' label",
        description=(
            "Check each enabled account's credentials read-only (nothing is posted): who it "
            "is, whether a Mastodon account carries the bot flag, and reminders such as X's "
            "'Automated' label. A Mastodon server's own limits (length, images) are read and "
            "stored in the database (made if new) for the worker, check and preview. Exit "
            "status 1 if any account fails or lacks credentials."
        ),
        epilog="example:\n  amplifier accounts verify --account fbt-mastodon",
    )
    verify.add_argument("--config", metavar="FILE", help="the config file")
    _account(verify)


def _worker_commands(commands: Any) -> None:
    run = _add(
        commands,
        "run",
        "the worker: publish every slot exactly once as it comes, until stopped (--once: one pass)",
        "Run the worker: publish each account's slots as they come, exactly once, until "
        "SIGTERM or Ctrl-C (the post in flight is finished or handed back first). It logs one "
        "line per event, starting with the database, the accounts that are live and those "
        "that are dry-run (no credentials in the environment, or --dry-run: their posts are "
        "logged, not sent, and recorded 'rehearsed', which no live count, guard, spend or "
        "rotation takes for a post) and each account's next post. State lives in the database "
        "(database_url / DATABASE_URL). Run one worker per database; a second one is safe "
        "but pointless.",
        "amplifier run --dry-run --once     # one rehearsal pass, nothing sent",
    )
    run.add_argument(
        "--dry-run", action="store_true", help="log every post, send nothing (rehearsed)"
    )
    run.add_argument(
        "--once",
        action="store_true",
        help="one pass now (settle, retry, publish what is due), print what was done, exit",
    )
    post_now = _add(
        commands,
        "post-now",
        "publish one post for an account right away",
        "Publish the account's next post in rotation (or --post ID) right away, if the guards "
        "allow it. It is claimed like a slot under a key of its own (manual-<UTC time>-"
        "<random>), so it is recorded and never sent twice; each run of the command is a post "
        "of its own.",
        "amplifier post-now fbt-mastodon --post call-congress",
    )
    post_now.add_argument("account", metavar="ACCOUNT", help="the account's name in the config")
    post_now.add_argument(
        "--post", metavar="ID", help="this post (its id) instead of the next in rotation"
    )
    post_now.add_argument(
        "--dry-run",
        action="store_true",
        help="log the post, send nothing; recorded as 'rehearsed', which nothing counts",
    )


def _operator_commands(commands: Any) -> None:
    schedule = _add(
        commands,
        "schedule",
        "list each account's upcoming slots and what the worker will do with each",
        "List each enabled account's upcoming slots in its own timezone (and UTC), from the "
        "config (times, days, random offset, campaign dates and blackout dates applied), each "
        "with what the worker will do with it, as amplifier preview predicts it.",
        "amplifier schedule --account fbt-x -n 10",
    )
    _account(schedule)
    schedule.add_argument(
        "-n",
        type=count(1, MAX_SLOTS, "N"),
        default=5,
        metavar="N",
        help=f"slots per account, 1 to {MAX_SLOTS} (default: 5)",
    )
    history = _add(
        commands,
        "history",
        "what went out (with links), what failed and why",
        "List recorded deliveries, newest slot first: published ones with their link, every "
        "other state with its reason. States: published; sending (under way); deferred "
        "(retried at the time shown); failed; unknown (needs review); missed (no worker ran "
        "in time); skipped (paused, or held back by a guard); rehearsed (a dry run printed "
        "it; never sent, never counted).",
        "amplifier history --account fbt-x --status failed --status unknown",
    )
    _account(history)
    history.add_argument(
        "--limit",
        type=count(1, MAX_ROWS, "N"),
        default=30,
        metavar="N",
        help=f"at most N rows, 1 to {MAX_ROWS} (default: 30)",
    )
    history.add_argument(
        "--status",
        action="append",
        choices=DELIVERY_STATES,
        metavar="STATE",
        help=f"only this state, repeatable; one of: {', '.join(DELIVERY_STATES)} (default: all)",
    )
    status = _add(
        commands,
        "status",
        "per account: live or dry-run, last post, next slot, rate limits, what needs review",
        "Show the config and database in use, how many posts are valid and invalid, whether "
        "posting is paused, and per account: live or dry-run, the last post, the next slot, "
        "rate-limit windows, deferred posts, deliveries that need review, and X spend.",
        "amplifier status\namplifier status --alert   # e.g. every 10 minutes from a scheduler",
    )
    status.add_argument(
        "--alert",
        action="store_true",
        help="also alert (once per silence) about a worker silent for longer than [alerts] "
        "heartbeat_silent_longer_than_minutes, and send the alerts waiting in the outbox",
    )
    pause = _add(
        commands,
        "pause",
        "stop all posting (stored in the database) until 'amplifier resume'",
        "Stop all posting without a redeploy: the running worker reads the switch on every "
        "pass (within tick_seconds) and records due slots as skipped.",
        'amplifier pause --reason "rally cancelled"',
    )
    pause.add_argument("--reason", metavar="TEXT", help="why; shown by status and history")
    _add(
        commands,
        "resume",
        "undo 'amplifier pause'",
        "Resume posting after 'amplifier pause': the running worker publishes again from its "
        "next slot on (slots due while paused stay skipped).",
        "amplifier resume",
    )
    review = _add(
        commands,
        "review",
        "deliveries whose outcome is unknown after a crash; settle one once you have looked",
        "Without ID: list deliveries in state 'unknown' (the worker was interrupted and could "
        "not tell whether the network got the post). Look at the account, then record what you "
        "found: amplifier review ID --published (or --not-published).",
        "amplifier review\namplifier review 42 --published --note 'seen on the profile'\n"
        "amplifier review 43 --published --url https://x.com/families/status/1864000000000000000",
    )
    review.add_argument(
        "id",
        nargs="?",
        type=count(1, 2**63 - 1, "ID"),
        metavar="ID",
        help="the delivery to settle (its number in history)",
    )
    verdict = review.add_mutually_exclusive_group()
    verdict.add_argument("--published", action="store_true", help="it is on the account")
    verdict.add_argument(
        "--not-published", action="store_true", help="it is not on the account (failed)"
    )
    review.add_argument("--note", metavar="TEXT", help="what you checked (with ID)")
    review.add_argument(
        "--url",
        metavar="URL",
        help="with --published: the post's link as the app shows it; a thread whose part this "
        "is then goes on replying to that post (without it, the rest of the thread is not sent)",
    )
    _web_command(commands)


def _web_command(commands: Any) -> None:
    web = _add(
        commands,
        "web",
        "the organizers' console in a browser: calendar, history, status, review, posts, pause",
        "Serve the organizers' console (docs/organizers.md) and print its address. It reads "
        "the same config and database as the worker and needs an organizer password "
        "(AMPLIFIER_WEB_ORGANIZER_PASSWORD_HASH, docs/operators.md); run locally without one, "
        "it makes a one-time password and prints it. Stop it with Ctrl-C.",
        "amplifier web\namplifier web --host 0.0.0.0 --port 8080\n"
        "amplifier web --hash-password < password.txt",
    )
    web.add_argument(
        "--host",
        type=host,
        metavar="H",
        help="address to listen on (default: 0.0.0.0 when $PORT is set, as on Heroku, "
        "else 127.0.0.1, this machine only)",
    )
    web.add_argument(
        "--port",
        type=count(1, 65_535, "P"),
        metavar="P",
        help="port to listen on, 1 to 65535 (default: $PORT, else 8000)",
    )
    web.add_argument(
        "--hash-password",
        action="store_true",
        help="read a password (prompted, or from standard input) and print the hash to put in "
        "AMPLIFIER_WEB_ORGANIZER_PASSWORD_HASH or AMPLIFIER_WEB_VIEWER_PASSWORD_HASH; "
        "serves nothing",
    )


def check_combinations(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """What argparse cannot say by itself: options that only make sense together."""
    if args.command == "review":
        review = _subparser(parser, "review")
        verdict = args.published or args.not_published
        if args.id is None and (verdict or args.note or args.url):
            review.error("--published, --not-published, --note and --url need an ID")
        if args.url and not args.published:
            review.error("--url goes with --published: the link of the post you found")
        if args.id is not None and not verdict:
            review.error("say what you found: --published or --not-published")


def _subparser(parser: argparse.ArgumentParser, name: str) -> argparse.ArgumentParser:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction) and name in action.choices:
            found: argparse.ArgumentParser = action.choices[name]
            return found
    return parser
