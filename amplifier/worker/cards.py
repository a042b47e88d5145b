"""Link cards read ahead of the slots: the worker's own job, never a slot's.

``refresh_link_cards`` reads the links of the posts a live Bluesky account may send
(``cards.card_links``) that have no fresh stored card, and stores each card or its failure;
the scheduler runs it on a thread of its own every ``[worker] link_card_minutes``, and
``run --once`` before its pass. A slot only ever reads what is stored.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from amplifier.logs import log_exception
from amplifier.worker.passes import Worker

if TYPE_CHECKING:
    from amplifier.cards import CardOutcome, FetchPolicy


def refresh_link_cards(worker: Worker, policy: FetchPolicy | None = None) -> list[CardOutcome]:
    """Read every due link of the live Bluesky accounts' posts; what became of each."""
    if not worker.settings.worker.link_cards:
        return []
    live = [a for a in worker.accounts if a.network == "bluesky" and not worker.rehearsing(a.name)]
    if not live:
        return []
    # The card reader loads with the first live Bluesky account's job, not with the worker.
    from amplifier.cards import card_links, refresh_cards

    links = card_links(worker.library, worker.settings)
    return refresh_cards(worker.store, links, clock=worker.clock, policy=policy,
                         log=worker.logger)  # fmt: skip


def refresh_link_cards_safely(worker: Worker) -> None:
    """The scheduler's job: a failure is logged, never raised into the scheduler."""
    try:
        refresh_link_cards(worker)
    except Exception:
        log_exception(worker.logger, "cards-failed", logging.WARNING)
