"""What ``check`` says about link attribution: links that would go out untagged.

A campaign that tags its links (``attribution``) tags each post's ``link:``, where the
worker, ``preview`` and the share kit all place it. A web address written into the text
itself goes out as written, and a link that is not an http(s) address with a host cannot
carry parameters: each is a warning at its file and line, saying how to have it tagged.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from amplifier.config import Settings
from amplifier.content import Library, Template, taggable
from amplifier.errors import Problem

_WRITTEN = re.compile(r"https?://[^\s<>\"]+", re.IGNORECASE)
_TRAILING = ".,;:!?)]}'\""


def _versions(library: Library) -> Iterator[Template]:
    for original in library.originals.values():
        yield original
        yield from library.translations.get(original.id, {}).values()


def _texts(template: Template) -> Iterator[tuple[int, str]]:
    """Each text of the post with the file line it starts on."""
    yield template.body_line, template.body
    for network, variant in template.variants.items():
        # A block scalar's text begins on the line after its key (as library.py counts).
        yield template.field_lines.get(f"variants.{network}", 0) + 1, variant


def attribution_warnings(settings: Settings, library: Library) -> list[Problem]:
    """A warning per link a tagging campaign would publish untagged."""
    tagging = {name for name, campaign in settings.campaigns.items()
               if campaign.attribution != "none"}  # fmt: skip
    if not tagging:
        return []
    found: list[Problem] = []
    for template in _versions(library):
        if template.campaign not in tagging:
            continue
        if template.link is not None and not taggable(template.link):
            found.append(
                Problem(
                    template.path,
                    template.field_lines.get("link"),
                    f"link {template.link!r} cannot be tagged for attribution (not an http(s) "
                    "address with a host): it goes out as written; give a full https:// address",
                    severity="warning",
                )
            )
        for start, text in _texts(template):
            for match in _WRITTEN.finditer(text):
                url = match.group(0).rstrip(_TRAILING)
                line = start + text.count("\n", 0, match.start())
                found.append(
                    Problem(
                        template.path,
                        line,
                        f"the link {url} is written in the text, so it goes out untagged "
                        f"(campaign {template.campaign!r} tags only the post's link: setting); "
                        "move it to link: and write {link} where it goes",
                        severity="warning",
                    )
                )
    return found
