"""twitter-text taken a part at a time: the same answers as the whole package, fewer imports."""

from __future__ import annotations

import random
import subprocess
import sys

from amplifier.content.emoji_markers import (
    MARKER_RANGES,
    SOURCE_DIGEST,
    derived_markers,
    emoji_markers,
    source_digest,
)
from amplifier.content.twittertext import extract_urls_with_indices, may_hold_url, part

from .test_length import SECTIONS, _random_texts

# Pieces that put dots, protocols and domains next to everything else.
_URL_PIECES = (
    "example.com",
    "www.aclu.org",
    "https://",
    "http://",
    "t.co/x",
    ".",
    "..",
    ". ",
    "a.b",
    "U.S.",
    "3.5",
    "x.y.z",
    ".org",
    "co.uk",
    "niños.es",
    "日本.jp",
    "\u3002",
    "\uff0e",
    "/",
    "?q=1",
    "#tag",
    "@ana",
    " ",
    "\n",
    "word",
    "Ñ",
    "xn--p1ai",
    ".xn--p1ai",
    "(",
    ")",
)


def _texts() -> list[str]:
    texts = [case["text"] for section in SECTIONS.values() for case in section if "text" in case]
    texts += _random_texts(3000, seed=11)
    rng = random.Random(12)
    texts += [
        "".join(rng.choice(_URL_PIECES) for _ in range(rng.randint(1, 12))) for _ in range(4000)
    ]
    return texts


def test_skipping_texts_without_a_dot_before_a_label_finds_what_twitter_text_finds() -> None:
    """The shortcut (no dot followed by a label: no URL) never hides a URL twitter-text's
    own extractor finds, on the conformance texts and 7,000 random ones."""
    whole = part("extract_urls").extract_urls_with_indices
    skipped = 0
    for text in _texts():
        assert extract_urls_with_indices(text) == whole(text), repr(text)
        if not may_hold_url(text):
            skipped += 1
            assert whole(text) == [], repr(text)
    assert skipped > 500  # the shortcut does answer for many texts


def test_written_emoji_markers_are_the_ones_the_pattern_holds() -> None:
    """The markers written out are those derived from the installed emoji pattern, and the
    installed files are the ones they were written for (else they would be derived live)."""
    assert source_digest() == SOURCE_DIGEST
    written = frozenset(chr(c) for start, end in MARKER_RANGES for c in range(start, end + 1))
    assert derived_markers() == written == emoji_markers()


def test_measuring_loads_only_the_parts_a_text_needs() -> None:
    """A fresh interpreter measuring emoji-free texts for X and Mastodon (links included)
    never compiles the emoji pattern or loads the tweet parser; an emoji then does, through
    the full parser; and afterwards the real package imports whole, pkg_resources too."""
    probe = (
        "import sys\n"
        "from amplifier.content.length import x_length, mastodon_length\n"
        "print(x_length('Families belong together. https://example.org/reunite'))\n"
        "print(mastodon_length('Families belong together. https://example.org/reunite'))\n"
        "print(x_length('no link here. none at all'))\n"
        "loaded = lambda name: f'twitter_text.{name}' in sys.modules\n"
        "print(loaded('regexp.emoji'), loaded('parse_tweet'))\n"
        "print(x_length('\\U0001F44D\\U0001F3FD ok'))\n"
        "print('twitter_text.regexp.emoji' in sys.modules, 'pkg_resources' in sys.modules)\n"
        "import twitter_text, pkg_resources\n"
        "print(callable(twitter_text.parse_tweet), hasattr(pkg_resources, 'working_set'))\n"
    )
    result = subprocess.run(
        [sys.executable, "-W", "ignore", "-c", probe], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "49",
        "49",
        "25",
        "False",
        "False",
        "5",
        "True",
        "False",
        "True",
        "True",
    ]


def test_weight_bound_is_never_below_parse_tweets_count() -> None:
    """The bound render uses to skip the exact count on X is at least parse_tweet's weighted
    length on every text it answers for (conformance texts, random ones full of dots and
    URLs), and it answers for most of them."""
    from amplifier.content.twittertext import defaults, parse_tweet
    from amplifier.content.xweight import weight_bound

    answered = 0
    texts = _texts()
    for url_length in (23, 30):
        options = {**defaults(), "transformed_url_length": url_length}
        for text in texts:
            bound = weight_bound(text, options)
            if bound is None:
                continue
            answered += 1
            assert bound >= parse_tweet(text, options).weightedLength, repr(text)
    assert answered > len(texts)


def test_rendering_for_x_a_text_that_surely_fits_needs_no_url_search() -> None:
    """render on X of a short text with a link: it fits by the bound, so twitter-text's URL
    patterns stay unloaded until the exact length is asked for (then it is exact)."""
    probe = (
        "import sys\n"
        "from amplifier.config import DEFAULT_LIMITS\n"
        "from amplifier.content import render\n"
        "post = render('Families belong together.', network='x', limits=DEFAULT_LIMITS['x'],\n"
        "              link='https://example.org/reunite', hashtags=['#KeepFamiliesTogether'])\n"
        "print('twitter_text.extract_urls' in sys.modules)\n"
        "print(post.length, 'twitter_text.extract_urls' in sys.modules)\n"
    )
    result = subprocess.run(
        [sys.executable, "-W", "ignore", "-c", probe], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", "72", "True"]


def test_mastodon_bound_is_never_below_mastodons_count() -> None:
    """The Mastodon bound is at least the exact count, on the conformance texts and random
    ones full of protocols, domains and mentions."""
    from amplifier.content.length import mastodon_length, mastodon_length_bound

    rng = random.Random(13)
    pieces = (*_URL_PIECES, "dat://", "ssb://x.co", "dat://t.co", "@ana@example.org", "e\u0301")
    texts = _texts()
    texts += ["".join(rng.choice(pieces) for _ in range(rng.randint(1, 12))) for _ in range(3000)]
    for url_length in (5, 23, 40):
        for text in texts:
            exact = mastodon_length(text, url_length)
            assert mastodon_length_bound(text, url_length) >= exact, repr(text)


def test_rendering_for_mastodon_a_text_that_surely_fits_compiles_no_url_pattern() -> None:
    """render on Mastodon of a text with a link that fits by the bound compiles neither
    Mastodon's URL pattern nor twitter-text's domain patterns until the length is asked."""
    probe = (
        "import sys\n"
        "from amplifier.config import DEFAULT_LIMITS\n"
        "from amplifier.content import render\n"
        "from amplifier.content.length import mastodon_url\n"
        "post = render('Families belong together.', network='mastodon',\n"
        "              limits=DEFAULT_LIMITS['mastodon'], link='https://example.org/reunite',\n"
        "              hashtags=['#KeepFamiliesTogether'])\n"
        "domain = 'twitter_text.regexp.valid_domain' in sys.modules\n"
        "print(mastodon_url.cache_info().currsize, domain)\n"
        "print(post.length, mastodon_url.cache_info().currsize)\n"
    )
    result = subprocess.run(
        [sys.executable, "-W", "ignore", "-c", probe], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["0", "False", "72", "1"]
