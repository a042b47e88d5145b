"""``render_alternatives`` gives, for each alternative, exactly what ``render`` gives for the
fixed tags followed by that alternative's: on any text, tags and network (Hypothesis)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from amplifier.config import DEFAULT_LIMITS, NetworkLimits
from amplifier.content import render, render_alternatives
from amplifier.errors import RenderError

WORDS = ["Families", "belong", "together", "家族", "👨‍👩‍👧", "#Tag", "{hashtags}", "{link}",
         "https://example.org/a", "niñas", "\n", "word"]  # fmt: skip
TAGS = st.sampled_from(
    ["Tag", "tag", "#FamiliesBelongTogether", "KeepFamiliesTogether", "家族", "A_1", "Ñandú",
     "VeryLongHashtagThatTakesRoomInThePost"]
)  # fmt: skip
texts = st.lists(st.sampled_from(WORDS), max_size=80).map(" ".join)
limits = st.sampled_from(["x", "mastodon", "bluesky"]).flatmap(
    lambda network: st.tuples(
        st.just(network),
        st.builds(
            NetworkLimits,
            max_length=st.integers(20, DEFAULT_LIMITS[network].max_length),
            url_length=st.just(DEFAULT_LIMITS[network].url_length),
            max_hashtags=st.integers(0, 4),
            max_bytes=st.just(DEFAULT_LIMITS[network].max_bytes),
        ),
    )
)


@settings(max_examples=300, deadline=None)
@given(
    texts,
    limits,
    st.sampled_from([None, "https://example.org/petition"]),
    st.lists(TAGS, max_size=4),
    st.lists(st.lists(TAGS, max_size=3), min_size=1, max_size=4),
)
def test_each_alternative_is_what_render_gives(
    text: str,
    network_limits: tuple[str, NetworkLimits],
    link: str | None,
    fixed: list[str],
    alternatives: list[list[str]],
) -> None:
    """Same texts, same tags added and skipped, or the same error."""
    network, limit = network_limits
    try:
        expected = [
            render(text, network=network, limits=limit, link=link, hashtags=[*fixed, *alt])  # type: ignore[arg-type]
            for alt in alternatives
        ]
    except RenderError as error:
        try:
            render_alternatives(
                text, network=network, limits=limit, link=link, hashtags=fixed,  # type: ignore[arg-type]
                alternatives=alternatives,
            )  # fmt: skip
        except RenderError as again:
            assert str(again) == str(error)
            return
        raise AssertionError("render raised, render_alternatives did not") from error
    found = render_alternatives(
        text, network=network, limits=limit, link=link, hashtags=fixed,  # type: ignore[arg-type]
        alternatives=alternatives,
    )  # fmt: skip
    assert found == expected
