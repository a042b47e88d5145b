"""Post now from the console: the worker's own ``post_now``, as ``amplifier post-now`` runs it
(same guards, claim, history), with the deployment's networks (dry-run ones when set so)."""

from __future__ import annotations

from amplifier.store import Delivery
from amplifier.web.console import Console


def publish_now(console: Console, account: str, post: str | None) -> Delivery:
    # Imported here: the worker and the SDKs load only when someone posts now.
    from amplifier.accounts import network_factory
    from amplifier.worker import Worker

    settings = console.settings
    factory = console.network_factory or network_factory(
        settings, console.store, dry_run=settings.dry_run
    )
    worker = Worker(
        settings,
        console.library,
        console.store,
        factory,
        clock=console.clock,
        rehearsals=console.rehearsals,
    )
    try:
        return worker.post_now(account, post)
    finally:
        worker.close()
