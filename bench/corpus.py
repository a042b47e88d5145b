"""Generated campaigns for bench_check.py, and how alike their posts are.

Two kinds of wording, the ``overlap`` knob:

- ``low``: each post draws 12-30 words evenly from every word of the sample campaign (about
  500 in English), after a numbered opening ("Note 812:"): posts share little but stop words.
- ``high``: each post draws 12-30 words from the sample campaign's most frequent few dozen
  (families, children, immigrant, separation, ..., and the stop words around them), the
  frequent ones more often, with no numbered opening: posts share their vocabulary and
  many of their word pairs, as a real campaign's do. One post in fifty is an earlier post
  with a word changed (a volunteer's rewording), so the check has near-duplicates to report.

``likeness`` measures a set of posts the way the near-duplicate rule sees them: each post's
closest neighbour (guards.similarity), and the share of word pairs (2-shingles) that
three or more posts hold. bench_check.py prints it for the shipped sample posts and for
samples of the same size from each generated campaign.
"""

from __future__ import annotations

import random
import re
import statistics
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from _common import POSTS_DIR

WORD = re.compile(r"[^\W\d_]{3,}")
ANY_WORD = re.compile(r"[^\W\d_]+")
CAMPAIGN_WORDS = 40  # the "few dozen" words of a high-overlap campaign
EDITED_EVERY = 50  # high overlap: one post in this many rewords an earlier one


def sample_texts(language: str) -> list[str]:
    """The sample campaign's post texts in one language (after the front matter)."""
    texts = []
    for path in sorted(POSTS_DIR.glob("*.md")):
        if path.name == "README.md" or path.name.endswith(".es.md") != (language == "es"):
            continue
        texts.append(path.read_text(encoding="utf-8").split("\n---\n", 1)[-1].strip())
    return texts


def vocabulary(language: str) -> list[str]:
    """Every word of three letters or more in the sample posts of one language, sorted."""
    return sorted({w.lower() for text in sample_texts(language) for w in WORD.findall(text)})


def campaign_words(language: str) -> list[str]:
    """The sample campaign's most frequent words in one language, most frequent first."""
    counts = Counter(w.lower() for text in sample_texts(language) for w in ANY_WORD.findall(text))
    return [word for word, _ in counts.most_common(CAMPAIGN_WORDS)]


class Wording:
    """Sentences for one language, of low or high overlap."""

    def __init__(self, language: str, overlap: str) -> None:
        self.overlap = overlap
        if overlap == "low":
            self.words = vocabulary(language)
            self.weights = [1.0] * len(self.words)
        else:
            self.words = campaign_words(language)
            self.weights = [1 / (rank + 1) ** 0.5 for rank in range(len(self.words))]
        self.opening = "Note" if language == "en" else "Nota"

    def sentence(self, rng: random.Random, number: int, limit: int) -> str:
        if self.overlap == "low":  # as this benchmark has always drawn them
            text = f"{self.opening} {number}:"
            for _ in range(rng.randint(12, 30)):
                word = rng.choice(self.words)
                if len(text) + len(word) + 2 > limit:
                    break
                text += " " + word
            return text + "."
        text = ""
        for word in rng.choices(self.words, self.weights, k=rng.randint(12, 30)):
            if len(text) + len(word) + 2 > limit:
                break
            text = f"{text} {word}" if text else word.capitalize()
        return text + "."


def reworded(rng: random.Random, text: str, words: list[str]) -> str:
    """``text`` with one word replaced: a near-duplicate of it."""
    body = text.rstrip(".").split(" ")
    spot = rng.randrange(1, len(body)) if len(body) > 1 else 0
    body[spot] = rng.choice([word for word in words if word != body[spot].lower()])
    return " ".join(body) + "."


def generate(folder: Path, count: int, overlap: str = "low", seed: int = 6) -> None:
    """``count`` valid post files: five originals, then a Spanish translation of the fifth.

    A third of the originals have a link, a quarter a hashtag of their own.
    """
    rng = random.Random(seed)
    english, spanish = Wording("en", overlap), Wording("es", overlap)
    written: list[str] = []  # English texts so far, for rewording
    folder.mkdir(parents=True)
    for number in range(count):
        if number % 6 == 5:  # translates the post just written
            original = f"post-{number - 1}"
            text = spanish.sentence(rng, number, 190)
            front = [f"id: {original}-es", f"translation_of: {original}", "language: es"]
            name = f"{original}.es.md"
        else:
            if overlap == "high" and written and number % EDITED_EVERY == 1:
                text = reworded(rng, rng.choice(written), english.words)
            else:
                text = english.sentence(rng, number, 190)
            written.append(text)
            front = [f"id: post-{number}", "campaign: bench", "language: en"]
            front.append(f'source: "Generated post {number} for the benchmark"')
            if number % 3 == 0:
                front.append(f"link: https://example.org/bench/{number}")
                text += " More: {link}"
            if number % 4 == 0:
                front.append(f"hashtags: [Topic{number % 13}]")
            name = f"post-{number}.md"
        (folder / name).write_text("---\n" + "\n".join(front) + "\n---\n" + text + "\n")


def english_texts(folder: Path) -> list[str]:
    """The texts of the English posts in a generated folder, in file order."""
    texts = []
    for path in sorted(folder.glob("*.md")):
        if not path.name.endswith(".es.md"):
            texts.append(path.read_text(encoding="utf-8").split("\n---\n", 1)[-1].strip())
    return texts


@dataclass(frozen=True)
class Likeness:
    posts: int
    closest_mean: float  # mean over posts of the similarity to their closest neighbour
    closest_p90: float  # its 90th percentile
    shared_pairs: float  # share of word-pair occurrences in pairs 3 or more posts hold

    def row(self, name: str) -> list[str]:
        return [
            name,
            str(self.posts),
            f"{self.closest_mean:.3f}",
            f"{self.closest_p90:.3f}",
            f"{self.shared_pairs:.1%}",
        ]

    def at_least(self, other: Likeness) -> bool:
        return (
            self.closest_mean >= other.closest_mean
            and self.closest_p90 >= other.closest_p90
            and self.shared_pairs >= other.shared_pairs
        )


def likeness(texts: list[str]) -> Likeness:
    """How alike a few dozen posts are (every pair is compared: keep it small)."""
    from amplifier.guards.similarity import Comparable, _similarity

    items = [Comparable.of(text) for text in texts]
    closest = sorted(
        max(_similarity(a, b) for j, b in enumerate(items) if j != i) for i, a in enumerate(items)
    )
    holders = Counter(pair for item in items for pair in item.shingles)
    occurrences = sum(holders.values())
    shared = sum(count for count in holders.values() if count >= 3)
    return Likeness(
        posts=len(items),
        closest_mean=statistics.mean(closest),
        closest_p90=closest[round(0.9 * (len(closest) - 1))],
        shared_pairs=shared / occurrences,
    )


def sample_of(texts: list[str], size: int, seed: int = 1) -> list[str]:
    """``size`` texts picked at random (without the edited copies' help: none is picked twice)."""
    return random.Random(seed).sample(texts, min(size, len(texts)))
