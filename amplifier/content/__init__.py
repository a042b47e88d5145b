"""Content: the post files, and the exact text each network receives (load and render).

``load_library`` reads the posts folder into a ``Library`` of ``Template``s, every problem at
its file and line; ``render`` turns a template's text into one network's post (link placed,
hashtags fitted, never cut), measured the way that network measures (X's weighting through
twitter-text, Mastodon's URL and mention rules, Bluesky's graphemes and bytes).

Modules: folder.py (walking the folder), frontmatter.py and yaml_errors.py (the settings,
read without raising, mistakes explained), parse.py (one file), library.py (the library),
templates.py (Template, Library), attribution.py (each link tagged as its campaign says,
the same for the worker, preview and the kit), rendering.py (placeholders, hashtags), threads.py (a
post in parts, each rendered and measured),
versions.py (one
post in versions differing in their last tags, for the share kit), media.py (images:
type, size, dimensions), length.py
(per-network length), xweight.py and twittertext.py (X's counting).
"""

from __future__ import annotations

from amplifier.content.attribution import Medium, PostLink, post_link, tag_link, taggable
from amplifier.content.library import load_library, post_files
from amplifier.content.media import media_refusal
from amplifier.content.rendering import (
    RenderedPost,
    TooLong,
    hashtags_in,
    limits_for_post,
    render,
    with_link,
)
from amplifier.content.templates import FileResult, Library, Template
from amplifier.content.threads import (
    PART_MARKER,
    PartTooLong,
    is_thread,
    parts_with_link,
    render_parts,
    split_parts,
)
from amplifier.content.twittertext import extract_urls
from amplifier.content.versions import render_alternatives
from amplifier.content.video import media_kind

__all__ = [
    "PART_MARKER",
    "FileResult",
    "Library",
    "Medium",
    "PartTooLong",
    "PostLink",
    "RenderedPost",
    "Template",
    "TooLong",
    "extract_urls",
    "hashtags_in",
    "is_thread",
    "limits_for_post",
    "load_library",
    "media_kind",
    "media_refusal",
    "parts_with_link",
    "post_files",
    "post_link",
    "render",
    "render_alternatives",
    "render_parts",
    "split_parts",
    "tag_link",
    "taggable",
    "with_link",
]
