"""A post whose content warning speaks of deaths or detention conditions, not marked sensitive.

A content warning is Mastodon's alone: Bluesky takes only fixed self-labels, and X has no
per-post mark. ``sensitive: true`` is what labels the post ``graphic-media`` on Bluesky (its
images and its link card's picture blurred until tapped) and marks its media sensitive on
Mastodon, so ``check`` suggests it where the warning says the subject calls for it.
"""

from __future__ import annotations

import re

from amplifier.content import Library
from amplifier.errors import Problem

# Deaths, and conditions in detention, in the campaign's two languages.
GRAPHIC_SUBJECTS = re.compile(
    r"\b(deaths?|died|dying|dead|killed|suicides?|muertes?|muri\w*|fallec\w*|"
    r"detention conditions|conditions (?:of|in) detention|condiciones de detenci[oó]n)\b",
    re.IGNORECASE,
)


def sensitive_warnings(library: Library) -> list[Problem]:
    """A warning at each content warning that names a graphic subject, unless marked."""
    templates = [*library.originals.values()]
    templates += [t for versions in library.translations.values() for t in versions.values()]
    problems = []
    for template in templates:
        warning = template.content_warning or ""
        found = GRAPHIC_SUBJECTS.search(warning)
        if found is None or template.sensitive:
            continue
        message = (
            f"the content warning speaks of {found.group(0)!r}: add 'sensitive: true' so "
            "Bluesky labels the post graphic-media (the content warning is not sent there) "
            "and Mastodon hides its media until clicked"
        )
        line = template.field_lines.get("content_warning")
        problems.append(Problem(template.path, line, message, severity="warning"))
    return problems
