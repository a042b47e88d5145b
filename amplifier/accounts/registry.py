"""Build the network adapter for a configured account.

``network_factory`` is what a worker uses: account -> adapter, with Bluesky sessions sealed in
the store. Each SDK is imported only when an account of its network is built, so a Mastodon-only
deployment never loads tweepy or atproto. An account whose secrets are not all in the
environment, or any account when dry-run is on, gets the dry-run network.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from amplifier.config import Account, AccountSecrets, Settings, resolve_secrets
from amplifier.networks.base import HttpSettings, MemorySessionStore, Network, SessionStore
from amplifier.networks.dryrun import DryRunNetwork
from amplifier.networks.mastodon_limits import InstanceLimitsCache
from amplifier.store import SealedSessions, Store

NetworkFactory = Callable[[Account], Network]


def build_network(
    account: Account,
    secrets: AccountSecrets | None,
    *,
    sessions: SessionStore,
    limits_cache: InstanceLimitsCache | None = None,
    http: HttpSettings | None = None,
    dry_run: bool = False,
    write: Callable[[str], None] | None = None,
    stop: threading.Event | None = None,
) -> Network:
    """The adapter that publishes for ``account``: real when it has secrets, else dry-run.

    ``sessions`` keeps a Bluesky account's session, ``limits_cache`` a Mastodon instance's
    limits (in memory when None), both between runs. ``stop``: the worker's stop event, which
    ends an adapter's wait for media processing the moment it is set."""
    http = http or HttpSettings()
    sleep: Callable[[float], object] = stop.wait if stop is not None else time.sleep
    if dry_run or secrets is None:
        handle = account.handle or account.name
        return DryRunNetwork(account.name, account.network, handle=handle, write=write)
    if account.network == "x":
        from amplifier.networks.x import XNetwork

        return XNetwork(
            account.name,
            consumer_key=secrets.get("consumer_key"),
            consumer_secret=secrets.get("consumer_secret"),
            access_token=secrets.get("access_token"),
            access_token_secret=secrets.get("access_token_secret"),
            oauth2_user_token=secrets.get("oauth2_user_token") or None,
            http=http,
            api_base=account.api_base or "https://api.twitter.com",
            sleep=sleep,
            stop=stop,
        )
    if account.network == "mastodon":
        from amplifier.networks.mastodon import MastodonNetwork

        assert account.instance  # config validation requires it
        return MastodonNetwork(
            account.name,
            instance_url=account.instance,
            access_token=secrets.get("access_token"),
            visibility=account.visibility,
            http=http,
            limits_cache=limits_cache,
            sleep=sleep,
            stop=stop,
        )
    from amplifier.networks.bluesky import BlueskyNetwork

    assert account.handle  # config validation requires it
    return BlueskyNetwork(
        account.name,
        handle=account.handle,
        app_password=secrets.get("app_password"),
        sessions=sessions,
        service_url=account.service,
        http=http,
    )


def network_factory(
    settings: Settings,
    store: Store,
    *,
    dry_run: bool = False,
    write: Callable[[str], None] | None = None,
    stop: threading.Event | None = None,
) -> NetworkFactory:
    """account -> its adapter; accounts without credentials (or all, with dry_run) log their
    posts instead (``write``, when given, receives those lines instead of the log). ``stop``:
    the worker's stop event (``build_network``)."""
    secrets, _ = resolve_secrets(settings)

    def build(account: Account) -> Network:
        account_secrets = None if dry_run else secrets.get(account.name)
        sessions: SessionStore = MemorySessionStore()
        if account_secrets is not None and account.network == "bluesky":
            # A session belongs to one server: sealing with the service URL too makes a stored
            # session for another server fail to open, which costs one fresh login.
            secret = f"{account.service}\0{account_secrets.get('app_password')}"
            sessions = SealedSessions(store, account=account.name, secret=secret)
        return build_network(
            account,
            account_secrets,
            sessions=sessions,
            limits_cache=store,  # a Mastodon server's limits, read at most once a day
            dry_run=dry_run,
            write=write,
            stop=stop,
        )

    return build
