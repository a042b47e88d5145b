"""The config file and the AMPLIFIER_* variables as every command meets them.

An unusable config file is one message and exit status 2 from the real entry point, never a
traceback; a misspelled override stops every command before it does anything; an override of
a schedule whose name has hyphens reaches that schedule.
"""

from __future__ import annotations

import io
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from amplifier.cli import main

from .conftest import FOREIGN, Ran, amplifier

COMMANDS = [
    ("check",),
    ("preview",),
    ("schedule",),
    ("status",),
    ("history",),
    ("run", "--once"),
    ("post-now", "fbt-x"),
    ("pause",),
    ("resume",),
    ("review",),
    ("accounts", "verify"),
]


def in_process(folder: Path, *argv: str, **env: str) -> Ran:
    """main() in ``folder`` with only ``env`` among the variables amplifier reads."""
    out, err = io.StringIO(), io.StringIO()
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(folder)
        for name in list(os.environ):
            if name.upper().startswith(FOREIGN):
                patch.delenv(name)
        for name, value in env.items():
            patch.setenv(name, value)
        code = main(list(argv), out=out, err=err)
    return Ran(code, out.getvalue(), err.getvalue())


def test_unusable_config_file_as_a_process(sample: Path) -> None:
    """python -m amplifier check on a folder, a binary file, an impossible date and a
    misspelled variable: exit 2, the path (or variable) and what is wrong, no traceback; a
    config saved with a byte-order mark is fine."""
    (sample / "folder.toml").mkdir()
    (sample / "image.toml").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    text = (sample / "config.example.toml").read_text(encoding="utf-8")
    (sample / "date.toml").write_text(text.replace("2027-12-31", "2027-02-30"), encoding="utf-8")
    (sample / "bom.toml").write_bytes(b"\xef\xbb\xbf" + text.encode())
    lines = text.splitlines()
    end_line = 1 + next(n for n, line in enumerate(lines) if line.startswith("end ="))
    cases = [
        (("check", "--config", "folder.toml"), {}, 2, "folder.toml: a folder, not a config file"),
        (("check", "--config", "image.toml"), {}, 2, "image.toml: a binary file, not TOML"),
        (
            ("check", "--config", "date.toml"),
            {},
            2,
            f"date.toml:{end_line}: end: 2027-02-30 is not a date (day is out of range for month)",
        ),
        (("check",), {"AMPLIFIER_DRYRUN": "1"}, 2, "did you mean AMPLIFIER_DRY_RUN?"),
        (("check", "--config", "bom.toml"), {}, 0, "ok"),
    ]

    def run(case: tuple[tuple[str, ...], dict[str, str], int, str]) -> Ran:
        return amplifier(sample, *case[0], **case[1])

    with ThreadPoolExecutor(max_workers=3) as pool:
        results = list(pool.map(run, cases))
    for (argv, env, code, words), ran in zip(cases, results, strict=True):
        assert "Traceback" not in ran.both, (argv, ran.err)
        assert ran.code == code, (argv, env, ran)
        assert words in ran.both, (argv, env, ran.both)


@pytest.mark.parametrize("argv", COMMANDS, ids=" ".join)
def test_misspelled_override_stops_every_command(sample: Path, argv: tuple[str, ...]) -> None:
    """AMPLIFIER_DRYRUN=true stops every command that reads the config, naming the setting
    meant, before anything is done (not even a database created): believing dry-run is on
    while publishing live must be impossible."""
    ran = in_process(sample, *argv, AMPLIFIER_DRYRUN="true")
    assert ran.code == 2, ran
    assert "environment variable AMPLIFIER_DRYRUN: matches no setting" in ran.both
    assert "did you mean AMPLIFIER_DRY_RUN?" in ran.both
    assert not (sample / "amplifier.db").exists()


def test_override_of_a_hyphenated_schedule_is_applied(sample: Path) -> None:
    """AMPLIFIER_SCHEDULES__US_DAYTIME__TIMES changes [schedules.us-daytime]: the schedule
    command shows its slots at the new time, and check passes (no stray us_daytime)."""
    times = {"AMPLIFIER_SCHEDULES__US_DAYTIME__TIMES": '["07:15"]'}
    ran = in_process(sample, "schedule", "-n", "2", **times)
    assert ran.code == 0, ran
    fbt_x = ran.out.split("fbt-x (x)")[1].split("fbt-mastodon")[0]
    # Every slot at the new time (a slot whose send time is this very minute may add a line).
    slots = [line for line in fbt_x.splitlines() if " slot " in line]
    assert len(slots) >= 2 and all("T07:15" in line for line in slots), ran.out
    assert in_process(sample, "check", **times).code == 0
