"""A post's media, checked as each network will take them: the real type, size and dimensions.

The type comes from the file's first bytes (PNG, JPEG, GIF, WebP), never from its name, and the
dimensions from its header, so a text file named ``poster.png`` or a 6 MB image for Bluesky is
refused at check time, at the line of its media entry, instead of failing at send. A path must
resolve inside the posts folder, symlinks included. Reading never raises: bytes that are not an
image are a problem to report. A video (MP4, MOV) or a GIF is handed to ``video`` for its own
rules (length, frames, a GIF's size, a video alone in its post). ``media_refusal`` is the same
check against one account's limits (a Mastodon server's own), for the plan.
"""

from __future__ import annotations

import struct
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from amplifier.config import GIF, JPEG, PNG, WEBP, MediaLimits
from amplifier.content.templates import Template
from amplifier.content.video import alone_refusal, read_gif, read_video, sniff_video
from amplifier.errors import Problem
from amplifier.networks.base import NETWORK_NAMES, MediaItem, NetworkName

NAMES = {PNG: "PNG", JPEG: "JPEG", GIF: "GIF", WEBP: "WebP"}
SUFFIXES = {".png": PNG, ".jpg": JPEG, ".jpeg": JPEG, ".gif": GIF, ".webp": WEBP}
HEADER_BYTES = 1024 * 1024  # read first; the whole file only when its header lies beyond
_JPEG_SIZES = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}


@dataclass(frozen=True)
class ImageInfo:
    """What an image file's bytes say it is."""

    kind: str  # a MIME type of NAMES
    width: int
    height: int
    animated: bool = False


def sniff(data: bytes) -> ImageInfo | None:
    """The image ``data`` holds, from its header; None for anything else. Never raises."""
    try:
        if data.startswith(b"\x89PNG\r\n\x1a\n") and data[12:16] == b"IHDR":
            width, height = struct.unpack(">II", data[16:24])
            return ImageInfo(PNG, width, height, b"acTL" in data[:4096])
        if data.startswith(b"\xff\xd8\xff"):
            return _jpeg(data)
        if data[:6] in (b"GIF87a", b"GIF89a") and len(data) >= 10:
            width, height = struct.unpack("<HH", data[6:10])
            return ImageInfo(GIF, width, height, _gif_frames(data) > 1)
        if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
            return _webp(data)
    except (struct.error, IndexError, ValueError):
        return None
    return None


def _jpeg(data: bytes) -> ImageInfo | None:
    at = 2
    while at + 4 <= len(data):
        if data[at] != 0xFF:
            return None
        marker = data[at + 1]
        if marker == 0xFF:  # fill byte
            at += 1
            continue
        if marker in (0x01, *range(0xD0, 0xDA)):  # no length
            at += 2
            continue
        (length,) = struct.unpack(">H", data[at + 2 : at + 4])
        if marker in _JPEG_SIZES:
            height, width = struct.unpack(">HH", data[at + 5 : at + 9])
            return ImageInfo(JPEG, width, height)
        if length < 2:
            return None
        at += 2 + length
    return None


def _gif_frames(data: bytes) -> int:
    """How many images a GIF holds (counted up to 2: one is a still), walking its blocks."""
    at = 13 + (3 * 2 ** ((data[10] & 7) + 1) if data[10] & 0x80 else 0)
    frames = 0
    while at < len(data) and frames < 2:
        block = data[at]
        if block == 0x3B:  # trailer
            break
        if block == 0x21:  # extension: label, then sub-blocks
            at = _skip_sub_blocks(data, at + 2)
        elif block == 0x2C:  # image: descriptor, local colours, LZW size, sub-blocks
            frames += 1
            flags = data[at + 9]
            at += 10 + (3 * 2 ** ((flags & 7) + 1) if flags & 0x80 else 0)
            at = _skip_sub_blocks(data, at + 1)
        else:
            break
    return frames


def _skip_sub_blocks(data: bytes, at: int) -> int:
    while at < len(data) and data[at]:
        at += data[at] + 1
    return at + 1


def _webp(data: bytes) -> ImageInfo | None:
    chunk = data[12:16]
    if chunk == b"VP8 " and data[23:26] == b"\x9d\x01\x2a":
        width, height = struct.unpack("<HH", data[26:30])
        return ImageInfo(WEBP, width & 0x3FFF, height & 0x3FFF)
    if chunk == b"VP8L" and data[20] == 0x2F:
        (bits,) = struct.unpack("<I", data[21:25])
        return ImageInfo(WEBP, (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1)
    if chunk == b"VP8X":
        width = int.from_bytes(data[24:27], "little") + 1
        height = int.from_bytes(data[27:30], "little") + 1
        return ImageInfo(WEBP, width, height, bool(data[20] & 0x02))
    return None


def read_image(path: Path, limits: MediaLimits, network: str) -> str | None:
    """Why ``network`` (with ``limits``) would refuse the image at ``path``; None if it takes it.

    Never raises: a missing, unreadable or non-image file is a reason like any other."""
    name = path.name
    try:
        size = path.stat().st_size
        if not path.is_file():
            return f"media file {name!r} is not a file"
        with path.open("rb") as handle:
            data = handle.read(HEADER_BYTES)
            video = sniff_video(data)
            if video is not None:
                return read_video(path, size, video, limits, network)
            is_gif = data[:6] in (b"GIF87a", b"GIF89a")
            if is_gif and (gif := read_gif(path, size, limits, network)) is not None:
                return gif
            if size > limits.max_bytes and not (is_gif and GIF in limits.types):
                return (
                    f"{name} is {_size(size)}; {network} takes images of at most "
                    f"{_size(limits.max_bytes)}: shrink or compress it"
                )
            info = sniff(data)
            if info is None and len(data) == HEADER_BYTES:  # a JPEG with a large preamble
                data += handle.read(limits.max_bytes + 1 - HEADER_BYTES)
                info = sniff(data)
    except OSError:
        return f"media file {name!r} not found next to this post (or unreadable)"
    if info is None:
        holds = "it holds text" if _is_text(data[:256]) else "its bytes are no image's"
        return f"{name} is not a PNG, JPEG, GIF or WebP image, nor an MP4 or MOV video ({holds})"
    said = SUFFIXES.get(path.suffix.lower())
    if said != info.kind:
        right = next(s for s, kind in SUFFIXES.items() if kind == info.kind)
        return f"{name} is a {NAMES[info.kind]} image: name it with {right} so it is sent as one"
    if info.kind not in limits.types:
        taken = ", ".join(NAMES[kind] for kind in limits.types)
        return f"{name}: {network} takes {taken} images, not {NAMES[info.kind]}"
    if info.animated and info.kind == GIF and not limits.animated_gif:
        return f"{name} is an animated GIF; {network} takes still images only here"
    return _dimensions(name, info, limits, network)


def _dimensions(name: str, info: ImageInfo, limits: MediaLimits, network: str) -> str | None:
    shape = f"{info.width}x{info.height} pixels"
    if info.width < 1 or info.height < 1:
        return f"{name} is {shape}: an image needs at least one pixel each way"
    if limits.min_side and min(info.width, info.height) < limits.min_side:
        return f"{name} is {shape}; {network} needs at least {limits.min_side} each way"
    if limits.max_side and max(info.width, info.height) > limits.max_side:
        return f"{name} is {shape}; {network} takes at most {limits.max_side} each way"
    if limits.max_pixels and info.width * info.height > limits.max_pixels:
        return (
            f"{name} is {shape} ({info.width * info.height:,}); {network} takes at most "
            f"{limits.max_pixels:,} pixels: scale it down"
        )
    return None


def media_refusal(media: tuple[MediaItem, ...], limits: MediaLimits, network: str) -> str | None:
    """Why an account with ``limits`` would refuse these images; None if it takes them all."""
    if len(media) > limits.max_images:
        return f"{len(media)} images; {network} takes at most {limits.max_images} here"
    alone = alone_refusal([item.path for item in media], limits, network)
    if alone is not None:
        return alone
    for item in media:
        reason = read_image(item.path, limits, network)
        if reason is not None:
            return reason
    return None


def media_problems(
    template: Template, folder: Path, limits: Mapping[NetworkName, MediaLimits]
) -> list[Problem]:
    """Each image of ``template`` against every network it goes to, at its media entry's line.

    A path outside ``folder`` (after following symlinks) is refused before it is read."""
    if not template.media:
        return []
    lines = template.field_lines
    problems: list[Problem] = []
    networks = [n for n in NETWORK_NAMES if n in template.networks]
    for network in networks:
        most = limits[network].max_images
        if len(template.media) > most:
            message = f"{len(template.media)} images; {network} takes at most {most} per post"
            problems.append(Problem(template.path, lines.get("media"), message))
    root = folder.resolve()
    readable = [item.path for item in template.media if _inside(item.path, root)]
    alone_reasons: dict[str, list[str]] = {}
    for network in networks:
        alone = alone_refusal(readable, limits[network], network)
        if alone is not None:
            alone_reasons.setdefault(alone, []).append(network)
    for alone in alone_reasons:
        problems.append(Problem(template.path, lines.get("media"), alone))
    for index, item in enumerate(template.media):
        line = lines.get(f"media.{index}", lines.get("media"))
        written = _written(item.path, template.path)
        try:
            inside = item.path.resolve().is_relative_to(root)
        except (OSError, RuntimeError):  # a symlink loop
            problems.append(
                Problem(template.path, line, f"media file {written!r} is a symlink loop")
            )
            continue
        if not inside:
            message = (
                f"media file {written!r} is outside the posts folder ({folder}), or a symlink "
                "to a place outside it; keep images inside the posts folder"
            )
            problems.append(Problem(template.path, line, message))
            continue
        if not item.path.exists():
            message = f"media file {written!r} not found next to this post"
            problems.append(Problem(template.path, line, message))
            continue
        reasons: dict[str, list[str]] = {}
        for network in networks:
            reason = read_image(item.path, limits[network], network)
            if reason is not None:
                reasons.setdefault(reason, []).append(network)
        for reason in reasons:
            problems.append(Problem(template.path, line, reason))
    return problems


def _inside(path: Path, root: Path) -> bool:
    try:
        return path.resolve().is_relative_to(root) and path.is_file()
    except (OSError, RuntimeError):
        return False


def _is_text(data: bytes) -> bool:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return bool(text) and all(char.isprintable() or char.isspace() for char in text)


def _written(path: Path, post: Path) -> str:
    try:
        return str(path.relative_to(post.parent))
    except ValueError:
        return str(path)


def _size(size: int) -> str:
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):.1f} MB ({size:,} bytes)"
    return f"{size:,} bytes"
