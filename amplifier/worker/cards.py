"""Link cards read ahead of the slots: the worker's own job, never a slot's.

``refresh_link_cards`` reads the links of the posts a live Bluesky account may send
(``cards.card_links``) that have no fresh stored card, and stores each card or its failure;
the scheduler runs it on a thread of its own every ``[worker] link_card_minutes``, and
``run --once`` before its pass. A slot only ever reads what is stored.

``stage_slot_card`` runs ``STAGE_LEAD`` before each live Bluesky slot, on the same thread: it
asks the forecast which post the slot will send and, if that post carries a stored card,
has the adapter upload its thumbnail then (``networks.bluesky_blobs``), so the slot itself
only creates the post. A staging that fails or guesses wrong costs nothing: the slot uploads.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import TYPE_CHECKING

from amplifier.config import Account
from amplifier.forecast import predict
from amplifier.logs import log_event, log_exception
from amplifier.networks.base import StagesCards
from amplifier.schedule import Slot
from amplifier.worker.passes import Worker

if TYPE_CHECKING:
    from amplifier.cards import CardOutcome, FetchPolicy

# Ahead of the slot by this much: time for the upload, and well inside the minutes a PDS keeps
# an upload no record references yet (``bluesky_blobs.STAGED_FOR``).
STAGE_LEAD = timedelta(minutes=1)


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


def stage_slot_card(worker: Worker, account: Account, slot: Slot) -> bool:
    """Upload the thumbnail of the card ``slot``'s post will carry, if it will carry one and
    the adapter stages cards (Bluesky); whether anything was uploaded."""
    if not worker.settings.worker.link_cards or worker.rehearsing(account.name):
        return False
    network = worker.network_for(account.name)
    if not isinstance(network, StagesCards):
        return False
    rehearsals = {a.name: worker.rehearsal_note(a.name) for a in worker.accounts
                  if worker.rehearsing(a.name)}  # fmt: skip
    forecast = predict(worker.settings, worker.library, worker.store, worker.clock(),
                       rehearsals=rehearsals, accounts=[account.name], count=1)  # fmt: skip
    decision = next((f.decision for a in forecast.accounts for f in a.slots
                     if f.slot.key == slot.key), None)  # fmt: skip
    if decision is None or decision.action != "send" or decision.planned is None:
        return False
    draft = decision.draft()
    if not draft.link or draft.media:  # a post with images embeds them, not the card
        return False
    from amplifier.cards import card_for  # loaded with the first card, as in delivery

    card, _ = card_for(worker.store, draft.link)
    if card is None:
        return False
    uploaded = network.stage_card(card)
    log_event(worker.logger, "card-staged", account=account.name, slot=slot.key, url=card.url,
              uploaded=uploaded)  # fmt: skip
    return uploaded


def stage_slot_card_safely(worker: Worker, account: Account, slot: Slot) -> None:
    """The scheduler's job: a failure is logged (the slot then uploads), never raised."""
    try:
        stage_slot_card(worker, account, slot)
    except Exception:
        log_exception(worker.logger, "card-staging-failed", logging.WARNING, account=account.name)
