"""AMPLIFIER_* overrides: each reaches a setting or is refused naming the closest one.

Names with hyphens are reached with underscores in any case, accounts by name; a bad value
blames the variable; a section given as JSON merges with the file's; nothing is ever added.
"""

from __future__ import annotations

import os
import re
import subprocess
import tomllib
from pathlib import Path

import pytest

from amplifier.config import OTHER_VARIABLES as KNOWN_OTHER_VARIABLES
from amplifier.config import Settings, load_settings, setting_variables
from amplifier.errors import ConfigError

# AMPLIFIER_* variables that are not settings, yet legitimately used (by the code or the
# tests). The list lives in amplifier/config/overrides.py, since the running program must
# know them too: add a new one THERE, with what reads it.
OTHER_VARIABLES = frozenset(KNOWN_OTHER_VARIABLES)
# Not settings on purpose (besides tests/data/bad_settings/): misspelled to show they are
# refused, or a credential that a test's own config names.
NOT_SETTINGS_ON_PURPOSE = frozenset(
    {
        "AMPLIFIER_DRYRUN",
        "AMPLIFIER_SCHEDULES__US_DAYTIM__TIMES",
        "AMPLIFIER_ACCOUNTS__FBT_X__ACCESS_TOKEN",
        "AMPLIFIER_FBT_X_TOKEN",
        "AMPLIFIER_FBT_MASTODON_TOKEN",
    }
)


@pytest.fixture
def sample(repo_root: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The sample config, with no AMPLIFIER_* or DATABASE_URL from the caller's environment."""
    for name in list(os.environ):
        if name.upper().startswith(("AMPLIFIER_", "DATABASE_URL")):
            monkeypatch.delenv(name)
    return repo_root / "config.example.toml"


def _refusal(path: Path) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_settings(path)
    return [str(problem) for problem in caught.value.problems]


def test_misspelled_override_is_refused_naming_the_setting(
    sample: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """AMPLIFIER_DRYRUN (for AMPLIFIER_DRY_RUN) stops loading, naming the real setting: an
    operator who believes dry-run is on must not publish live."""
    monkeypatch.setenv("AMPLIFIER_DRYRUN", "true")
    (message,) = _refusal(sample)
    assert message.startswith("environment variable AMPLIFIER_DRYRUN: matches no setting")
    assert "did you mean AMPLIFIER_DRY_RUN?" in message
    monkeypatch.delenv("AMPLIFIER_DRYRUN")
    monkeypatch.setenv("AMPLIFIER_SCHEDULES__US_DAYTIM__TIMES", '["08:00"]')
    (message,) = _refusal(sample)
    assert "did you mean AMPLIFIER_SCHEDULES__US_DAYTIME__TIMES?" in message
    assert "never adds a schedule" in message


def test_credential_and_other_variables_are_not_settings(
    sample: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A credential variable the config names (even one called AMPLIFIER_…) and the variables
    the code and tests read are not settings, and never refused as misspelled ones."""
    text = sample.read_text(encoding="utf-8").replace(
        '"FBT_MASTODON_ACCESS_TOKEN"', '"AMPLIFIER_FBT_MASTODON_TOKEN"'
    )
    config = tmp_path / "config.toml"
    config.write_text(text, encoding="utf-8")
    monkeypatch.setenv("AMPLIFIER_FBT_MASTODON_TOKEN", "tok")
    for name in OTHER_VARIABLES - {"AMPLIFIER_CONFIG"}:
        monkeypatch.setenv(name, "1")
    monkeypatch.setenv("AMPLIFIER_CONFIG", str(config))
    assert load_settings().config_path == str(config)
    monkeypatch.setenv("AMPLIFIER_FBT_X_TOKEN", "tok")  # named by no account: refused
    assert "AMPLIFIER_FBT_X_TOKEN: matches no setting" in _refusal(config)[0]


def test_a_secret_in_a_variable_or_the_file_is_never_shown(
    sample: Path, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A token in a variable meant for a setting, a misspelled one, or written in the file is
    refused without its value in the message."""
    secret = "AbCdEf0123456789SECRETVALUE"
    for name in (
        "AMPLIFIER_ACCOUNTS__FBT_X__ACCESS_TOKEN",
        "AMPLIFIER_FBT_X_TOKEN",
        "AMPLIFIER_ACCOUNTS__FBT_MASTODON__SECRETS_FROM_ENV__ACCESS_TOKEN",
    ):
        monkeypatch.setenv(name, secret)
        messages = _refusal(sample)
        assert messages and all(secret not in message for message in messages), messages
        assert name in messages[0]
        monkeypatch.delenv(name)
    messages = _refusal(data_dir / "bad_settings" / "token-in-toml.toml")
    assert all(secret not in message for message in messages)


def _repository_files(root: Path) -> list[Path]:
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=root,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    return [root / name for name in listed if (root / name).is_file()]


def test_every_amplifier_variable_in_the_repository_is_known(repo_root: Path) -> None:
    """Every AMPLIFIER_* name written in the code, tests and docs reaches a setting of the
    sample or test config, or is listed in OTHER_VARIABLES (or is not one on purpose), so
    no variable a user copies from the docs is refused, and none the code reads is forgotten."""
    configs = [repo_root / "config.example.toml", repo_root / "tests/data/test_config.toml"]
    settings = {
        name
        for config in configs
        for name in setting_variables(Settings, tomllib.loads(config.read_text(encoding="utf-8")))
    }
    corpus = repo_root / "tests" / "data" / "bad_settings"
    unknown: dict[str, str] = {}
    for path in _repository_files(repo_root):
        if corpus in path.parents or path.suffix in {".png", ".jpg", ".gif", ".db"}:
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        for name in re.findall(r"AMPLIFIER_[A-Z_]+", text):
            if name.endswith("__"):  # a prefix, as in AMPLIFIER_GUARDS__<KEY>
                known = any(setting.startswith(name) for setting in settings)
            else:
                known = name in settings | OTHER_VARIABLES | NOT_SETTINGS_ON_PURPOSE
            if not known and name != "AMPLIFIER_":
                unknown.setdefault(name, str(path.relative_to(repo_root)))
    assert not unknown, unknown


def test_hyphenated_schedule_reached_with_underscores(
    sample: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """AMPLIFIER_SCHEDULES__US_DAYTIME__TIMES changes [schedules.us-daytime]; no us_daytime
    schedule appears beside it."""
    monkeypatch.setenv("AMPLIFIER_SCHEDULES__US_DAYTIME__TIMES", '["07:15", "19:45"]')
    settings = load_settings(sample)
    assert settings.schedules["us-daytime"].times == ("07:15", "19:45")
    assert settings.schedules["us-daytime"].timezone == "America/Chicago"  # from the file
    assert set(settings.schedules) == {"us-daytime", "spain-evening"}


def test_hyphenated_names_match_in_any_case(sample: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The variable's prefix, keys and names match in any case, '_' for '-'."""
    monkeypatch.setenv("amplifier_schedules__us_daytime__random_offset_minutes", "3")
    monkeypatch.setenv("Amplifier_Campaigns__Families_Belong_Together__Language", "es")
    monkeypatch.setenv("amplifier_accounts__Fbt-Mastodon-Es__visibility", "public")
    settings = load_settings(sample)
    assert settings.schedules["us-daytime"].random_offset_minutes == 3
    assert settings.campaigns["families-belong-together"].language == "es"
    assert settings.account("fbt-mastodon-es").visibility == "public"


def test_account_reached_by_name(sample: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """AMPLIFIER_ACCOUNTS__FBT_MASTODON_ES__ENABLED changes that account alone, not the one
    whose name it begins with; a table such as secrets_from_env takes one entry."""
    monkeypatch.setenv("AMPLIFIER_ACCOUNTS__FBT_MASTODON_ES__ENABLED", "false")
    monkeypatch.setenv("AMPLIFIER_ACCOUNTS__FBT_X__SECRETS_FROM_ENV__ACCESS_TOKEN", "OTHER_VAR")
    settings = load_settings(sample)
    assert [a.name for a in settings.accounts if not a.enabled] == ["fbt-mastodon-es"]
    assert settings.account("fbt-x").secrets_from_env["access_token"] == "OTHER_VAR"
    assert settings.account("fbt-x").secrets_from_env["consumer_key"] == "FBT_X_CONSUMER_KEY"
    assert len(settings.accounts) == 4


@pytest.mark.parametrize(
    ("given", "expected"),
    [(word, True) for word in ("true", "True", "yes", "on", "1")]
    + [(word, False) for word in ("false", "FALSE", "no", "off", "0")],
)
def test_booleans_in_every_spelling(
    sample: Path, monkeypatch: pytest.MonkeyPatch, given: str, expected: bool
) -> None:
    """A yes-or-no setting takes true/false, yes/no, on/off and 1/0."""
    monkeypatch.setenv("AMPLIFIER_DRY_RUN", given)
    assert load_settings(sample).dry_run is expected


def test_bad_value_blames_the_variable_not_the_file(
    sample: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A variable's bad value is reported as the variable's, never at a line of the file."""
    monkeypatch.setenv("AMPLIFIER_SCHEDULES__US_DAYTIME__TIMES", '["25:00"]')
    monkeypatch.setenv("AMPLIFIER_ACCOUNTS__FBT_X__SCHEDULE", "spain-evenin")
    with pytest.raises(ConfigError) as caught:
        load_settings(sample)
    (problem,) = caught.value.problems
    assert problem.file == "environment variable AMPLIFIER_SCHEDULES__US_DAYTIME__TIMES"
    assert problem.line is None and "config.example.toml" not in str(problem)
    monkeypatch.delenv("AMPLIFIER_SCHEDULES__US_DAYTIME__TIMES")
    assert _refusal(sample) == [
        "environment variable AMPLIFIER_ACCOUNTS__FBT_X__SCHEDULE: account 'fbt-x' schedule: "
        "unknown schedule 'spain-evenin'; did you mean 'spain-evening'? "
        "defined schedules: spain-evening, us-daytime"
    ]


def test_section_as_json_merges_with_the_file(
    sample: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A whole section in one variable changes the keys it gives and keeps the file's others."""
    monkeypatch.setenv("AMPLIFIER_WORKER", '{"grace_minutes": 5, "retry": {"max_attempts": 2}}')
    monkeypatch.setenv("AMPLIFIER_SCHEDULES__SPAIN_EVENING", '{"times": ["11:00"]}')
    monkeypatch.setenv("AMPLIFIER_ACCOUNTS", '{"fbt-x": {"monthly_budget_usd": 7}}')
    settings = load_settings(sample)
    assert settings.worker.grace_minutes == 5
    assert settings.worker.retry.max_attempts == 2
    assert settings.worker.retry.total_timeout == 120  # the file's
    assert settings.worker.tick_seconds == 30
    assert settings.schedules["spain-evening"].times == ("11:00",)
    assert settings.schedules["spain-evening"].days == ("weekdays",)
    assert settings.account("fbt-x").monthly_budget_usd == 7
    assert settings.account("fbt-x").schedule == "us-daytime"


def test_database_url_precedence(sample: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """AMPLIFIER_DATABASE_URL over DATABASE_URL (Heroku's) over the file over the default."""
    assert load_settings(sample).database_url == "sqlite:///amplifier.db"  # the file's
    monkeypatch.setenv("DATABASE_URL", "postgres://heroku/db")
    assert load_settings(sample).database_url == "postgres://heroku/db"
    monkeypatch.setenv("AMPLIFIER_DATABASE_URL", "sqlite:///chosen.db")
    assert load_settings(sample).database_url == "sqlite:///chosen.db"
    monkeypatch.delenv("DATABASE_URL")
    assert load_settings(sample).database_url == "sqlite:///chosen.db"
