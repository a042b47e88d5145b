"""What a scenario ended with: the row of every due slot next to what the fake servers hold.

The servers are the witnesses: whatever the rows say, no server may hold a text twice, and every
due slot must have a settled row that matches what they hold (published, or an explained
failure).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from amplifier.store import Delivery

SETTLED = {"published", "failed", "unknown", "missed", "skipped"}
EXPLAINED = {"failed", "unknown", "missed", "skipped"}  # each needs a last_error


@dataclass(frozen=True)
class Outcome:
    """The rows of every due slot next to what the servers hold."""

    due: tuple[tuple[str, str], ...]  # (account, slot_key)
    rows: dict[tuple[str, str], Delivery]
    server_texts: dict[str, Counter[str]]
    post_requests: dict[str, int]

    def _with(self, *statuses: str) -> list[Delivery]:
        return [row for row in self.rows.values() if row.status in statuses]

    def copies(self, row: Delivery) -> int:
        return self.server_texts[row.network][row.text]

    @property
    def lost(self) -> list[tuple[str, str]]:
        return [key for key in self.due if key not in self.rows]

    @property
    def unfinished_threads(self) -> list[Delivery]:
        """A thread's last part published with no row for the part after it."""
        have = {(row.account, row.thread_key, row.thread_part) for row in self.rows.values()}
        return [
            row
            for row in self._with("published")
            if row.more_parts
            and (row.account, row.thread_key, (row.thread_part or 0) + 1) not in have
        ]

    @property
    def unsettled(self) -> list[Delivery]:
        return [row for row in self.rows.values() if row.status not in SETTLED]

    @property
    def published_once(self) -> list[Delivery]:
        """The slots published once (a thread's: its first part; its later parts are checked
        by ``problems``: each once on its server, none stopped before the last)."""
        return [row for row in self._slots("published") if self.copies(row) == 1]

    @property
    def explained(self) -> list[Delivery]:
        return [row for row in self._slots(*EXPLAINED) if row.last_error]

    def _slots(self, *statuses: str) -> list[Delivery]:
        return [row for row in self._with(*statuses) if (row.thread_part or 1) == 1]

    @property
    def duplicates(self) -> list[tuple[str, str, int]]:
        """(network, text, copies) of every text a server holds more than once."""
        return [
            (network, text, copies)
            for network, texts in self.server_texts.items()
            for text, copies in texts.items()
            if copies > 1
        ]

    @property
    def statuses(self) -> Counter[str]:
        return Counter(row.status for row in self.rows.values())

    def problems(self, *, all_published: bool = False) -> list[str]:
        """Every way this breaks "each due slot exactly once, or explained"; [] when it holds."""
        found = [f"lost: {key} has no row" for key in self.lost]
        found += [f"{r.account} {r.slot_key} still {r.status}" for r in self.unsettled]
        found += [f"{r.account} {r.slot_key}: its thread stopped after part {r.thread_part}"
                  for r in self.unfinished_threads]  # fmt: skip
        found += [f"{net} holds {n} copies of {t[:50]!r}" for net, t, n in self.duplicates]
        found += self.mismatches()
        if all_published:
            found += [f"{r.account} {r.slot_key} {r.status}: {r.last_error}"
                      for r in self.rows.values() if r.status != "published"]  # fmt: skip
        return found

    def mismatches(self) -> list[str]:
        """Rows and servers that disagree, and failures without a reason (``problems`` less
        the lost, unsettled and duplicated)."""
        # A thread's later parts have rows of their own, under their first part's slot.
        found = [f"unexpected row {key}" for key, row in self.rows.items()
                 if key not in self.due and (key[0], row.thread_key) not in self.due]  # fmt: skip
        for row in self._with("published"):
            if self.copies(row) == 0:
                found.append(f"{row.account} {row.slot_key} published but not on the server")
        found += [f"{r.status} without a reason: {r.slot_key}" for r in self._with(*EXPLAINED)
                  if not r.last_error]  # fmt: skip
        # A post on a server needs a row saying published or unknown, or history lies. (A
        # missed slot's text may go out in a later slot: rotation moves on only on a claim.)
        honest = {(r.network, r.text) for r in self._with("published", "unknown")}
        for network, texts in self.server_texts.items():
            found += [f"{network} holds {t[:50]!r} unrecorded" for t in texts
                      if (network, t) not in honest]  # fmt: skip
        return found

    def summary(self, label: str) -> str:
        twice = sum(1 for row in self._with("published") if self.copies(row) > 1)
        return (
            f"[{label}] slots due={len(self.due)} published once={len(self.published_once)} "
            f"published twice={twice} lost={len(self.lost)} unsettled={len(self.unsettled)} "
            f"explained={len(self.explained)} problems={len(self.problems())} "
            f"(rows: {dict(sorted(self.statuses.items()))}; publish requests answered: "
            f"{dict(sorted(self.post_requests.items()))})"
        )
