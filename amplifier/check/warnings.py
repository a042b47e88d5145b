"""The guards' warnings: what the worker would refuse, said before anything is published.

Posts whose text a rule refuses on a network, pairs of posts too alike to go to two accounts,
and schedules that the daily cap, X's legacy Free tier, the no-repeat window or a monthly
budget would cut short. Warnings, never errors: the worker skips what they describe.
"""

from __future__ import annotations

from datetime import date
from itertools import combinations
from pathlib import Path

from amplifier.check.problems import counted, display_path
from amplifier.config import Account, KeyLocator, Settings, parse_days
from amplifier.content import Library, Template, parts_with_link
from amplifier.errors import Problem, RenderError
from amplifier.guards import (
    budgets,
    clusters,
    expected_cost,
    post_cost,
    similar_pairs,
    template_cost,
    text_refusals,
    usd,
)
from amplifier.networks.base import NetworkName
from amplifier.schedule import candidates


def guard_warnings(
    settings: Settings, library: Library, today: date | None = None
) -> list[Problem]:
    """Warnings (never errors) about posts and schedules the guards would hold back."""
    day = today or date.today()
    rendered = {t.path: (t, _texts(t)) for t in _templates(library)}
    warnings = _post_warnings(settings, rendered) + _similar_posts(settings, rendered)
    try:
        locator = KeyLocator(Path(settings.config_path).read_text(encoding="utf-8"))
    except OSError:
        locator = KeyLocator("")
    config = settings.config_path or "config"
    for index, account in enumerate(settings.accounts):
        if account.enabled:
            line = locator.line(("accounts", index))
            for message in _account_warnings(settings, library, rendered, account, day):
                warnings.append(Problem(config, line, message, "warning"))
    return warnings


# Each valid post with its text per network, link placed, computed once. The library has
# already rendered (and measured) every valid post on each of its networks, so the text is
# composed here without measuring it again (measuring was most of this step's time).
Rendered = dict[Path, tuple[Template, dict[NetworkName, str]]]


def _texts(template: Template) -> dict[NetworkName, str]:
    """The post's text on each of its networks, link placed, no hashtags added."""
    texts: dict[NetworkName, str] = {}
    for network in sorted(template.networks):
        try:
            # A thread: its parts, each with the link only where it goes, one after another.
            texts[network] = "\n\n".join(parts_with_link(template.text_for(network), template.link))
        except RenderError:
            continue  # reported as an error already
    return texts


def _templates(library: Library) -> list[Template]:
    found = list(library.originals.values())
    found += [t for versions in library.translations.values() for t in versions.values()]
    return sorted(found, key=lambda t: str(t.path))


def _post_warnings(settings: Settings, rendered: Rendered) -> list[Problem]:
    warnings: list[Problem] = []
    for template, texts in rendered.values():
        for network, text in texts.items():
            refusals = text_refusals(
                text,
                network,
                allow_mentions=template.allow_mentions,
                max_hashtags=settings.networks.limits(network).max_hashtags,
                rules=settings.guards,
            )
            if refusals:
                found = "; ".join(str(refusal) for refusal in refusals)
                message = f"{found}; the worker never sends this post to {network}"
                warnings.append(
                    Problem(template.path, template.text_line(network), message, "warning")
                )
    return warnings


def _similar_posts(settings: Settings, rendered: Rendered) -> list[Problem]:
    """Posts in one language whose texts on a shared network are too alike: a warning per
    pair, or one per cluster of three or more posts joined by such pairs."""
    threshold = settings.guards.similarity_threshold
    # Per language, each distinct text once (a post's texts on its networks are often the
    # same), with the (network, template) pairs that carry it.
    by_language: dict[str, dict[str, list[tuple[NetworkName, Template]]]] = {}
    for template, texts in rendered.values():
        for network, text in texts.items():
            carriers = by_language.setdefault(template.language, {}).setdefault(text, [])
            carriers.append((network, template))
    position = {path: index for index, path in enumerate(rendered)}
    best: dict[tuple[Path, Path], tuple[float, NetworkName, Template, Template]] = {}

    def consider(score: float, network: NetworkName, first: Template, second: Template) -> None:
        a, b = sorted((first, second), key=lambda t: position[t.path])
        if a.original_id == b.original_id:
            return
        key = (a.path, b.path)
        if key not in best or (score, network) > best[key][:2]:
            best[key] = (score, network, a, b)

    for by_text in by_language.values():
        distinct = list(by_text)
        for carriers in by_text.values():  # one text on one network, in several posts
            for (network, first), (other, second) in combinations(carriers, 2):
                if network == other:
                    consider(1.0, network, first, second)
        for i, j, score in similar_pairs(distinct, threshold):
            for network, first in by_text[distinct[i]]:
                for other, second in by_text[distinct[j]]:
                    if network == other:
                        consider(score, network, first, second)
    pairs = sorted(best, key=lambda pair: (position[pair[0]], position[pair[1]]))
    where: dict[Path, tuple[Template, NetworkName]] = {}  # a post, and the text line shown
    for key in pairs:
        _, network, a, b = best[key]
        where.setdefault(a.path, (a, network))
        where.setdefault(b.path, (b, network))
    warnings: list[Problem] = []
    for cluster in clusters((a, b, best[(a, b)][0]) for a, b in pairs):
        score, network, a, b = best[cluster.closest[:2]]
        if len(cluster.members) == 2:
            message = (
                f"text is substantially similar to {display_path(b.path)}:{b.text_line(network)} "
                f"({b.id}): similarity {score:.2f} >= {threshold:.2f} on {network}; "
                "two accounts may not post both, and X calls this spam: make them say different "
                "things, or keep one"
            )
            warnings.append(Problem(a.path, a.text_line(network), message, "warning"))
            continue
        # Many posts alike: one warning naming them all, not one per pair.
        listed = ", ".join(
            f"{display_path(path)}:{where[path][0].text_line(where[path][1])} ({where[path][0].id})"
            for path in cluster.members
        )
        message = (
            f"these {len(cluster.members)} posts are alike (each at least {threshold:.2f} "
            f"similar to another of them): {listed}; closest pair {a.id} and {b.id}, "
            f"{score:.2f} on {network}; two accounts may not post two of them, and X calls "
            "this spam: make them say different things, or keep one"
        )
        first, shown = where[cluster.members[0]]
        warnings.append(Problem(first.path, first.text_line(shown), message, "warning"))
    return warnings


def _window_days(days: frozenset[int], window: int) -> int:
    """The most posting days any run of ``window`` consecutive days can hold."""
    full, rest = divmod(window, 7)
    partial = max(sum(1 for i in range(rest) if (start + i) % 7 in days) for start in range(7))
    return full * len(days) + partial


def _account_warnings(
    settings: Settings, library: Library, rendered: Rendered, account: Account, day: date
) -> list[str]:
    rules = settings.guards
    schedule = settings.schedules[account.schedule]
    per_day = len(set(schedule.times))
    days = parse_days(schedule.days)
    name = f"account {account.name} ({account.network})"
    found: list[str] = []
    if rules.daily_cap and per_day > rules.daily_cap:
        found.append(
            f"{name}: schedule {account.schedule!r} has {per_day} slots a day, over the daily "
            f"cap of {rules.daily_cap} (guards.daily_cap); the extra slots are skipped"
        )
    if account.network == "x" and rules.x_legacy_free_tier:
        if per_day > 17:
            found.append(
                f"{name}: {per_day} slots a day, X's legacy Free tier allows 17 posts per 24 h; "
                "the extra slots are skipped"
            )
        if per_day * _window_days(days, 31) > 500:
            found.append(
                f"{name}: up to {per_day * _window_days(days, 31)} slots a month, X's legacy "
                "Free tier allows 500; the last slots of a month are skipped"
            )
    pool = candidates(settings, library, account, day)
    if rules.no_repeat_days and pool:
        posting = min(per_day, rules.daily_cap or per_day)
        window = posting * _window_days(days, rules.no_repeat_days)
        if len(pool) < window:
            found.append(
                f"{name}: {counted(len(pool), 'eligible post')} for up to {window} slots in "
                f"{rules.no_repeat_days} days (guards.no_repeat_days); slots with no post left "
                "are skipped: add posts or shorten the window"
            )
    if account.network == "mastodon" and account.visibility == "public":
        found.append(
            f"{name}: visibility is 'public'; bots post 'unlisted' by convention, so they "
            "stay out of local and federated timelines"
        )
    if account.network == "x" and pool:
        costs = [(_x_cost(settings, rendered, t), t.weight) for t in pool.values()]
        found += _budget_warnings(settings, account, name, expected_cost(costs), per_day, days)
    return found


def _x_cost(settings: Settings, rendered: Rendered, template: Template) -> int:
    text = rendered.get(template.path, (template, {}))[1].get("x")
    if text is None:
        return template_cost(template, "x", settings).micros
    return post_cost("x", text, len(template.media), settings.guards.x_prices).micros


def _budget_warnings(
    settings: Settings,
    account: Account,
    name: str,
    mix: int,
    per_day: int,
    days: frozenset[int],
) -> list[str]:
    limits = budgets(settings, account, lambda _: 0)
    month = round(per_day * _window_days(days, 31) * mix, -4)  # an estimate: whole cents
    if not limits:
        return [
            f"{name}: no monthly budget; X bills every post (about {usd(month)} a month for "
            f"this schedule): set monthly_budget_usd on the account or "
            "guards.x_monthly_budget_usd"
        ]
    return [
        f"{name}: this schedule may cost up to {usd(month)} a month, over the "
        f"{usd(budget.limit_micros)} monthly budget of {budget.scope}; once it is reached "
        "the month's remaining slots are skipped"
        for budget in limits
        if month > budget.limit_micros
    ]
