"""The history rows' own escaping is markupsafe's, value for value."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from markupsafe import escape

from amplifier.web.tables import escape_text


@given(st.text())
def test_escape_text_is_markupsafes_escape(value: str) -> None:
    assert escape_text(value) == str(escape(value))


def test_escape_text_escapes_every_special_character() -> None:
    assert escape_text("<a href=\"x\" title='y'>&amp;</a>") == (
        "&lt;a href=&#34;x&#34; title=&#39;y&#39;&gt;&amp;amp;&lt;/a&gt;"
    )
