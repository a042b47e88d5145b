"""Fixtures shared by the Bluesky adapter's tests: the fake PDS with one account, and the real
adapter (atproto) logged in to it with an app password."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from amplifier.networks.base import MemorySessionStore
from amplifier.networks.bluesky import BlueskyNetwork
from amplifier.testing.fake_bluesky import FakeBluesky

HANDLE, PASSWORD = "families.test", "app-pw-tests"


@pytest.fixture
def pds() -> Iterator[FakeBluesky]:
    with FakeBluesky(handle=HANDLE, password=PASSWORD) as server:
        yield server


@pytest.fixture
def sky(pds: FakeBluesky) -> Iterator[BlueskyNetwork]:
    network = BlueskyNetwork(
        "sky", handle=HANDLE, app_password=PASSWORD, sessions=MemorySessionStore(),
        service_url=pds.base_url,
    )  # fmt: skip
    yield network
    network.close()
