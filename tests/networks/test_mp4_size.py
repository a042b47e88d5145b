"""A video's shape from its MP4 track header, as Bluesky's embed carries it; any bytes give a
size or None, never an exception."""

from __future__ import annotations

import struct

from hypothesis import given
from hypothesis import strategies as st

from amplifier.networks.mp4_size import video_size
from amplifier.testing import images


def test_the_track_header_gives_width_and_height() -> None:
    assert video_size(images.mp4(3, width=1920, height=1080)) == (1920, 1080)
    assert video_size(images.mp4(3, width=1280, height=720, mov=True)) == (1280, 720)


def test_a_quarter_turn_shows_portrait() -> None:
    """A phone's portrait video: stored 1920x1080, turned a quarter by the matrix."""
    assert video_size(images.mp4(3, width=1920, height=1080, quarter_turn=True)) == (1080, 1920)


def test_no_track_size_is_none() -> None:
    assert video_size(images.mp4(3, width=0, height=0)) is None
    assert video_size(b"") is None
    assert video_size(b"\x00\x00\x00\x08moov") is None
    assert video_size(struct.pack(">I4s", 4, b"moov")) is None  # a size below its header


@given(st.binary(max_size=300))
def test_no_bytes_make_it_raise(data: bytes) -> None:
    found = video_size(data)
    assert found is None or (found[0] > 0 and found[1] > 0)


@given(st.integers(0, 200), st.binary(max_size=40))
def test_a_cut_file_gives_none_or_a_size(cut: int, tail: bytes) -> None:
    data = images.mp4(2, width=640, height=360)
    found = video_size(data[:cut] + tail)
    assert found is None or found == (640, 360) or (found[0] > 0 and found[1] > 0)
