"""Link cards stay off a slot's critical path: a Bluesky link post's delivery with cards on
against cards off (issue 19: <= 1.1).

One Bluesky account on a local FakeBluesky, a SQLite store per side, the real BlueskyNetwork
(atproto), batches interleaved:
  cards on   store.claim_slot + DeliveryContext.deliver of a post whose link has a card
             stored ahead of the slot (as the worker's card job leaves it) and whose thumbnail
             the adapter uploaded a minute ahead (``stage_card``, as the worker's staging job
             does): the post embeds the card; no page is read, no blob uploaded at the slot.
             Every post has its own link and thumbnail, so none reuses another's upload.
  cards off  the same path for a post whose link has no stored card (``link_cards = false``):
             a plain link
For context only, not the verdict: the same delivery with the thumbnail uploaded at the slot
(not staged), the same link again (its thumbnail held by an earlier post, so used as it is),
and the card read at the slot (``fetch_card`` then deliver) from a page answering
``PAGE_LATENCY`` late, as a real page often does. The script stops with an error if any page is
requested, or any blob uploaded, while the two measured sides deliver.

    .venv/bin/python bench/bench_cards.py [--quick] [--repeats N]
"""

from __future__ import annotations

import itertools
import sys
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime

from _common import (
    BLUESKY_HANDLE,
    CAMPAIGN,
    SECRETS,
    FakeNetworks,
    header,
    interleaved,
    median,
    parse_args,
    ratio_line,
    scrub_own_environment,
    seconds,
    table,
    temp_dir,
)

GOAL = 1.1
PAGE_LATENCY = 0.2  # seconds the context row's page takes to answer
ON = "cards on: the stored card embedded, its thumbnail staged ahead"
OFF = "cards off: a plain link"
UNSTAGED = "for context: the thumbnail uploaded at the slot (not staged)"
AGAIN = "for context: the same link again (its thumbnail held by an earlier post)"
AT_SLOT = "for context: the card read at the slot, then delivered"
TEXT = "Families belong together: ask Congress to end family detention. Sign here {link}"


def main() -> int:
    args = parse_args(__doc__ or "", repeats=9, quick_repeats=2)
    scrub_own_environment()
    batch = 2 if args.quick else 12
    header("link cards on vs off: a Bluesky slot's delivery", args.quick, args.repeats)

    from amplifier.cards import card_for, fetch_card
    from amplifier.delivery import DeliveryContext, DeliveryPolicy
    from amplifier.networks.bluesky import BlueskyNetwork
    from amplifier.store import DeliveryDraft, Store
    from amplifier.testing.fake_pages import LOOPBACK, FakePages, og_page
    from amplifier.testing.fakeserver import Request, Response
    from amplifier.testing.images import png

    with FakeNetworks() as fakes, FakePages() as pages, temp_dir("bench-cards") as base:
        image = pages.image("/card.png", png(1200, 630))
        carded = pages.page("/sign", og_page("Sign the petition", "Keep families together", image))
        slow_body = og_page("Sign the petition", "Keep families together", image).encode()

        def slow_page(request: Request) -> Response:
            time.sleep(PAGE_LATENCY)
            return Response(200, slow_body, {"Content-Type": "text/html; charset=utf-8"})

        pages.route("GET", "/slow", slow_page)
        slow = f"{pages.base_url}/slow"
        plain = f"{pages.base_url}/plain"  # never stored: the cards-off side's link
        numbers = itertools.count()

        def side(name: str) -> tuple[Store, BlueskyNetwork, DeliveryContext]:
            store = Store(f"sqlite:///{base / f'{name}.db'}")
            store.migrate()
            network = BlueskyNetwork(
                f"bench-{name}",
                handle=BLUESKY_HANDLE,
                app_password=SECRETS["BENCH_BLUESKY_APP_PASSWORD"],
                sessions=store,
                service_url=fakes.bluesky.base_url,
            )
            context = DeliveryContext(
                store=store,
                worker_id=f"bench-{name}",
                policy=DeliveryPolicy(),
                clock=lambda: datetime.now(UTC),
                sleep=time.sleep,
            )
            return store, network, context

        on_store, on_network, on_context = side("on")
        off_store, off_network, off_context = side("off")
        up_store, up_network, up_context = side("unstaged")
        slot_store, slot_network, slot_context = side("at-slot")
        stored = fetch_card(carded, LOOPBACK)  # what the card job stores ahead of the slot
        assert stored.card is not None, stored.failure
        model = stored.card
        on_store.save_link_card(carded, model, None, datetime.now(UTC))

        def new_card(store: Store) -> str:
            """A link of its own with a stored card whose thumbnail no post has carried."""
            number = next(numbers)
            link = f"{carded}?v={number}"  # never requested: the card is stored, not read
            card = replace(model, url=link, thumb=model.thumb + number.to_bytes(4, "big"))
            store.save_link_card(link, card, None, datetime.now(UTC))
            return link

        def deliver(store: Store, network: BlueskyNetwork, context: DeliveryContext,
                    link: str) -> None:  # fmt: skip
            number = next(numbers)
            draft = DeliveryDraft(
                account=network.account,
                network="bluesky",
                slot_key=f"bench-{number}",
                due_at=datetime.now(UTC),
                template_id=f"post-{number}",
                campaign=CAMPAIGN,
                text=TEXT.format(link=link),
                language="en",
                link=link,
            )
            row = store.claim_slot(draft, worker_id=context.worker_id)
            assert row is not None
            done = context.deliver(network, row)
            assert done.status == "published", done

        def at_slot() -> None:
            outcome = fetch_card(slow, LOOPBACK)
            assert outcome.card is not None, outcome.failure
            slot_store.save_link_card(slow, outcome.card, None, datetime.now(UTC))
            deliver(slot_store, slot_network, slot_context, slow)

        def per_post(action: Callable[[], None]) -> Callable[[], float]:
            def measure() -> float:
                started = time.perf_counter()
                for _ in range(batch):
                    action()
                return (time.perf_counter() - started) / batch

            return measure

        # The card job stores cards long before their slots: every cards-on link's card is
        # in the store before the measuring starts; only the thumbnails are staged per batch.
        waiting = iter([new_card(on_store) for _ in range((args.repeats + 1) * batch)])

        def staged() -> float:
            """The worker's order: each card's thumbnail staged ahead, then the slots."""
            links = list(itertools.islice(waiting, batch))
            for link in links:
                card, _ = card_for(on_store, link)
                assert card is not None and on_network.stage_card(card)
            started = time.perf_counter()
            for link in links:
                deliver(on_store, on_network, on_context, link)
            return (time.perf_counter() - started) / batch

        def off() -> None:
            deliver(off_store, off_network, off_context, plain)

        def unstaged() -> None:
            deliver(up_store, up_network, up_context, new_card(up_store))

        def again() -> None:
            deliver(on_store, on_network, on_context, carded)

        for action in (again, off, unstaged, at_slot):  # warm-up: sessions, connections
            action()
        staged()

        def uploads() -> int:
            return sum(1 for r in fakes.bluesky.server.received if r.path.endswith("uploadBlob"))

        asked, uploaded = len(pages.received), uploads()
        measured = interleaved([(ON, staged), (OFF, per_post(off))], args.repeats)
        read_at_slots = len(pages.received) - asked
        staged_uploads = uploads() - uploaded - args.repeats * batch  # beyond the stagings
        context = [(UNSTAGED, per_post(unstaged)), (AGAIN, per_post(again))]
        measured |= interleaved(context, max(1, args.repeats // 2))
        measured |= interleaved([(AT_SLOT, per_post(at_slot))], max(1, args.repeats // 3))
        for store in (on_store, off_store, up_store, slot_store):
            store.close()

    embeds = [r for r in fakes.bluesky.records if "embed" in r.value]
    rows = [(name, seconds(median(values))) for name, values in measured.items()]
    table(["per delivery (median of the batches)", "time"], rows)
    print()
    print(f"pages requested while cards on and off were delivering: {read_at_slots}")
    print(f"blobs uploaded at the cards-on slots (beyond the stagings): {staged_uploads}")
    print(f"posts with an embedded card on the fake PDS: {len(embeds)}")
    value = median(measured[ON]) / median(measured[OFF])
    off_time = median(measured[OFF])
    for name, label in (
        (UNSTAGED, "thumbnail uploaded at the slot"),
        (AGAIN, "the same link again"),
        (AT_SLOT, f"read at the slot, the page {PAGE_LATENCY * 1000:.0f} ms late"),
    ):
        print(f"{label}: {median(measured[name]) / off_time:.2f} x cards off (context, not a goal)")
    # A page read or an upload while a slot delivers would be the very thing this measures.
    assert read_at_slots == 0, f"{read_at_slots} pages were requested at the slots"
    assert staged_uploads == 0, f"{staged_uploads} blobs were uploaded at the slots"
    print(ratio_line(value, GOAL, "cards on / cards off, a slot's delivery"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
