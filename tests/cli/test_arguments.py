"""Misuse of the command line: refused at parse time, with the allowed values, never a traceback.

Every command is run with bad arguments: a number out of range or not a number, a state or
format that does not exist, a missing value, a typo in a command or an account name, options
that do not go together. Each gets exit status 2 and a message naming what is allowed.
"""

from __future__ import annotations

import io
import typing
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import pytest

from amplifier.cli import main
from amplifier.cli.parser import DELIVERY_STATES
from amplifier.store import DeliveryStatus
from amplifier.store.migration_0007 import STATUSES_0007 as STATUSES

from .conftest import amplifier

NOW = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)

# (arguments, words the message must hold): each a usage error, exit status 2.
MISUSE: list[tuple[tuple[str, ...], tuple[str, ...]]] = [
    (("frob",), ("invalid choice: 'frob'", "check", "status")),
    (("stauts",), ("did you mean 'status'",)),
    (("check", "--format", "json"), ("invalid choice: 'json'", "text", "github")),
    (("check", "--posts", "no-such-folder"), ("no-such-folder does not exist",)),
    (("check", "--posts", "config.example.toml"), ("is a file, not a folder",)),
    (("check", "--bogus"), ("unrecognized arguments: --bogus",)),
    (("preview", "-n", "-3"), ("-3 is out of range", "from 1 to 1000")),
    (("preview", "-n", "0"), ("0 is out of range",)),
    (("preview", "-n", "three"), ("'three' is not a whole number",)),
    (("preview", "--days", "0"), ("from 1 to 366",)),
    (("preview", "--days", "9999"), ("9999 is out of range",)),
    (("preview", "-n", "3", "--days", "2"), ("not allowed with",)),
    (("preview", "--account"), ("expected one argument",)),
    (("preview", "--account", "fbt-xx"), ("no account 'fbt-xx'", "did you mean 'fbt-x'?")),
    (("accounts",), ("required", "ACTION")),
    (("accounts", "frob"), ("invalid choice: 'frob'", "verify")),
    (("accounts", "verify", "--account", "fbt-xx"), ("did you mean 'fbt-x'?",)),
    (("run", "now"), ("unrecognized arguments: now",)),
    (("post-now",), ("required", "ACCOUNT")),
    (("post-now", "fbt-mastodn"), ("no account 'fbt-mastodn'", "did you mean 'fbt-mastodon'?")),
    (("post-now", "fbt-x", "--post"), ("expected one argument",)),
    (("schedule", "-n", "-1"), ("-1 is out of range",)),
    (("schedule", "--account", "nobody"), ("no account 'nobody'", "Accounts: fbt-x")),
    (("history", "--status", "sent"), ("invalid choice: 'sent'", "published", "skipped")),
    (("history", "--limit", "-5"), ("-5 is out of range", "from 1 to 100000")),
    (("history", "--limit", "abc"), ("'abc' is not a whole number",)),
    (("history", "--account", "fbt-xx"), ("no account 'fbt-xx'", "did you mean 'fbt-x'?")),
    (("status", "--verbose"), ("unrecognized arguments: --verbose",)),
    (("pause", "--reason"), ("expected one argument",)),
    (("resume", "now"), ("unrecognized arguments: now",)),
    (("review", "-5"), ("-5 is out of range",)),
    (("review", "abc"), ("'abc' is not a whole number",)),
    (("review", "--published"), ("need an ID",)),
    (("review", "7"), ("--published or --not-published",)),
    (("review", "7", "--published", "--not-published"), ("not allowed with",)),
    (("review", "--url", "https://x.com/a/status/1"), ("need an ID",)),
]


def run_in(folder: Path, *argv: str) -> tuple[int, str]:
    out = io.StringIO()
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(folder)
        for name in ("AMPLIFIER_CONFIG", "DATABASE_URL", "AMPLIFIER_DATABASE_URL", "DYNO"):
            patch.delenv(name, raising=False)
        code = main(list(argv), out=out, clock=lambda: NOW)
    return code, out.getvalue()


@pytest.mark.parametrize(("argv", "words"), MISUSE, ids=[" ".join(a) for a, _ in MISUSE])
def test_misuse_is_refused_with_the_allowed_values(
    sample: Path, argv: tuple[str, ...], words: tuple[str, ...]
) -> None:
    """Exit status 2, a message naming what is wrong and what is allowed, nothing recorded."""
    code, out = run_in(sample, *argv)
    assert code == 2, out
    for word in words:
        assert word in out, out
    assert "Traceback" not in out
    assert not (sample / "amplifier.db").exists() or argv[0] in ("history",)


def test_misuse_as_a_process_never_prints_a_traceback(sample: Path) -> None:
    """The same misuse through the real entry point (python -m amplifier): exit status 2,
    the message on stderr, nothing on stdout, no traceback anywhere."""
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda case: amplifier(sample, *case[0]), MISUSE))
    for (argv, words), ran in zip(MISUSE, results, strict=True):
        assert "Traceback" not in ran.both, (argv, ran.err)
        assert ran.code == 2, (argv, ran)
        assert ran.out == "", (argv, ran.out)
        assert words[0] in ran.err, (argv, ran.err)


def test_history_states_are_the_stores() -> None:
    """`history --status` accepts exactly the states the store records (the parser keeps its
    own list so that `amplifier check` never loads the store) and the schema allows (as of
    0007, which added 'rehearsed'): a state added to one and not the other fails here."""
    assert set(DELIVERY_STATES) == set(typing.get_args(DeliveryStatus)) == set(STATUSES)


def test_filtered_history_with_no_match_says_so(sample: Path) -> None:
    """A filter that matches nothing says which filter, not "no deliveries recorded yet"."""
    code, out = run_in(sample, "history", "--account", "fbt-x")
    assert (code, out.strip()) == (0, "no deliveries recorded yet")
    from amplifier.store import DeliveryDraft, Store

    store = Store(f"sqlite:///{sample / 'amplifier.db'}")
    draft = DeliveryDraft("fbt-x", "x", "2026-11-22T09:00", NOW, "p", "fbt", "Call today")
    assert store.claim_slot(draft, worker_id="w") is not None
    store.close()
    code, out = run_in(sample, "history", "--account", "fbt-mastodon", "--status", "failed")
    assert code == 0
    assert out.strip() == (
        "no deliveries of account fbt-mastodon in state failed "
        "(amplifier history without options shows all)"
    )
    code, out = run_in(sample, "history", "--status", "failed", "--status", "missed")
    assert "no deliveries of state failed or missed" in out


def test_unknown_account_in_history_with_rows_of_its_own_still_shows(sample: Path) -> None:
    """An account removed from the config keeps its history: its rows show, no error."""
    from amplifier.store import DeliveryDraft, Store

    run_in(sample, "status")  # creates the database
    store = Store(f"sqlite:///{sample / 'amplifier.db'}")
    draft = DeliveryDraft("old-x", "x", "2026-11-22T09:00", NOW, "p", "fbt", "Call today")
    assert store.claim_slot(draft, worker_id="w") is not None
    store.close()
    code, out = run_in(sample, "history", "--account", "old-x")
    assert code == 0 and "old-x" in out and "sending" in out
