"""A post's videos and GIFs, checked as each network will take them: type, size, length, frames.

A video is known from its bytes, never its name: an ISO base media file opens with an ``ftyp``
box, whose brand ``qt  `` marks a QuickTime MOV and anything else an MP4. Its length is read
by mutagen from the ``moov`` box (the movie header's duration), its frames never decoded. A
GIF's frames are counted by Pillow. Nothing here raises on a file's contents: a video whose
length cannot be read is a reason to report like any other, so ``check`` names it at the line
of its media entry instead of the network refusing it at send.
"""

from __future__ import annotations

from pathlib import Path

from amplifier.config import GIF, MOV, MP4, MediaLimits

VIDEO_NAMES = {MP4: "MP4", MOV: "MOV"}
# Named as every network's upload reads the type from the name (Mastodon.py by mimetypes).
VIDEO_SUFFIXES = {".mp4": MP4, ".mov": MOV}
# Media a network may want alone in its post: "video" always, "gif" where ``gif_alone``.
Kind = str  # "video", "gif", "image" or "unknown"


def sniff_video(data: bytes) -> str | None:
    """MP4 or MOV when ``data`` opens an ISO base media file; None for anything else."""
    if len(data) < 12 or data[4:8] != b"ftyp":
        return None
    return MOV if data[8:12] == b"qt  " else MP4


def video_seconds(path: Path) -> float | None:
    """The video's length in seconds from its movie header; None when it cannot be read."""
    from mutagen.mp4 import MP4 as MP4File

    try:
        length = getattr(MP4File(path).info, "length", None)  # type: ignore[no-untyped-call]
    except Exception:  # a third-party parser over any bytes: every failure means "unreadable"
        return None
    return float(length) if isinstance(length, int | float) and length > 0 else None


def gif_frames(path: Path) -> int | None:
    """How many frames the GIF at ``path`` holds (Pillow); None when it cannot be read."""
    from PIL import Image

    try:
        with Image.open(path) as image:
            return int(getattr(image, "n_frames", 1))
    except Exception:  # Pillow over any bytes, as above
        return None


def media_kind(path: Path) -> Kind:
    """What the file at ``path`` holds, from its first bytes; "unknown" when unreadable."""
    try:
        with path.open("rb") as handle:
            head = handle.read(16)
    except OSError:
        return "unknown"
    if sniff_video(head) is not None:
        return "video"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "gif"
    return "image"


def alone_refusal(paths: list[Path], limits: MediaLimits, network: str) -> str | None:
    """Why ``network`` refuses this set of media for a video or GIF that must go alone."""
    if len(paths) < 2:
        return None
    for path in paths:
        kind = media_kind(path)
        if kind == "video" and limits.video_types:
            return f"{path.name} is a video; {network} takes a video alone, with no other media"
        if kind == "gif" and limits.gif_alone:
            return f"{path.name} is a GIF; {network} takes a GIF alone, with no other media"
    return None


def read_video(path: Path, size: int, kind: str, limits: MediaLimits, network: str) -> str | None:
    """Why ``network`` would refuse the ``kind`` video at ``path``; None if it takes it."""
    name = path.name
    if not limits.video_types:
        return (
            f"{name} is a video; {network} takes no video from amplifier: leave {network} out "
            "of this post's 'networks' (a post of its own with an image can go there), or "
            "post the video on it by hand"
        )
    said = VIDEO_SUFFIXES.get(path.suffix.lower())
    if said != kind:
        right = next(suffix for suffix, named in VIDEO_SUFFIXES.items() if named == kind)
        return f"{name} is a {VIDEO_NAMES[kind]} video: name it with {right} so it is sent as one"
    if kind not in limits.video_types:
        taken = ", ".join(VIDEO_NAMES[known] for known in limits.video_types)
        how = ": export it again as MP4 (H.264 video, AAC sound)"
        how = how if MP4 in limits.video_types else ""
        return f"{name}: {network} takes {taken} videos, not {VIDEO_NAMES[kind]}{how}"
    if size > limits.max_video_bytes:
        return (
            f"{name} is {size_words(size)}; {network} takes videos of at most "
            f"{size_words(limits.max_video_bytes)}: shorten or compress it"
        )
    seconds = video_seconds(path)
    if seconds is None:
        return (
            f"{name}: its length cannot be read (no movie header): export it again as MP4 "
            "(H.264 video, AAC sound)"
        )
    if seconds < limits.min_video_seconds:
        return f"{name} lasts {seconds:g} s; {network} takes videos of at least " + (
            f"{limits.min_video_seconds:g} s"
        )
    most = limits.max_video_seconds
    if most is not None and seconds > most:
        return f"{name} lasts {seconds:g} s; {network} takes videos of at most {most:g} s: cut it"
    return None


def read_gif(path: Path, size: int, limits: MediaLimits, network: str) -> str | None:
    """A GIF's own caps on ``network`` (size and frames), where it has them."""
    if GIF not in limits.types:
        return None  # the image check names the type
    cap = limits.max_gif_bytes or limits.max_bytes
    if size > cap:
        return (
            f"{path.name} is {size_words(size)}; {network} takes GIFs of at most "
            f"{size_words(cap)}: shorten or compress it"
        )
    most = limits.max_gif_frames
    if most is not None:
        frames = gif_frames(path)
        if frames is not None and frames > most:
            return f"{path.name} has {frames} frames; {network} takes GIFs of at most {most}"
    return None


def size_words(size: int) -> str:
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):.1f} MB ({size:,} bytes)"
    return f"{size:,} bytes"
