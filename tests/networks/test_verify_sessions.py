"""``accounts verify`` reuses a Bluesky account's stored session instead of spending a login
(createSession: 30 per 5 minutes, 300 per day), and fills the Mastodon limits cache.

Driven through ``amplifier.accounts.verify_accounts`` and the real adapters against the fake
PDS and the fake Mastodon server.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from amplifier.accounts import describe, verify_accounts
from amplifier.config import Account, AccountSecrets, Settings, load_settings
from amplifier.errors import AuthFailed
from amplifier.networks.base import FreshLoginSessions, MemorySessionStore, SessionStore
from amplifier.networks.bluesky import BlueskyNetwork
from amplifier.networks.mastodon_limits import MemoryInstanceLimitsCache, instance_key
from amplifier.testing.fake_bluesky import FakeBluesky
from amplifier.testing.fake_mastodon import FakeMastodon, FakeMastodonSettings

HANDLE = "verify.test"
PASSWORD = "verify-app-password-5k2"
MASTODON_TOKEN = "verify-mastodon-token"
CONFIG = """
[campaigns.fbt]
[schedules.daily]
timezone = "UTC"
times = ["09:00"]

[[accounts]]
name = "bsky"
network = "bluesky"
handle = "{handle}"
service = "{pds}"
campaigns = ["fbt"]
schedule = "daily"
[accounts.secrets_from_env]
app_password = "T_VERIFY_BSKY_PASSWORD"

[[accounts]]
name = "masto"
network = "mastodon"
instance = "{mastodon}"
campaigns = ["fbt"]
schedule = "daily"
[accounts.secrets_from_env]
access_token = "T_VERIFY_MASTODON_TOKEN"
"""


@pytest.fixture(scope="module")
def pds() -> Iterator[FakeBluesky]:
    with FakeBluesky(handle=HANDLE, password=PASSWORD, display_name="Verify Test") as server:
        yield server


@pytest.fixture(scope="module")
def mastodon() -> Iterator[FakeMastodon]:
    settings = FakeMastodonSettings(token=MASTODON_TOKEN, max_characters=150)
    with FakeMastodon(settings) as server:
        yield server


@pytest.fixture
def settings(
    pds: FakeBluesky, mastodon: FakeMastodon, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Settings:
    pds.reset()
    mastodon.reset()
    monkeypatch.setenv("T_VERIFY_BSKY_PASSWORD", PASSWORD)
    monkeypatch.setenv("T_VERIFY_MASTODON_TOKEN", MASTODON_TOKEN)
    path = tmp_path / "config.toml"
    text = CONFIG.format(handle=HANDLE, pds=pds.base_url, mastodon=mastodon.base_url)
    path.write_text(text, encoding="utf-8")
    return load_settings(path)


class Sessions:
    """One session store per account, kept across runs, as the database keeps them."""

    def __init__(self) -> None:
        self.stores: dict[str, MemorySessionStore] = {}

    def __call__(self, account: Account, secrets: AccountSecrets) -> SessionStore:
        return self.stores.setdefault(account.name, MemorySessionStore())


def test_second_verify_spends_no_login(settings: Settings, pds: FakeBluesky) -> None:
    """The first verify logs in and stores the session; the second uses it: one createSession
    in all, and the second run says the stored session is valid."""
    sessions = Sessions()
    [first] = verify_accounts(settings, only="bsky", sessions_for=sessions)
    [second] = verify_accounts(settings, only="bsky", sessions_for=sessions)
    assert pds.create_session_calls == 1
    assert pds.get_session_calls == 2
    assert first.info is not None and second.info is not None
    assert (first.info.session, second.info.session) == ("new", "stored")
    assert second.info.display_name == "Verify Test"
    assert "  session: the stored session is valid (no login spent)" in describe(second)
    assert "bsky" in sessions.stores and sessions.stores["bsky"].sessions


def test_fresh_login_is_spent_only_when_asked(settings: Settings, pds: FakeBluesky) -> None:
    """fresh_login logs in once although a valid session is stored, and stores the new one."""
    sessions = Sessions()
    verify_accounts(settings, only="bsky", sessions_for=sessions)
    stored = sessions.stores["bsky"].sessions["bsky"]
    [result] = verify_accounts(settings, only="bsky", sessions_for=sessions, fresh_login=True)
    assert pds.create_session_calls == 2
    assert result.info is not None and result.info.session == "new"
    assert sessions.stores["bsky"].sessions["bsky"] != stored


def test_refused_stored_session_costs_one_login(settings: Settings, pds: FakeBluesky) -> None:
    """A stored session the PDS no longer accepts: one login, and verify still succeeds."""
    sessions = Sessions()
    verify_accounts(settings, only="bsky", sessions_for=sessions)
    pds.revoke_sessions()
    [result] = verify_accounts(settings, only="bsky", sessions_for=sessions)
    assert pds.create_session_calls == 2
    assert result.ok and result.info is not None and result.info.session == "new"


def test_inactive_account_is_reported(pds: FakeBluesky) -> None:
    """getSession saying the account is not active (taken down) makes verify AuthFailed."""
    pds.reset()
    account = pds.accounts[HANDLE]
    account.active, account.status = False, "takendown"
    try:
        net = BlueskyNetwork("bsky", handle=HANDLE, app_password=PASSWORD,
                             sessions=MemorySessionStore(), service_url=pds.base_url)  # fmt: skip
        with pytest.raises(AuthFailed, match="not active \\(takendown\\)"):
            net.verify()
        net.close()
    finally:
        account.active, account.status = True, None


def test_fresh_login_sessions_hide_but_keep() -> None:
    """FreshLoginSessions shows no stored session and saves the new one into the real store."""
    inner = MemorySessionStore({"a": "old"})
    fresh = FreshLoginSessions(inner)
    assert fresh.load_session("a") is None
    fresh.save_session("a", "new")
    assert inner.sessions == {"a": "new"}


def test_verify_fills_the_limits_cache(settings: Settings, mastodon: FakeMastodon) -> None:
    """Mastodon: verify reads the instance's 150-character limit, caches and reports it."""
    mastodon.reset(max_characters=150)
    cache = MemoryInstanceLimitsCache()
    [result] = verify_accounts(settings, only="masto", limits_cache=cache)
    limits = cache.limits[instance_key(mastodon.base_url)]
    assert limits.max_characters == 150
    assert any(line.startswith("  instance limits: 150 characters") for line in describe(result))
