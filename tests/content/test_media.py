"""Issue 13.3: images checked from their bytes against each network's limits, at check time.

A text file named ``poster.png``, an image too big or too large for a network it goes to, and a
path that leads outside the posts folder (``../``, a symlink) are each an error at the line of
the media entry, never a surprise at send time.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from amplifier.config import DEFAULT_LIMITS, DEFAULT_MEDIA_LIMITS, MediaLimits
from amplifier.content import load_library
from amplifier.content.media import media_refusal, read_image, sniff
from amplifier.networks.base import MediaItem
from amplifier.networks.mastodon_limits import limits_from_answer
from amplifier.networks.mastodon_media import DEFAULT_VIDEO_BYTES
from amplifier.networks.x_media import GIF_TYPES, MAX_GIF_BYTES, MAX_VIDEO_BYTES, VIDEO_TYPES
from amplifier.testing import images
from amplifier.testing.images import write

MB = 1024 * 1024
CASSETTES = Path(__file__).resolve().parents[1] / "cassettes"


def post(folder: Path, files: list[str], *, networks: str = "[x, mastodon, bluesky]") -> Path:
    """A post with one media entry per file; its entries start at line 8."""
    entries = "".join(f"  - file: {name}\n    alt: A poster\n" for name in files)
    text = (
        "---\nid: poster\ncampaign: fbt\nlanguage: en\nsource: the campaign's toolkit\n"
        f"networks: {networks}\nmedia:\n{entries}---\nFamilies belong together.\n"
    )
    return write(folder / "poster.md", text.encode())


def problems_of(folder: Path) -> list[tuple[int | None, str]]:
    library = load_library(folder, campaigns=["fbt"], limits=DEFAULT_LIMITS)
    return [(p.line, p.message) for p in library.problems]


def _text(folder: Path) -> str:
    write(folder / "poster.png", b"Families belong together\n")
    return "poster.png"


def _misnamed(folder: Path) -> str:
    write(folder / "poster.jpg", images.png())
    return "poster.jpg"


def _sized(size: int) -> object:
    def make(folder: Path) -> str:
        write(folder / "poster.png", images.png(size=size))
        return "poster.png"

    return make


def _shaped(name: str, data: bytes) -> object:
    def make(folder: Path) -> str:
        write(folder / name, data)
        return name

    return make


def _outside(folder: Path) -> str:
    return "../../../etc/hostname"


def _symlink_out(folder: Path) -> str:
    target = write(folder.parent / "elsewhere" / "secret.png", images.png())
    (folder / "linked.png").symlink_to(target)
    return "linked.png"


def _symlink_loop(folder: Path) -> str:
    (folder / "loop.png").symlink_to(folder / "loop.png")
    return "loop.png"


def _missing(folder: Path) -> str:
    return "images/nowhere.png"


def _folder(folder: Path) -> str:
    (folder / "folder.png").mkdir()
    return "folder.png"


BAD = {
    "text named .png": ([_text], "[x, mastodon, bluesky]", "is not a PNG, JPEG, GIF or WebP"),
    "png named .jpg": ([_misnamed], "[bluesky]", "is a PNG image: name it with .png"),
    "6 MB for bluesky": ([_sized(6 * MB)], "[bluesky]", "at most 1,000,000 bytes"),
    "6 MB for x": ([_sized(6 * MB)], "[x]", "x takes images of at most 5.0 MB"),
    "17 MB for mastodon": ([_sized(17 * MB)], "[mastodon]", "at most 16.0 MB"),
    "1.5 MB names bluesky": ([_sized(3 * MB // 2)], "[x, mastodon, bluesky]", "bluesky takes"),
    "outside the folder": ([_outside], "[x]", "is outside the posts folder"),
    "symlink out": ([_symlink_out], "[x]", "is outside the posts folder"),
    "symlink loop": ([_symlink_loop], "[x]", "symlink loop"),
    "missing": ([_missing], "[x]", "'images/nowhere.png' not found next to this post"),
    "a folder": ([_folder], "[x]", "is not a file"),
    "too small for x": ([_shaped("tiny.png", images.png(3, 3))], "[x]", "at least 4 each way"),
    "too wide for x": ([_shaped("wide.png", images.png(9000, 4))], "[x]", "at most 8192"),
    "too many pixels": (
        [_shaped("big.png", images.png(6000, 6000))], "[mastodon]", "at most 33,177,600 pixels"
    ),
    "gif of 351 frames on x": (
        [_shaped("long.gif", images.gif(frames=351))], "[x]", "x takes GIFs of at most 350"
    ),
    "mov on bluesky": (
        [_shaped("clip.mov", images.mp4(5, mov=True))], "[x, bluesky]",
        "bluesky takes MP4 videos, not MOV",
    ),
    "video too long for bluesky": (
        [_shaped("clip.mp4", images.mp4(181))], "[bluesky]", "bluesky takes videos of at most 180 s"
    ),
    "video too long for x": ([_shaped("clip.mp4", images.mp4(141))], "[x]", "at most 140 s"),
    "video too short for x": ([_shaped("clip.mov", images.mp4(0.3, mov=True))], "[x]",
                              "x takes videos of at least 0.5 s"),
    "mov named .mp4": ([_shaped("clip.mp4", images.mp4(3, mov=True))], "[mastodon]",
                       "is a MOV video: name it with .mov"),
    "video without a length": ([_shaped("clip.mp4", images.mp4(3)[:24])], "[mastodon]",
                               "its length cannot be read"),
    "no pixels": ([_shaped("empty.png", images.png(0, 5))], "[bluesky]", "at least one pixel"),
    "truncated": ([_shaped("cut.png", images.png()[:14])], "[bluesky]", "is not a PNG, JPEG"),
}  # fmt: skip


@pytest.mark.parametrize("case", BAD, ids=list(BAD))
def test_bad_media_reported_at_the_file_entry(tmp_path: Path, case: str) -> None:
    """Each bad image is one error (no traceback) at its media entry's line (8), saying what
    is wrong and for which network; the post is not published."""
    makers, networks, expected = BAD[case]
    folder = tmp_path / "posts"
    folder.mkdir()
    names = [make(folder) for make in makers]  # type: ignore[operator]
    post(folder, names, networks=networks)
    found = problems_of(folder)
    assert any(line == 8 and expected in message for line, message in found), found
    library = load_library(folder, campaigns=["fbt"], limits=DEFAULT_LIMITS)
    assert library.originals == {}


def test_too_many_images_reported_at_the_media_line(tmp_path: Path) -> None:
    """Five images for networks taking four: one error per network at the 'media:' line."""
    folder = tmp_path / "posts"
    names = [write(folder / f"p{i}.png", images.png()).name for i in range(5)]
    post(folder, names, networks="[x, bluesky]")
    found = problems_of(folder)
    assert (7, "5 images; x takes at most 4 per post") in found
    assert (7, "5 images; bluesky takes at most 4 per post") in found


def test_good_images_of_every_format_load(tmp_path: Path) -> None:
    """A PNG, a JPEG, a still GIF and a WebP within every limit: no problem, the post loads
    (the GIF goes only where GIFs are taken)."""
    folder = tmp_path / "posts"
    names = [
        write(folder / "a.png", images.png(1200, 675)).name,
        write(folder / "b.jpeg", images.jpeg(1080, 1080, size=900_000)).name,
        write(folder / "images" / "c.webp", images.webp(800, 600)).parent.name + "/c.webp",
    ]
    post(folder, names)
    write(folder / "still.gif", images.gif(40, 40))
    second = post(folder / "gifs", ["../still.gif"], networks="[mastodon, bluesky]")
    second.write_text(second.read_text().replace("id: poster", "id: still"))
    library = load_library(folder, campaigns=["fbt"], limits=DEFAULT_LIMITS)
    assert library.problems == ()
    assert sorted(library.originals) == ["poster", "still"]
    assert sniff(images.webp(3, 5, animated=True)).animated  # type: ignore[union-attr]


def test_a_jpeg_whose_header_lies_past_the_first_megabyte_is_read(tmp_path: Path) -> None:
    """A 3 MB JPEG whose size header comes after 3 MB of metadata still reads as an image
    (the whole file is read when the first megabyte holds no header)."""
    path = write(tmp_path / "photo.jpg", images.jpeg(2000, 1000, size=3 * MB))
    assert read_image(path, DEFAULT_MEDIA_LIMITS["mastodon"], "mastodon") is None
    assert read_image(path, DEFAULT_MEDIA_LIMITS["x"], "x") is None


def test_adapters_limits_agree_with_the_checks() -> None:
    """What the check refuses is what the adapters refuse: the same sizes, counts and types."""
    from amplifier.content import parse
    from amplifier.networks import bluesky, bluesky_media, x

    assert DEFAULT_MEDIA_LIMITS["x"].max_bytes == x.MAX_IMAGE_BYTES
    assert DEFAULT_MEDIA_LIMITS["x"].max_images == x.MAX_IMAGES
    assert set(DEFAULT_MEDIA_LIMITS["x"].types) == {*x.IMAGE_TYPES.values(), *GIF_TYPES.values()}
    assert set(DEFAULT_MEDIA_LIMITS["x"].video_types) == set(VIDEO_TYPES.values())
    assert DEFAULT_MEDIA_LIMITS["x"].max_video_bytes == MAX_VIDEO_BYTES
    assert DEFAULT_MEDIA_LIMITS["x"].max_gif_bytes == MAX_GIF_BYTES
    assert parse.MAX_ALT_TEXT <= x.MAX_ALT_TEXT
    assert DEFAULT_MEDIA_LIMITS["bluesky"].max_bytes == bluesky.MAX_IMAGE_BYTES
    assert DEFAULT_MEDIA_LIMITS["bluesky"].max_images == bluesky_media.MAX_IMAGES
    for limits in DEFAULT_MEDIA_LIMITS.values():
        assert all(kind.startswith("image/") for kind in limits.types)
    # Mastodon's adapter follows the server; the default is what a stock server publishes
    # (the recorded answer of a real Mastodon 4.6.4).
    cassette = yaml.safe_load((CASSETTES / "mastodon" / "test_instance.yaml").read_text())
    (answer,) = [
        json.loads(i["response"]["body"]["string"])
        for i in cassette["interactions"]
        if "/api/v2/instance" in i["request"]["uri"]
    ]
    stock = limits_from_answer(answer, "v2")
    mastodon = DEFAULT_MEDIA_LIMITS["mastodon"]
    assert (stock.image_size_limit, stock.image_matrix_limit, stock.max_media_attachments) == (
        mastodon.max_bytes, mastodon.max_pixels, mastodon.max_images,
    )  # fmt: skip
    assert set(mastodon.types) <= set(stock.supported_mime_types)
    assert stock.video_size_limit == mastodon.max_video_bytes == DEFAULT_VIDEO_BYTES
    assert set(mastodon.video_types) <= set(stock.supported_mime_types)
    assert DEFAULT_MEDIA_LIMITS["bluesky"].video_types == (bluesky_media.VIDEO_TYPE,)
    assert DEFAULT_MEDIA_LIMITS["bluesky"].max_video_bytes == bluesky_media.MAX_VIDEO_BYTES


def test_a_servers_own_media_limits_refuse_what_the_defaults_take(tmp_path: Path) -> None:
    """``media_refusal`` (the plan's check) uses the limits it is given: a 300 KB image fits
    Mastodon's default and not a server that takes 200,000 bytes, nor three images where it
    takes two."""
    image = MediaItem(write(tmp_path / "p.png", images.png(size=300_000)), "A poster")
    assert media_refusal((image,), DEFAULT_MEDIA_LIMITS["mastodon"], "mastodon") is None
    small = MediaLimits(max_bytes=200_000, max_images=2)
    assert "at most 200,000 bytes" in (media_refusal((image,), small, "mastodon") or "")
    assert "takes at most 2" in (media_refusal((image,) * 3, small, "mastodon") or "")


@settings(max_examples=300, deadline=None)
@given(
    head=st.sampled_from(
        [b"", b"\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR", b"\xff\xd8\xff", b"GIF89a",
         *(b"RIFF\x00\x00\x00\x00WEBP" + chunk for chunk in (b"VP8X", b"VP8 ", b"VP8L")),
         b"\x00\x00\x00\x18ftypisom", b"\x00\x00\x00\x14ftypqt  ", images.mp4(2)[:60]]
    ),
    rest=st.binary(max_size=300),
    suffix=st.sampled_from([".png", ".jpg", ".gif", ".webp", ".txt", ".mp4", ".mov"]),
)  # fmt: skip
def test_arbitrary_bytes_never_make_the_loader_raise(
    tmp_path_factory: pytest.TempPathFactory, head: bytes, rest: bytes, suffix: str
) -> None:
    """Whatever a file holds, reading it gives an image or a reason, never an exception."""
    data = head + rest
    sniff(data)
    path = tmp_path_factory.mktemp("bytes") / f"file{suffix}"
    path.write_bytes(data)
    for network, limits in DEFAULT_MEDIA_LIMITS.items():
        reason = read_image(path, limits, network)
        assert reason is None or isinstance(reason, str)
    os.remove(path)
