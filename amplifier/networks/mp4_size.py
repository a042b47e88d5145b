"""A video's width and height as players show it, read from its MP4 track header (``tkhd``).

Bluesky lays a video out by the ``aspectRatio`` its embed carries, and a phone's portrait
video is usually stored landscape with a rotation in the track's matrix, so the matrix is
read too: a quarter turn swaps width and height. Only box headers are read; nothing raises
on a file's contents (None when no video track says its size).
"""

from __future__ import annotations

import struct

_CONTAINERS = {b"moov", b"trak"}


def video_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) of the first track whose header gives a size; None if none does."""
    return _search(data, 0, len(data), depth=0)


def _search(data: bytes, start: int, end: int, depth: int) -> tuple[int, int] | None:
    offset = start
    while depth <= 2 and offset + 8 <= end:
        size, kind = struct.unpack_from(">I4s", data, offset)
        header = 8
        if size == 1 and offset + 16 <= end:  # a 64-bit size follows the type
            size, header = struct.unpack_from(">Q", data, offset + 8)[0], 16
        elif size == 0:  # the box runs to the end of the file
            size = end - offset
        if size < header or offset + size > end:
            return None
        body, stop = offset + header, offset + size
        if kind in _CONTAINERS:
            found = _search(data, body, stop, depth + 1)
            if found is not None:
                return found
        elif kind == b"tkhd":
            found = _track_size(data[body:stop])
            if found is not None:
                return found
        offset = stop
    return None


def _track_size(tkhd: bytes) -> tuple[int, int] | None:
    # version 1 carries 64-bit times: 12 more bytes before the matrix
    matrix_at = 40 if tkhd[:1] == b"\x00" else 52
    if len(tkhd) < matrix_at + 44:
        return None
    a, b = struct.unpack_from(">ii", tkhd, matrix_at)
    width, height = struct.unpack_from(">II", tkhd, matrix_at + 36)
    width, height = width >> 16, height >> 16
    if width == 0 or height == 0:
        return None  # a sound track
    return (height, width) if a == 0 and b != 0 else (width, height)
