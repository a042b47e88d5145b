"""The results report: each published post's latest snapshot, grouped and summed.

Definitions (the same in ``amplifier results`` and its ``--help``):

- a post's **counts** are those of its latest snapshot (with ``age``: of that age's snapshot
  only, so every post is compared at the same age); a post with none yet is not counted;
- **engagements** = likes + reposts + replies + quotes, as the network gave them (a count
  it does not give adds nothing); they are interactions, not reach: nobody can tell from them
  how many people saw a post (only X gives impressions);
- **per post** = engagements / counted posts: the mean over the group's sends, so a template
  sent ten times is judged by its average, not its total;
- **young** = posts without a snapshot at the last configured age yet (too young to judge);
  **gone** = posts the network no longer has (deleted), counted up to their last reading;
- **hashtag**: a post counts once under each hashtag in its text; **hour**: the local hour
  it went out, in its account's schedule timezone.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from typing import Any

from amplifier.store import Snapshot

GROUPINGS = ("post", "template", "language", "hashtag", "network", "account", "hour")
# Groupings by a column of the deliveries: summed by the database (``Store.results_totals``).
COLUMNS = {"template": "template_id", "language": "language", "network": "network",
           "account": "account"}  # fmt: skip
COUNTED = ("likes", "reposts", "replies", "quotes")
HASHTAG = re.compile(r"(?<![\w&])#(\w+)")


@dataclass
class Group:
    """One row of the report."""

    key: str
    posts: int = 0
    counted: int = 0
    young: int = 0
    gone: int = 0
    sums: dict[str, int] = field(default_factory=lambda: dict.fromkeys(COUNTED, 0))
    impressions: int | None = None

    @property
    def engagements(self) -> int:
        return sum(self.sums.values())

    @property
    def per_post(self) -> float | None:
        return round(self.engagements / self.counted, 2) if self.counted else None

    def as_dict(self) -> dict[str, Any]:
        return {
            "group": self.key,
            "posts": self.posts,
            "counted": self.counted,
            "young": self.young,
            "gone": self.gone,
            **self.sums,
            "engagements": self.engagements,
            "per_post": self.per_post,
            "impressions": self.impressions,
        }


@dataclass(frozen=True)
class Report:
    """The groups, best per post first (groups with nothing counted last)."""

    by: str
    groups: list[Group]
    age: str | None


def keys(by: str, delivery: Mapping[str, Any], zones: Mapping[str, tzinfo]) -> list[str]:
    """The groups a post belongs to under ``by``."""
    if by == "post":
        sent = delivery["sent_at"]
        when = sent.strftime("%Y-%m-%d %H:%M") if sent else "?"
        return [f"#{delivery['id']} {delivery['account']} {delivery['template_id']} {when}"]
    if by == "template":
        return [str(delivery["template_id"])]
    if by == "language":
        return [str(delivery["language"] or "-")]
    if by == "hashtag":
        return sorted({f"#{tag.lower()}" for tag in HASHTAG.findall(delivery["text"])}) or ["-"]
    if by == "hour":
        went: datetime | None = delivery["sent_at"]
        if went is None:
            return ["?"]
        zone = zones.get(str(delivery["account"]))
        return [f"{(went.astimezone(zone) if zone else went).hour:02d}:00"]
    return [str(delivery[by])]


def build_report(
    rows: Sequence[tuple[Mapping[str, Any], Snapshot | None]],
    by: str,
    *,
    final_age_seconds: int,
    gone: set[int] | frozenset[int] = frozenset(),
    zones: Mapping[str, tzinfo] | None = None,
    age: str | None = None,
) -> Report:
    """Group ``rows`` (each post with its latest snapshot, ``Store.results_rows``) by ``by``.

    ``gone`` holds the ids of posts recorded gone; ``final_age_seconds`` is the last age.
    """
    if by not in GROUPINGS:
        raise ValueError(f"--by must be one of {', '.join(GROUPINGS)}, not {by!r}")
    groups: dict[str, Group] = {}
    for delivery, snap in rows:
        for key in keys(by, delivery, zones or {}):
            group = groups.setdefault(key, Group(key))
            group.posts += 1
            if int(delivery["id"]) in gone:
                group.gone += 1
            elif snap is None or snap.age_seconds < final_age_seconds:
                group.young += 1
            if snap is None:
                continue
            group.counted += 1
            for name in COUNTED:
                group.sums[name] += snap.counts.get(name) or 0
            seen = snap.counts.get("impressions")
            if seen is not None:
                group.impressions = (group.impressions or 0) + seen
    return Report(by, _ordered(groups.values()), age)


def report_from_totals(totals: Sequence[Mapping[str, Any]], by: str, age: str | None) -> Report:
    """The report from the database's sums per group (``Store.results_totals``): the same
    figures ``build_report`` computes from the rows, for the groupings in ``COLUMNS``."""
    groups = []
    for row in totals:
        group = Group(str(row["group"]), int(row["posts"]), int(row["counted"]))
        group.young, group.gone = int(row["young"] or 0), int(row["gone"])
        group.sums = {name: int(row[name] or 0) for name in COUNTED}
        seen = row["impressions"]
        group.impressions = None if seen is None else int(seen)
        groups.append(group)
    return Report(by, _ordered(groups), age)


def _ordered(groups: Iterable[Group]) -> list[Group]:
    """Best per post first, then more engagements; groups with nothing counted last."""
    return sorted(
        groups, key=lambda g: (g.per_post is None, -(g.per_post or 0), -g.engagements, g.key)
    )
