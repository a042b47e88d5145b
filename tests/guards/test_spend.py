"""X's cost model and monthly budgets, and the cost ledger (migration 0004) on both backends."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import inspect

# The store suite's fixtures (one database per test, SQLite and PostgreSQL), borrowed whole.
from store import conftest as store_suite
from store.conftest import FakeClock, claim_on_old_schema

from amplifier.check import load
from amplifier.config import GuardSettings, XPrices
from amplifier.guards import SENT
from amplifier.guards.spend import (
    Budget,
    Cost,
    budget_problem,
    budgets,
    expected_cost,
    has_url,
    month_bounds,
    month_projection,
    month_summary,
    post_cost,
    to_micros,
    usd,
)
from amplifier.store import DeliveryDraft, Store
from amplifier.store.migrations import MIGRATIONS, applied_migrations, migrate

PRICES = XPrices()

postgres_admin = store_suite.postgres_admin
database_url = store_suite.database_url
clock = store_suite.clock
make_store = store_suite.make_store


def test_cost_model_defaults() -> None:
    """$0.015 a post, $0.200 with a link (bare domains too), plus $0.005 per image; X only."""
    assert post_cost("x", "Families belong together.", 0, PRICES) == Cost(15_000, False, 0)
    assert post_cost("x", "Sign: https://example.org/p", 0, PRICES).micros == 200_000
    assert post_cost("x", "Sign at example.org today", 2, PRICES) == Cost(210_000, True, 2)
    assert post_cost("x", "No link, one image", 1, PRICES).micros == 20_000
    assert post_cost("mastodon", "https://example.org", 3, PRICES).micros == 0
    assert not has_url("Call (855) 440-1800 at 9.30 today")


def test_prices_come_from_config() -> None:
    """Overridden prices are used as given, to the micro-dollar."""
    prices = XPrices(post=0.01, post_with_url=0.25, media_metadata=0.0125)
    assert post_cost("x", "a https://example.org", 2, prices).micros == 275_000
    assert post_cost("x", "a", 0, prices).describe() == "$0.010 (post)"
    assert Cost(210_000, True, 2).describe() == "$0.210 (post with a link + 2 image(s))"


def test_usd_never_rounds() -> None:
    """Totals show cents, unit prices three places, and any finer figure in full."""
    assert usd(9_800_000) == "$9.80"
    assert usd(200_000, 3) == "$0.200"
    assert usd(9_805_000) == "$9.805"
    assert usd(0) == "$0.00"
    assert to_micros(0.015) == 15_000


def test_budget_message_carries_the_figures() -> None:
    """The refusal says what was spent, what the post costs and the budget it would break."""
    budget = Budget("account fbt-x", 10_000_000, 9_800_000)
    assert budget.exceeded_by(200_000) is None  # exactly at the budget is within it
    assert budget.exceeded_by(200_001) is not None
    cost = Cost(205_000, True, 1)
    assert budget_problem(cost, [budget]) == (
        "spend $9.80 + $0.205 would exceed the $10.00 monthly budget of account fbt-x"
    )
    assert budget_problem(Cost(0, False, 0), [Budget("x", 0, 5)]) is None


def test_month_bounds_roll_over_the_year() -> None:
    """December's month ends at the first instant of January, in UTC."""
    start, end = month_bounds(datetime(2026, 12, 31, 23, 30, tzinfo=UTC))
    assert (start, end) == (datetime(2026, 12, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC))


def test_expected_cost_is_the_weighted_mix() -> None:
    """Three $0.015 posts and one $0.200 post of weight 2: (3 x 15000 + 2 x 200000) / 5."""
    assert expected_cost([(15_000, 1)] * 3 + [(200_000, 2)]) == 89_000
    assert expected_cost([]) == 0


def test_budgets_per_account_and_deployment(repo_root: Path) -> None:
    """An X account's own budget comes first, then all X accounts'; others have none."""
    settings, _ = load(repo_root / "config.example.toml", None)
    guards = settings.guards.model_copy(update={"x_monthly_budget_usd": 20.0})
    settings = settings.model_copy(update={"guards": guards})
    spent = {"fbt-x": 1_000_000, None: 3_000_000}
    found = budgets(settings, settings.account("fbt-x"), lambda name: spent[name])
    assert found == [
        Budget("account fbt-x", 5_000_000, 1_000_000),
        Budget("all X accounts", 20_000_000, 3_000_000),
    ]
    assert budgets(settings, settings.account("fbt-mastodon"), lambda name: 0) == []


def test_projection_of_the_sample_account(repo_root: Path) -> None:
    """Spend so far plus the month's remaining slots at the sample rotation's mean cost."""
    settings, library = load(repo_root / "config.example.toml", None)
    account = settings.account("fbt-x")
    now = datetime(2026, 11, 28, 12, tzinfo=UTC)  # Saturday noon: 2.5 days of 3 slots left
    projection = month_projection(settings, library, account, now, 1_230_000)
    assert projection.remaining_slots in (7, 8)  # the 18:30 offset may cross midnight UTC
    assert 15_000 < projection.expected_micros < 200_000  # mostly $0.015, some links
    assert projection.projected_micros == (
        1_230_000 + projection.remaining_slots * projection.expected_micros
    )
    summary = month_summary(projection, 15_000, [Budget("account fbt-x", 5_000_000, 0)])
    assert summary.startswith("$1.23 spent this month (+$0.015 pending), projected $")
    assert summary.endswith("; budget $5.00 for account fbt-x")
    capped = settings.model_copy(update={"guards": GuardSettings(daily_cap=1)})
    assert month_projection(capped, library, account, now, 0).remaining_slots in (2, 3)


# -- the ledger in the store, on SQLite and PostgreSQL ----------------------------------------


def draft(account: str, slot: str, due: datetime, network: str = "x") -> DeliveryDraft:
    return DeliveryDraft(
        account=account,
        network=network,
        slot_key=slot,
        due_at=due,
        template_id="tpl",
        campaign="c",
        text=f"{account} {slot}",
    )


def test_spend_counts_sent_rows_of_the_month(
    make_store: Callable[[], Store], clock: FakeClock
) -> None:
    """A claim records its cost; the month's spend sums rows that went out or still may."""
    store = make_store()
    store.migrate()
    november = datetime(2026, 11, 20, 14, tzinfo=UTC)
    one = store.claim_slot(draft("a", "s1", november), worker_id="w", cost_micros=15_000)
    two = store.claim_slot(draft("a", "s2", november), worker_id="w", cost_micros=200_000)
    three = store.claim_slot(draft("b", "s1", november), worker_id="w", cost_micros=15_000)
    free = store.claim_slot(draft("m", "s1", november, "mastodon"), worker_id="w")
    december = datetime(2026, 12, 1, 0, 5, tzinfo=UTC)
    store.claim_slot(draft("a", "s3", december), worker_id="w", cost_micros=15_000)
    assert one and two and three and free
    store.mark_published(one.id, worker_id="w", remote_id="1", url=None)
    store.mark_failed(two.id, worker_id="w", reason="rejected")  # never billed
    start, end = month_bounds(november)
    assert store.spend_micros(start, end, statuses=SENT, account="a") == 15_000
    assert store.spend_micros(start, end, statuses=SENT, network="x") == 30_000
    assert store.spend_micros(start, end, statuses=["published"], network="x") == 15_000
    assert store.delivery_costs([one.id, two.id, free.id]) == {one.id: 15_000, two.id: 200_000}
    assert store.delivery_costs([]) == {}
    since = store.deliveries_since(november - timedelta(hours=1), account="a", statuses=SENT)
    assert [row.slot_key for row in since] == ["s1", "s3"]


def test_lost_claim_records_no_cost(make_store: Callable[[], Store]) -> None:
    """A claim that loses the race writes no cost: the slot's spend is counted once."""
    store = make_store()
    store.migrate()
    due = datetime(2026, 11, 20, 14, tzinfo=UTC)
    assert store.claim_slot(draft("a", "s1", due), worker_id="w1", cost_micros=15_000)
    assert store.claim_slot(draft("a", "s1", due), worker_id="w2", cost_micros=15_000) is None
    start, end = month_bounds(due)
    assert store.spend_micros(start, end, statuses=SENT) == 15_000


def test_database_before_0004_upgrades(make_store: Callable[[], Store], clock: FakeClock) -> None:
    """A database at 0003 keeps its deliveries, gains the cost ledger, and counts from then on."""
    store = make_store()
    assert migrate(store.engine, clock, MIGRATIONS[:3]) == [m.name for m in MIGRATIONS[:3]]
    assert "delivery_costs" not in inspect(store.engine).get_table_names()
    due = datetime(2026, 11, 20, 14, tzinfo=UTC)
    old = claim_on_old_schema(store, draft("a", "old", due), worker_id="w", now=clock.now)
    assert old is not None
    assert store.migrate() == [m.name for m in MIGRATIONS[3:]]  # 0004 and every later one
    assert applied_migrations(store.engine) == [m.name for m in MIGRATIONS]
    assert store.get_by_id(old.id) == old
    new = store.claim_slot(draft("a", "new", due), worker_id="w", cost_micros=200_000)
    assert new is not None
    start, end = month_bounds(due)
    assert store.spend_micros(start, end, statuses=SENT, account="a") == 200_000


@pytest.mark.parametrize("dollars", [0.015, 0.2, 9.8])
def test_to_micros_is_exact_for_prices(dollars: float) -> None:
    """Prices written in dollars become whole micro-dollars without float drift."""
    assert to_micros(dollars) / 1_000_000 == dollars
