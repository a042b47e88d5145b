"""Accounts: each configured account joined to its network adapter (who publishes where).

``build_network`` makes the adapter for one account (real when its secrets are in the
environment, else the dry-run network; each SDK imported only when an account of its network
is built); ``network_factory`` does it for a worker, with Bluesky sessions sealed in the
store; ``verify_accounts`` checks each account's credentials without posting
(``amplifier accounts verify``), imported when first asked for: the worker never verifies.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from amplifier.accounts.registry import NetworkFactory, build_network, network_factory

if TYPE_CHECKING:
    from amplifier.accounts.verify import Verification, describe, verify_accounts

_VERIFY = {"Verification", "describe", "verify_accounts"}


def __getattr__(name: str) -> Any:
    if name in _VERIFY:
        return getattr(import_module("amplifier.accounts.verify"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "NetworkFactory",
    "Verification",
    "build_network",
    "describe",
    "network_factory",
    "verify_accounts",
]
