"""`amplifier accounts verify` through the real adapters against local fake servers."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from amplifier.cli import main
from amplifier.testing.fake_mastodon import FakeMastodon, FakeMastodonSettings
from amplifier.testing.fake_x import FakeX

CONFIG = """
[campaigns.fbt]
[schedules.daily]
timezone = "UTC"
times = ["09:00"]

[[accounts]]
name = "x-one"
network = "x"
api_base = "{x_url}"
campaigns = ["fbt"]
schedule = "daily"
[accounts.secrets_from_env]
consumer_key = "T_X_CK"
consumer_secret = "T_X_CS"
access_token = "T_X_AT"
access_token_secret = "T_X_ATS"

[[accounts]]
name = "masto"
network = "mastodon"
instance = "{mastodon_url}"
campaigns = ["fbt"]
schedule = "daily"
[accounts.secrets_from_env]
access_token = "T_MASTODON_TOKEN"

[[accounts]]
name = "no-creds"
network = "mastodon"
instance = "{mastodon_url}"
campaigns = ["fbt"]
schedule = "daily"
[accounts.secrets_from_env]
access_token = "T_UNSET_TOKEN"
"""


@pytest.fixture
def servers() -> Iterator[tuple[FakeX, FakeMastodon]]:
    fake_x = FakeX().start()
    fake_mastodon = FakeMastodon(FakeMastodonSettings(token="masto-secret", bot=False)).start()
    try:
        yield fake_x, fake_mastodon
    finally:
        fake_x.stop()
        fake_mastodon.stop()


def _config(tmp_path: Path, fake_x: FakeX, fake_mastodon: FakeMastodon) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(
        CONFIG.format(x_url=fake_x.base_url, mastodon_url=fake_mastodon.base_url),
        encoding="utf-8",
    )
    return path


def test_verify_reports_each_account(
    tmp_path: Path, servers: tuple[FakeX, FakeMastodon], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each account with credentials is checked read-only; missing ones are named; exit 1."""
    fake_x, fake_mastodon = servers
    for name, value in {
        "T_X_CK": "ck",
        "T_X_CS": "cs-secret",
        "T_X_AT": "at",
        "T_X_ATS": "ats-secret",
        "T_MASTODON_TOKEN": "masto-secret",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("T_UNSET_TOKEN", raising=False)
    out = io.StringIO()
    code = main(["accounts", "verify", "--config", str(_config(tmp_path, *servers))], out=out)
    text = out.getvalue()
    assert code == 1  # one account lacks credentials
    assert "x-one (x): ok, posts as" in text
    assert "Automated" in text  # X's label reminder
    assert "masto (mastodon): ok" in text
    assert "not flagged as a bot" in text
    assert "no-creds (mastodon): not checked" in text and "T_UNSET_TOKEN" in text
    assert fake_x.posts == [] and fake_mastodon.statuses == []  # nothing was posted
    for secret in ("cs-secret", "ats-secret", "masto-secret"):
        assert secret not in text
    # Each account confirmed is recorded (when, by what), and status shows it.
    out = io.StringIO()
    assert main(["status", "--config", str(_config(tmp_path, *servers))], out=out) == 0
    status = out.getvalue()
    blocks = dict(re.findall(r"^(\S+) \(\w+\)\n((?:  .*\n)+)", status, re.M))
    confirmed = r"credentials:  last confirmed \S+ \S+ \S+ \(amplifier accounts verify\)"
    assert re.search(confirmed, blocks["x-one"]) and re.search(confirmed, blocks["masto"])
    assert "last confirmed never recorded (run amplifier accounts verify)" in blocks["no-creds"]
    for secret in ("cs-secret", "ats-secret", "masto-secret"):
        assert secret not in status


def test_verify_wrong_token_is_reported(
    tmp_path: Path, servers: tuple[FakeX, FakeMastodon], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A refused token shows as AuthFailed for that account, without the token."""
    monkeypatch.setenv("T_MASTODON_TOKEN", "wrong-token-value")
    out = io.StringIO()
    path = _config(tmp_path, *servers)
    code = main(["accounts", "verify", "--config", str(path), "--account", "masto"], out=out)
    assert code == 1
    assert "masto (mastodon): AuthFailed" in out.getvalue()
    assert "wrong-token-value" not in out.getvalue()
