"""Videos and GIFs checked at load time against each network's rules, at the media entry.

The type comes from the bytes (an ``ftyp`` box), the length from the movie header (mutagen),
a GIF's frames from Pillow; a video goes alone, Bluesky takes none from amplifier, and every
problem names the post file and the line of its media entry.
"""

from __future__ import annotations

from pathlib import Path

from amplifier.config import DEFAULT_LIMITS, DEFAULT_MEDIA_LIMITS, MediaLimits
from amplifier.content import load_library
from amplifier.content.media import media_refusal
from amplifier.content.video import gif_frames, video_seconds
from amplifier.networks.base import MediaItem
from amplifier.testing import images
from amplifier.testing.images import write


def post(folder: Path, files: list[str], networks: str) -> Path:
    entries = "".join(f"  - file: {name}\n    alt: Marchers on the bridge\n" for name in files)
    text = (
        "---\nid: march\ncampaign: fbt\nlanguage: en\nsource: the campaign's toolkit\n"
        f"networks: {networks}\nmedia:\n{entries}---\nWalk with us.\n"
    )
    return write(folder / "march.md", text.encode())


def problems(folder: Path) -> list[str]:
    library = load_library(folder, campaigns=["fbt"], limits=DEFAULT_LIMITS)
    return [str(problem) for problem in library.problems]


def test_lengths_and_frames_are_read_from_the_files(tmp_path: Path) -> None:
    """mutagen reads the movie header's length (MP4 and MOV); Pillow counts a GIF's frames;
    anything unreadable is None, never an exception."""
    assert video_seconds(write(tmp_path / "a.mp4", images.mp4(12.5))) == 12.5
    assert video_seconds(write(tmp_path / "b.mov", images.mp4(1, mov=True))) == 1.0
    assert video_seconds(write(tmp_path / "c.mp4", b"\x00\x00\x00\x18ftypisom")) is None
    assert gif_frames(write(tmp_path / "d.gif", images.gif(frames=7))) == 7
    assert gif_frames(write(tmp_path / "e.gif", b"GIF89a")) is None


def test_a_good_video_loads_for_every_network(tmp_path: Path) -> None:
    """An 8-second MP4 with alt text, for X, Mastodon and Bluesky: no problem."""
    write(tmp_path / "march.mp4", images.mp4(8))
    post(tmp_path, ["march.mp4"], "[x, mastodon, bluesky]")
    assert problems(tmp_path) == []


def test_bluesky_takes_mp4_only_and_says_what_to_do(tmp_path: Path) -> None:
    """A MOV for Bluesky: one error at the media entry (line 8) naming the type it takes;
    X and Mastodon take the same file."""
    write(tmp_path / "march.mov", images.mp4(8, mov=True))
    path = post(tmp_path, ["march.mov"], "[x, mastodon, bluesky]")
    assert problems(tmp_path) == [
        f"{path}:8: march.mov: bluesky takes MP4 videos, not MOV: export it again as MP4 "
        "(H.264 video, AAC sound)"
    ]


def test_a_video_or_an_x_gif_beside_other_media_is_an_error_at_the_media_line(
    tmp_path: Path,
) -> None:
    """A video with an image: refused by X and Mastodon at 'media:' (line 7); a GIF with an
    image: refused by X only (Mastodon takes it among images)."""
    write(tmp_path / "march.mp4", images.mp4(8))
    write(tmp_path / "poster.png", images.png())
    path = post(tmp_path, ["poster.png", "march.mp4"], "[x, mastodon]")
    found = problems(tmp_path)
    assert f"{path}:7: march.mp4 is a video; x takes a video alone, with no other media" in found
    assert any(p.startswith(f"{path}:7:") and "mastodon takes a video alone" in p for p in found)
    (tmp_path / "march.mp4").unlink()
    write(tmp_path / "wave.gif", images.gif(frames=3))
    post(tmp_path, ["poster.png", "wave.gif"], "[x, mastodon]")
    assert problems(tmp_path) == [
        f"{path}:7: wave.gif is a GIF; x takes a GIF alone, with no other media"
    ]


def test_the_plans_check_uses_the_accounts_own_video_limits(tmp_path: Path) -> None:
    """media_refusal with a server's own limits: a video over its size, a server taking no
    video, and one beside an image."""
    clip = MediaItem(write(tmp_path / "c.mp4", images.mp4(3, size=3000)), "A clip")
    assert media_refusal((clip,), DEFAULT_MEDIA_LIMITS["mastodon"], "mastodon") is None
    small = MediaLimits(max_bytes=10**6, max_images=4, video_types=("video/mp4",),
                        max_video_bytes=2000)  # fmt: skip
    assert "at most 2,000 bytes" in (media_refusal((clip,), small, "mastodon") or "")
    none = MediaLimits(max_bytes=10**6, max_images=4)
    assert "takes no video" in (media_refusal((clip,), none, "mastodon") or "")
    picture = MediaItem(write(tmp_path / "p.png", images.png()), "A poster")
    both = media_refusal((picture, clip), DEFAULT_MEDIA_LIMITS["x"], "x")
    assert both == "c.mp4 is a video; x takes a video alone, with no other media"
