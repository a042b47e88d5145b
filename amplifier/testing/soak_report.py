"""The fault soak's figures: per batch, added up, and the must-be-0 verdict.

Each batch is one database and one set of fakes; its figures are taken after a last worker,
on prompt servers, has settled every due slot (or given up trying). The report adds them up.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from amplifier.testing.fakes import EarlyRequest
from amplifier.testing.outcome import Outcome


@dataclass
class BatchResult:
    """What one batch ended with."""

    number: int
    outcome: Outcome
    kills: list[str]  # what each SIGKILLed worker was doing when it died
    paired_kills: int  # kills of workers that ran alongside another
    faults: Counter[str]  # injected outcomes by kind
    rate_limit_answers: int  # 429s answered with a reset time
    early: list[EarlyRequest]  # requests before a reset: must be none
    elsewhere: int  # requests to other endpoints of a limited account (allowed)
    leaks: list[str]  # "worker: VARIABLE" for each secret found in a log
    log_lines: int
    workers: int
    problems: list[str] = field(default_factory=list)  # anything else that must not happen


def _count(label: str, value: int, width: int = 48) -> str:
    return f"  {label:<{width}} {value:>7}"


@dataclass
class SoakReport:
    """Every batch of one soak run, and what the run was asked to do."""

    seed: int
    database: str
    batches: list[BatchResult]
    seconds: float
    stopped_early: str | None = None  # why fewer kills were made than asked, if so

    @property
    def kills(self) -> int:
        return sum(len(batch.kills) for batch in self.batches)

    def _sum(self, figure: str) -> int:
        return sum(int(getattr(batch, figure)) for batch in self.batches)

    def _outcomes(self) -> list[Outcome]:
        return [batch.outcome for batch in self.batches]

    @property
    def due(self) -> int:
        return sum(len(outcome.due) for outcome in self._outcomes())

    @property
    def published_once(self) -> int:
        return sum(len(outcome.published_once) for outcome in self._outcomes())

    @property
    def published_twice(self) -> int:
        """Texts a server holds more than once."""
        return sum(len(outcome.duplicates) for outcome in self._outcomes())

    @property
    def lost(self) -> int:
        """Due slots without a row, or whose row never settled."""
        return sum(len(o.lost) + len(o.unsettled) for o in self._outcomes())

    @property
    def explained(self) -> Counter[str]:
        return Counter(row.status for o in self._outcomes() for row in o.explained)

    @property
    def early(self) -> list[EarlyRequest]:
        return [request for batch in self.batches for request in batch.early]

    @property
    def leaks(self) -> list[str]:
        return [leak for batch in self.batches for leak in batch.leaks]

    @property
    def problems(self) -> list[str]:
        """Anything else amiss: rows that do not match the servers, workers that died alone."""
        found = [f"batch {b.number}: {problem}" for b in self.batches for problem in b.problems]
        found += [f"batch {b.number}: {problem}" for b in self.batches
                  for problem in b.outcome.mismatches()]  # fmt: skip
        return found

    def failures(self) -> list[str]:
        """The must-be-0 figures that are not 0; [] when the run passed."""
        figures = {
            "published twice": self.published_twice,
            "lost": self.lost,
            "requests before a rate-limit reset": len(self.early),
            "secrets found in logs": len(self.leaks),
            "other problems": len(self.problems),
        }
        return [f"{name} = {value}" for name, value in figures.items() if value]

    def details(self) -> list[str]:
        """One line per thing that must not happen, each figure's in turn."""
        found = []
        for batch in self.batches:
            outcome, label = batch.outcome, f"batch {batch.number}"
            found += [f"{label}: {net} holds {n} copies of {text[:60]!r}"
                      for net, text, n in outcome.duplicates]  # fmt: skip
            found += [f"{label}: lost {account} {key}" for account, key in outcome.lost]
            found += [f"{label}: {r.account} {r.slot_key} never settled ({r.status})"
                      for r in outcome.unsettled]  # fmt: skip
        for batch in self.batches:
            slots = {(r.account, r.text): r.slot_key for r in batch.outcome.rows.values()}
            found += [
                f"batch {batch.number}: early request: "
                + request.describe(slots.get((request.account, request.text or "")))
                for request in batch.early
            ]
        found += [f"secret in a log: {leak}" for leak in self.leaks]
        return found + self.problems

    def render(self) -> str:
        minutes, seconds = divmod(round(self.seconds), 60)
        kinds: Counter[str] = Counter(kind for b in self.batches for kind in b.kills)
        faults: Counter[str] = sum((b.faults for b in self.batches), Counter())
        explained = self.explained
        lines = [
            f"fault soak: {self.kills} kills (SIGKILL), {self._sum('paired_kills')} of them in "
            f"two-worker rounds; {len(self.batches)} batches; {self.database}; "
            f"seed {self.seed}; {minutes} min {seconds:02d} s",
            "  killed while: " + ", ".join(f"{k}={n}" for k, n in sorted(kinds.items())),
            "  faults injected: " + ", ".join(f"{k}={n}" for k, n in sorted(faults.items())),
            _count("slots due", self.due),
            _count("published once", self.published_once),
            _count("published twice (must be 0)", self.published_twice),
            _count("lost (must be 0)", self.lost),
            _count("explained failures", sum(explained.values()))
            + (f"   ({', '.join(f'{k} {n}' for k, n in sorted(explained.items()))})"),
            _count("rate-limit answers (429 with a reset)", self._sum("rate_limit_answers")),
            _count("requests before a rate-limit reset (must be 0)", len(self.early)),
            _count("  other endpoints during a window (allowed)", self._sum("elsewhere")),
            _count("log lines scanned", self._sum("log_lines"))
            + f"   (from {self._sum('workers')} worker processes)",
            _count("secrets found in logs (must be 0)", len(self.leaks)),
            _count("other problems (must be 0)", len(self.problems)),
        ]
        if self.stopped_early:
            lines.append(f"  stopped early: {self.stopped_early}")
        details = self.details()
        lines += [f"  ! {detail}" for detail in details[:40]]
        if len(details) > 40:
            lines.append(f"  ! ... and {len(details) - 40} more")
        failures = self.failures()
        lines.append("result: " + ("FAIL: " + "; ".join(failures) if failures else "PASS"))
        return "\n".join(lines)
