"""Config loading: every bad value gives one message with file, line, key and what is allowed."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from amplifier.config import load_settings, resolve_secrets
from amplifier.errors import ConfigError

DATA = Path(__file__).parent.parent / "data"
BAD = sorted((DATA / "bad_configs").glob("*.toml"))


def _expectation(path: Path) -> tuple[int, str]:
    header = path.read_text(encoding="utf-8").splitlines()[:2]
    line = int(re.sub(r"\D", "", header[0]))
    return line, header[1].split(":", 1)[1].strip()


@pytest.mark.parametrize("path", BAD, ids=[p.stem for p in BAD])
def test_bad_config_names_file_line_and_reason(path: Path) -> None:
    """Each broken config in the corpus fails with one message at the expected line."""
    line, fragment = _expectation(path)
    with pytest.raises(ConfigError) as caught:
        load_settings(path)
    problems = caught.value.problems
    assert len(problems) == 1, [str(p) for p in problems]
    assert problems[0].line == line, str(problems[0])
    assert fragment in problems[0].message
    assert str(path) in str(problems[0])


def test_token_value_never_echoed() -> None:
    """A secret written in the file is refused without repeating its value."""
    for name in ("token-in-toml.toml", "pasted-secret.toml"):
        with pytest.raises(ConfigError) as caught:
            load_settings(DATA / "bad_configs" / name)
        text = str(caught.value)
        assert "SECRETVALUE" not in text and "pasted-token" not in text
        assert "environment variable" in text


def test_sample_config_loads(repo_root: Path) -> None:
    """The shipped config.example.toml is valid and points at the shipped posts folder."""
    settings = load_settings(repo_root / "config.example.toml")
    assert {a.network for a in settings.accounts} == {"x", "mastodon", "bluesky"}
    assert settings.posts_path == repo_root / "posts"
    assert settings.campaigns["families-belong-together"].hashtags.always == (
        "FamiliesBelongTogether",
    )


def test_environment_overrides_file(repo_root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """AMPLIFIER_* variables override file values, nested keys with __."""
    monkeypatch.setenv("AMPLIFIER_SEED", "from-env")
    monkeypatch.setenv("AMPLIFIER_NETWORKS__X__MAX_HASHTAGS", "1")
    settings = load_settings(repo_root / "config.example.toml")
    assert settings.seed == "from-env"
    assert settings.networks.limits("x").max_hashtags == 1
    assert settings.networks.limits("x").max_length == 280  # untouched default


def test_bad_environment_value_is_named(repo_root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A bad override names the environment variable rather than a file line."""
    monkeypatch.setenv("AMPLIFIER_NETWORKS__X__MAX_HASHTAGS", "lots")
    with pytest.raises(ConfigError) as caught:
        load_settings(repo_root / "config.example.toml")
    assert "environment variable AMPLIFIER_NETWORKS__X__MAX_HASHTAGS" in str(caught.value)


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgres://u:p@h:5432/db", "postgresql+psycopg://u:p@h:5432/db"),
        ("postgresql://u@h/db", "postgresql+psycopg://u@h/db"),
        ("sqlite:///x.db", "sqlite:///x.db"),
    ],
)
def test_database_url_forms(
    repo_root: Path, monkeypatch: pytest.MonkeyPatch, given: str, expected: str
) -> None:
    """Heroku's DATABASE_URL (postgres://) becomes a URL SQLAlchemy 2 accepts."""
    monkeypatch.setenv("DATABASE_URL", given)
    assert load_settings(repo_root / "config.example.toml").sqlalchemy_url == expected


def test_secrets_resolved_from_environment(
    repo_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Accounts with their variables set get secrets; the others are named, values never shown."""
    settings = load_settings(repo_root / "config.example.toml")
    for var in (
        "FBT_X_CONSUMER_KEY",
        "FBT_X_CONSUMER_SECRET",
        "FBT_X_ACCESS_TOKEN",
        "FBT_X_ACCESS_TOKEN_SECRET",
        "FBT_MASTODON_ACCESS_TOKEN",
        "FBT_BLUESKY_APP_PASSWORD",
        "FBT_MASTODON_ES_ACCESS_TOKEN",
    ):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("FBT_MASTODON_ACCESS_TOKEN", "tok-very-secret")
    found, missing = resolve_secrets(settings)
    assert set(found) == {"fbt-mastodon"}
    assert found["fbt-mastodon"].get("access_token") == "tok-very-secret"
    assert "tok-very-secret" not in repr(found["fbt-mastodon"])
    assert any("FBT_BLUESKY_APP_PASSWORD" in m for m in missing)
    assert len(missing) == 3


def test_missing_file_says_what_to_do(tmp_path: Path) -> None:
    """A config path that does not exist gives a message with the next step."""
    with pytest.raises(ConfigError) as caught:
        load_settings(tmp_path / "nope.toml")
    assert "config.example.toml" in str(caught.value)
