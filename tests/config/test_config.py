"""Config loading: every bad value gives one message with file, line, key and what is allowed."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from amplifier.config import load_settings, resolve_secrets
from amplifier.errors import ConfigError

DATA = Path(__file__).parent.parent / "data"
BAD = sorted((DATA / "bad_settings").glob("*.toml"))


def _case(path: Path) -> tuple[dict[str, str], list[str]]:
    """A corpus case's variables (``# env: NAME=VALUE`` at the top) and expected messages
    (``# expect: …`` at the end, ``{file}`` standing for the case's path), in order."""
    lines = path.read_bytes().decode("utf-8", errors="replace").splitlines()
    env = dict(
        line.removeprefix("# env: ").split("=", 1) for line in lines if line.startswith("# env: ")
    )
    expected = [
        line.removeprefix("# expect: ").replace("{file}", str(path))
        for line in lines
        if line.startswith("# expect: ")
    ]
    return env, expected


@pytest.mark.parametrize("path", BAD, ids=[p.stem for p in BAD])
def test_bad_settings_corpus_gives_the_exact_messages(
    path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each broken config or variable in the corpus fails with exactly its expected messages:
    file and line (or the variable), the key, what is wrong and what to write instead."""
    env, expected = _case(path)
    assert expected, f"{path.name} declares no '# expect:' line"
    for name in list(os.environ):
        if name.upper().startswith(("AMPLIFIER_", "DATABASE_URL")):
            monkeypatch.delenv(name)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as caught:
        load_settings(path)
    assert [str(problem) for problem in caught.value.problems] == expected


def test_bad_settings_corpus_covers_each_kind() -> None:
    """The corpus keeps its size and the cases issue 13 names (typos named by the closest name)."""
    names = {path.stem for path in BAD}
    assert len(names) >= 50
    wanted = {"schedule-name-typo", "campaign-name-typo", "secret-key-typo"}
    wanted |= {"account-name-twice", "network-unknown", "env-account-schedule-typo"}
    assert wanted <= names
    for name in wanted - {"account-name-twice"}:
        assert "did you mean" in _case(DATA / "bad_settings" / f"{name}.toml")[1][0], name


def test_token_value_never_echoed() -> None:
    """A secret written in the file is refused without repeating its value."""
    for name in ("token-in-toml.toml", "pasted-secret.toml"):
        with pytest.raises(ConfigError) as caught:
            load_settings(DATA / "bad_settings" / name)
        text = str(caught.value)
        assert "SECRETVALUE" not in text and "pasted-token" not in text
        assert "environment variable" in text


def test_byte_order_mark_is_accepted(repo_root: Path, tmp_path: Path) -> None:
    """A config saved with a UTF-8 byte-order mark (as some Windows editors do) loads as is."""
    path = tmp_path / "config.toml"
    path.write_bytes(b"\xef\xbb\xbf" + (repo_root / "config.example.toml").read_bytes())
    settings = load_settings(path)
    assert settings.seed == "families-belong-together"


def _paths_that_are_not_readable_files(tmp_path: Path) -> dict[str, tuple[Path, str]]:
    folder = tmp_path / "folder.toml"
    folder.mkdir()
    (tmp_path / "dangling.toml").symlink_to(tmp_path / "gone.toml")
    (tmp_path / "loop.toml").symlink_to(tmp_path / "loop.toml")
    (tmp_path / "plain").write_text("x = 1\n", encoding="utf-8")
    (tmp_path / "image.toml").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    (tmp_path / "latin1.toml").write_bytes('seed = "réunies"\n'.encode("latin-1"))
    next_step = "pass --config FILE or copy config.example.toml to config.toml"
    return {
        "missing": (
            tmp_path / "nope.toml",
            f"cannot read the config file (No such file or directory); {next_step}",
        ),
        "directory": (folder, f"a folder, not a config file; {next_step}"),
        "dangling symlink": (
            tmp_path / "dangling.toml",
            f"cannot read the config file (No such file or directory); {next_step}",
        ),
        "symlink loop": (
            tmp_path / "loop.toml",
            f"cannot read the config file (Too many levels of symbolic links); {next_step}",
        ),
        "below a file": (
            tmp_path / "plain" / "config.toml",
            f"cannot read the config file (Not a directory); {next_step}",
        ),
        "binary": (
            tmp_path / "image.toml",
            f"a binary file, not TOML text (a NUL byte at byte 8); {next_step}",
        ),
        "name too long": (
            tmp_path / ("x" * 5000),
            f"cannot read the config file (File name too long); {next_step}",
        ),
        "not UTF-8": (tmp_path / "latin1.toml", "not UTF-8 text (byte 9); save it as UTF-8"),
    }


def test_paths_that_are_not_readable_files(tmp_path: Path) -> None:
    """A config path that is missing, a folder, a broken or looping link, below a file, binary,
    not UTF-8 or unreadable is one message naming the path and the next step."""
    cases = _paths_that_are_not_readable_files(tmp_path)
    if os.geteuid() != 0:  # root reads a file whatever its mode
        unreadable = tmp_path / "unreadable.toml"
        unreadable.write_text("x = 1\n", encoding="utf-8")
        unreadable.chmod(0)
        next_step = "pass --config FILE or copy config.example.toml to config.toml"
        cases["unreadable"] = (
            unreadable,
            f"cannot read the config file (Permission denied); {next_step}",
        )
    for kind, (path, message) in cases.items():
        with pytest.raises(ConfigError) as caught:
            load_settings(path)
        assert [str(p) for p in caught.value.problems] == [f"{path}: {message}"], kind


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
