"""The guard rules as pure functions: similarity, cashtags, mentions, caps, and the re-plan loop."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from itertools import combinations
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from amplifier.check import load
from amplifier.config import Account, GuardSettings, Settings
from amplifier.content import Library
from amplifier.guards.decision import decide
from amplifier.guards.history import GuardContext, Sent, account_refusal, own_since, post_refusal
from amplifier.guards.neardup import similar_pairs
from amplifier.guards.refusals import Refusal, summarise
from amplifier.guards.similarity import normalise, similarity
from amplifier.guards.spend import Budget
from amplifier.guards.text import cashtags, hashtag_count, mentions, text_refusals
from amplifier.schedule.planner import AccountState, NothingToPost, PlannedPost, plan_slot
from amplifier.schedule.slots import Slot

NY = ZoneInfo("America/New_York")
RULES = GuardSettings()

BASE = (
    "Families released together with a caseworker came to nearly every court date, "
    "so detention is not needed to make sure people show up."
)

# (a, b): texts that must count as substantially similar (>= 0.8) ...
SIMILAR = [
    (  # the same text with other hashtags and another link
        BASE + "\n\n#FamiliesBelongTogether #KeepFamiliesTogether https://example.org/a",
        BASE + "\n\n#FamiliesBelongTogether #RefugeesWelcome https://example.org/b",
    ),
    (BASE, BASE.upper().replace(",", ";")),  # case and punctuation
    (BASE, BASE.replace("nearly", "almost")),  # one word changed
    (BASE, BASE.replace("nearly every", "almost each")),  # two words changed
    (  # sentences swapped
        "Call your member of Congress today. Ask them to stop paying for family detention.",
        "Ask them to stop paying for family detention. Call your member of Congress today.",
    ),
    (BASE, "@someone " + BASE + " $TSLA"),  # mentions and cashtags do not make a text new
]
# ... and texts that must not.
DISTINCT = [
    (
        "Arizona neighbours: volunteer with the Florence Project and stand behind the lawyers "
        "and advocates working for immigrant families.",
        "Live in California? Volunteer with Al Otro Lado or Pueblo Sin Fronteras and back the "
        "lawyers and advocates working on the front lines for immigrant families.",
    ),
    (  # a shared call-in line, different asks
        "Call (855) 440-1800 and ask your senator to vote no on the detention budget.",
        "Call (855) 440-1800 and thank your representative for visiting the shelter in Homestead.",
    ),
    (  # a translation
        "Seeking asylum is a legal right. Call your representative today and say so.",
        "Pedir asilo es un derecho legal. Llama hoy a tu representante y díselo.",
    ),
]


@pytest.mark.parametrize(("a", "b"), SIMILAR)
def test_substantially_similar_pairs(a: str, b: str) -> None:
    """Each pair above reaches the 0.8 threshold, whichever way round it is compared."""
    assert similarity(a, b) >= RULES.similarity_threshold
    assert similarity(a, b) == similarity(b, a)


@pytest.mark.parametrize(("a", "b"), DISTINCT)
def test_distinct_pairs(a: str, b: str) -> None:
    """Posts that share a topic or a phrase but say different things stay under 0.8."""
    assert similarity(a, b) < RULES.similarity_threshold


def test_normalise_drops_links_tags_mentions_and_punctuation() -> None:
    """Normalised words: casefolded, no URL (bare domains too), tag, mention or cashtag."""
    text = "Sign NOW at example.org/petition or https://x.example/y! @ana #Tag $TSLA — ¡Ya!"
    assert normalise(text) == ("sign", "now", "at", "or", "ya")


def test_texts_without_words_are_similar_only_when_equal() -> None:
    """A text that is only a link or tags is compared as written, not as empty."""
    assert similarity("https://example.org/a", "https://example.org/b") == 0.0
    assert similarity("#Tag", "#tag") == 1.0


def test_cashtags_follow_twitter_text() -> None:
    """$TSLA and $BRK.A are cashtags; $5, US$TSLA and a$b are not."""
    assert cashtags("Buy $TSLA and $BRK.A, not $5 or US$TSLA or a$b.") == ["$TSLA", "$BRK.A"]


def test_mentions_skip_emails_and_url_paths() -> None:
    """@ana and @bob@social.example are mentions; an e-mail and a profile URL are not."""
    text = "Thanks @ana and @bob@social.example! Mail info@example.org, see mastodon.social/@carl"
    assert mentions(text) == ["@ana", "@bob@social.example"]


def test_hashtag_count_is_case_insensitive() -> None:
    """#Tag and #tag are one hashtag; a URL fragment is none."""
    assert hashtag_count("#Tag #tag #Other https://example.org/page#frag") == 2


def test_text_refusals_name_rule_and_figure() -> None:
    """Hashtag cap, cashtags on X only, and mentions without allow_mentions are refused."""

    def rules_refusing(text: str, network: str, allow: bool = False, rules: GuardSettings = RULES,
                       cap: int = 2) -> list[Refusal]:  # fmt: skip
        return text_refusals(text, network, allow_mentions=allow, max_hashtags=cap, rules=rules)

    assert rules_refusing("a #b #c #d", "x") == [
        Refusal("hashtag-cap", "post", "3 hashtags, the x cap is 2")
    ]
    money = rules_refusing("$AA $BB", "x")
    assert [r.rule for r in money] == ["cashtags"] and "2 cashtags" in money[0].detail
    assert rules_refusing("$AA $BB", "mastodon", cap=4) == []
    hello = rules_refusing("hi @ana", "bluesky", cap=3)
    assert [r.rule for r in hello] == ["mentions"] and "@ana" in hello[0].detail
    assert rules_refusing("hi @ana", "x", allow=True) == []
    lenient = RULES.model_copy(update={"mentions_need_allow": False})
    assert rules_refusing("hi @ana", "x", rules=lenient) == []
    every = rules_refusing("@ana $AA $BB #a #b #c", "x")
    assert [r.rule for r in every] == ["hashtag-cap", "cashtags", "mentions"]


def slot_at(local: str, key: str | None = None) -> Slot:
    nominal = datetime.fromisoformat(local).replace(tzinfo=NY)
    return Slot(due_at=nominal.astimezone(UTC), nominal=nominal, key=key or local[:16])


def sent_at(local: str, post: str = "p", account: str = "me", text: str = "t") -> Sent:
    return Sent(account, post, text, datetime.fromisoformat(local).replace(tzinfo=NY))


X = Account(name="me", network="x", campaigns=("c",), schedule="s")


def test_daily_cap_counts_the_local_day() -> None:
    """Eight posts on the local day refuse a ninth; posts of the day before do not count."""
    slot = slot_at("2026-11-23T21:00")
    own = [sent_at(f"2026-11-23T{hour:02d}:00") for hour in range(8)]
    at = slot.due_at
    refusal = account_refusal(X, slot, own, RULES, moment=at)
    assert refusal == Refusal(
        "daily-cap", "account", "8 posts already on 2026-11-23 (local), the daily cap is 8"
    )
    yesterday = [sent_at(f"2026-11-22T{hour:02d}:00") for hour in range(12, 20)]
    assert account_refusal(X, slot, own[:7] + yesterday, RULES, moment=at) is None
    no_cap = RULES.model_copy(update={"daily_cap": 0})
    assert account_refusal(X, slot, own, no_cap, moment=at) is None


def test_legacy_free_tier_rolling_day_and_month() -> None:
    """With the legacy Free tier: 17 posts in 24 h refuse the 18th; 500 in a month the 501st."""
    rules = RULES.model_copy(update={"daily_cap": 0, "x_legacy_free_tier": True})
    slot = slot_at("2026-11-23T10:00")
    at = slot.due_at
    rolling = [sent_at("2026-11-22T11:00") for _ in range(17)]  # 23 h before the slot
    refusal = account_refusal(X, slot, rolling, rules, moment=at)
    assert refusal is not None and refusal.rule == "x-free-tier"
    assert "17 posts in the last 24 h" in refusal.detail
    older = [sent_at("2026-11-22T09:00") for _ in range(17)]  # 25 h ago
    assert account_refusal(X, slot, older, rules, moment=at) is None
    month = [sent_at("2026-11-05T09:00") for _ in range(500)]
    refusal = account_refusal(X, slot, month, rules, moment=at)
    assert refusal is not None and "500 posts this month" in refusal.detail
    masto = X.model_copy(update={"network": "mastodon"})
    assert account_refusal(masto, slot, month, rules, moment=at) is None
    assert own_since(at, NY, rules) == datetime(2026, 11, 1, tzinfo=UTC)


POST = """---
id: {id}
campaign: c
language: en
source: test
{extra}---
{text}
"""


def library_of(tmp_path: Path, posts: dict[str, tuple[str, str]]) -> tuple[Settings, Library]:
    folder = tmp_path / "posts"
    folder.mkdir()
    for post_id, (text, extra) in posts.items():
        (folder / f"{post_id}.md").write_text(POST.format(id=post_id, text=text, extra=extra))
    (tmp_path / "config.toml").write_text(
        '[campaigns.c]\n[schedules.s]\ntimezone = "America/New_York"\ntimes = ["09:00"]\n'
        '[[accounts]]\nname = "me"\nnetwork = "x"\ncampaigns = ["c"]\nschedule = "s"\n'
    )
    return load(tmp_path / "config.toml", None)


def first_plan(
    settings: Settings, library: Library, slot: Slot
) -> tuple[PlannedPost | NothingToPost, AccountState]:
    return plan_slot(settings, library, settings.accounts[0], slot, AccountState())


def test_post_refusal_no_repeat_then_distinct_text(tmp_path: Path) -> None:
    """The same post within 3 days is refused; so is a text 0.8 alike another X account's."""
    settings, library = library_of(tmp_path, {"only": (BASE, "")})
    slot = slot_at("2026-11-23T09:00")
    planned, _ = first_plan(settings, library, slot)
    assert isinstance(planned, PlannedPost)
    account = settings.accounts[0]
    at = slot.due_at
    recent = GuardContext(own=[sent_at("2026-11-21T09:00", post="only")], others=[])
    refusal = post_refusal(planned, account, recent, settings, moment=at)
    assert refusal is not None and refusal.rule == "no-repeat"
    assert "went out on this account 2 days ago, within the 3-day no-repeat" in refusal.detail
    old = GuardContext(own=[sent_at("2026-11-20T08:00", post="only")], others=[])
    assert post_refusal(planned, account, old, settings, moment=at) is None
    twin = sent_at("2026-11-18T09:00", post="twin", account="other", text=BASE.upper())
    refusal = post_refusal(planned, account, GuardContext([], [twin]), settings, moment=at)
    assert refusal is not None and refusal.rule == "distinct-text"
    assert "1.00 similar to other's 'twin' of 5 days ago" in refusal.detail
    expired = sent_at("2026-11-16T08:59", account="other", text=BASE)
    assert post_refusal(planned, account, GuardContext([], [expired]), settings, moment=at) is None


def test_decide_replans_without_refused_posts(tmp_path: Path) -> None:
    """A refused post is excluded and the rotation asked again; all refused means skipped."""
    posts = {
        "mention": ("Thank you @ana for the report on family detention.", ""),
        "fine": ("Detention of families costs more than community support does.", ""),
        "allowed": (
            "Thank you @ana for your testimony to the committee.",
            "allow_mentions: true\n",
        ),
    }
    settings, library = library_of(tmp_path, posts)
    account = settings.accounts[0]
    slot = slot_at("2026-11-23T09:00")
    asked: list[frozenset[str]] = []

    def replan(exclude: frozenset[str]) -> tuple[PlannedPost | NothingToPost, AccountState]:
        asked.append(exclude)
        return plan_slot(settings, library, account, slot, AccountState(), exclude=exclude)

    empty = GuardContext(own=[], others=[])
    outcome = replan(frozenset({"fine", "allowed"}))  # start from the post that will be refused
    decision = decide(outcome, replan, account, slot, empty, settings, moment=slot.due_at)
    assert decision.planned is not None and decision.planned.template.id in {"fine", "allowed"}
    assert [r.rule for r in decision.refused] == ["mentions"]
    assert asked[-1] == frozenset({"mention"})

    busy = GuardContext(own=[sent_at("2026-11-22T09:00", post=p) for p in posts], others=[])
    first = first_plan(settings, library, slot)
    decision = decide(first, replan, account, slot, busy, settings, moment=slot.due_at)
    assert decision.planned is None
    assert decision.skip_reason is not None
    assert decision.skip_reason.startswith("every eligible post refused by the guards: no-repeat x")


def test_decide_budget_and_caps_skip_with_figures(tmp_path: Path) -> None:
    """Over the budget or the daily cap the slot is skipped with the rule and the figure."""
    settings, library = library_of(tmp_path, {"only": (BASE, "")})
    account = settings.accounts[0]
    slot = slot_at("2026-11-23T09:00")
    plan = first_plan(settings, library, slot)

    def never(exclude: frozenset[str]) -> tuple[PlannedPost | NothingToPost, AccountState]:
        raise AssertionError("an account-level refusal must not re-plan")

    budget = Budget("account me", 10_000_000, 9_990_000)
    at = slot.due_at
    decision = decide(
        plan, never, account, slot, GuardContext([], [], [budget]), settings, moment=at
    )
    assert decision.skip_reason == (
        "guard x-budget: spend $9.99 + $0.015 would exceed the $10.00 monthly budget of account me"
    )
    assert decision.cost is not None and decision.cost.micros == 15_000
    roomy = Budget("account me", 10_000_000, 9_985_000)
    decision = decide(
        plan, never, account, slot, GuardContext([], [], [roomy]), settings, moment=at
    )
    assert decision.planned is not None and decision.skip_reason is None
    full = [sent_at(f"2026-11-23T0{h}:00", post="x") for h in range(8)]
    decision = decide(plan, never, account, slot, GuardContext(full, []), settings, moment=at)
    assert decision.skip_reason is not None and decision.skip_reason.startswith("guard daily-cap")
    assert decision.rule == "daily-cap"


def test_summarise_counts_each_rule_once_with_an_example() -> None:
    """The skip reason counts refusals per rule and quotes the first figure of each."""
    refusals = [
        Refusal("no-repeat", "post", "'a' went out 5 h ago"),
        Refusal("distinct-text", "post", "'b' is 0.91 similar"),
        Refusal("no-repeat", "post", "'c' went out 6 h ago"),
    ]
    assert summarise(refusals) == (
        "every eligible post refused by the guards: no-repeat x2 (e.g. 'a' went out 5 h ago); "
        "distinct-text x1 (e.g. 'b' is 0.91 similar)"
    )


def _variants(rng: random.Random, text: str) -> list[str]:
    """Edits of a text on both sides of any threshold: words changed, dropped, moved."""
    words = text.split()
    out = []
    for edits in (1, 2, 4, 8):
        changed = list(words)
        for _ in range(edits):
            spot = rng.randrange(len(changed))
            kind = rng.choice(("swap", "drop", "move", "new"))
            if kind == "swap":
                other = rng.randrange(len(changed))
                changed[spot], changed[other] = changed[other], changed[spot]
            elif kind == "drop" and len(changed) > 2:
                changed.pop(spot)
            elif kind == "move":
                changed.insert(rng.randrange(len(changed)), changed.pop(spot))
            else:
                changed[spot] = f"word{rng.randrange(50)}"
        out.append(" ".join(changed))
    return out


@pytest.mark.parametrize("threshold", [0.5, 0.8, 0.95, 1.0])
def test_similar_pairs_equals_comparing_every_pair(threshold: float) -> None:
    """The indexed search finds exactly the pairs (and scores) that comparing every pair of
    the sample posts, their edited variants, repeated words and link-only texts finds."""
    rng = random.Random(7)
    posts = sorted(Path(__file__).parent.parent.parent.joinpath("posts").glob("*.md"))
    texts = [path.read_text(encoding="utf-8").split("---", 2)[2].strip() for path in posts[:40]]
    texts += [variant for text in texts[:15] for variant in _variants(rng, text)]
    texts += ["the the the the", "the the the", "one", "one", "https://a.example #Tag"]
    texts += ["https://a.example #tag", "https://b.example", "#Only #Tags"]
    every_pair = [
        (i, j, score)
        for i, j in combinations(range(len(texts)), 2)
        if (score := similarity(texts[i], texts[j])) >= threshold
    ]
    assert similar_pairs(texts, threshold) == every_pair
    assert len(every_pair) >= (3 if threshold < 1.0 else 2)  # the test has pairs to find
