"""Bluesky sessions as the worker keeps them: sealed in the store, reused, bound to one server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from amplifier.accounts import network_factory
from amplifier.config import Settings, load_settings
from amplifier.networks.base import OutgoingPost
from amplifier.store import Store
from amplifier.testing.fake_bluesky import FakeBluesky

CONFIG = """
[campaigns.fbt]
[schedules.daily]
timezone = "UTC"
times = ["09:00"]

[[accounts]]
name = "sky"
network = "bluesky"
handle = "amplifier.test"
service = "{service}"
campaigns = ["fbt"]
schedule = "daily"
[accounts.secrets_from_env]
app_password = "T_SKY_PASSWORD"
"""


@pytest.fixture
def pds_pair() -> Iterator[tuple[FakeBluesky, FakeBluesky]]:
    first, second = FakeBluesky().start(), FakeBluesky().start()
    try:
        yield first, second
    finally:
        first.stop()
        second.stop()


def _settings(tmp_path: Path, service: str) -> Settings:
    path = tmp_path / f"config-{abs(hash(service))}.toml"
    path.write_text(CONFIG.format(service=service), encoding="utf-8")
    return load_settings(path)


def _post(text: str) -> OutgoingPost:
    return OutgoingPost(account="sky", text=text, idempotency_key=text)


def test_session_reused_across_restarts_and_sealed(
    tmp_path: Path, pds_pair: tuple[FakeBluesky, FakeBluesky], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two worker starts on one database log in once; the stored session is not readable."""
    first, _ = pds_pair
    monkeypatch.setenv("T_SKY_PASSWORD", "fake-app-password")
    store = Store(f"sqlite:///{tmp_path / 'state.db'}")
    store.migrate()
    settings = _settings(tmp_path, first.base_url)
    for run in range(2):  # each run a fresh factory, as after a restart
        network = network_factory(settings, store)(settings.account("sky"))
        network.publish(_post(f"post {run}"))
    assert first.create_session_calls == 1
    stored = store.load_session("sky")
    assert stored is not None and "accessJwt" not in stored and "fake-app-password" not in stored


def test_session_for_another_server_is_not_reused(
    tmp_path: Path, pds_pair: tuple[FakeBluesky, FakeBluesky], monkeypatch: pytest.MonkeyPatch
) -> None:
    """After the service URL changes, the old server's session is not replayed: one new login."""
    first, second = pds_pair
    monkeypatch.setenv("T_SKY_PASSWORD", "fake-app-password")
    store = Store(f"sqlite:///{tmp_path / 'state.db'}")
    store.migrate()
    for fake in (first, second):
        settings = _settings(tmp_path, fake.base_url)
        network_factory(settings, store)(settings.account("sky")).publish(_post(fake.base_url))
    assert (first.create_session_calls, second.create_session_calls) == (1, 1)
    assert [post.text for post in second.records] == [second.base_url]
    assert [post.text for post in first.records] == [first.base_url]
