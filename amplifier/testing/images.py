"""Tiny valid images and videos for tests: PNG, JPEG, GIF, WebP and MP4/MOV, in a few bytes.

PNGs are real (zlib-compressed rows of one colour); the JPEG, GIF and WebP are well-formed
files whose headers carry the given dimensions, which is all the media checks read. ``size``
pads a PNG or JPEG to exactly that many bytes (an ancillary chunk, a comment segment).
"""

from __future__ import annotations

import struct
import zlib
from pathlib import Path


def _chunk(kind: bytes, payload: bytes) -> bytes:
    crc = zlib.crc32(kind + payload) & 0xFFFFFFFF
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", crc)


def png(width: int = 8, height: int = 8, *, size: int | None = None) -> bytes:
    """A grey PNG of ``width`` x ``height``; ``size``: padded to exactly that many bytes."""
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    rows = zlib.compress((b"\x00" + b"\x80" * width) * height, 9)
    head = b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", rows)
    tail = _chunk(b"IEND", b"")
    if size is not None:
        pad = size - len(head) - len(tail) - 12
        if pad < 0:
            raise ValueError(f"a {width}x{height} PNG takes more than {size} bytes")
        head += _chunk(b"prVt", b"\x00" * pad)
    return head + tail


def jpeg(width: int = 8, height: int = 8, *, size: int | None = None) -> bytes:
    """A baseline JPEG header of ``width`` x ``height`` (one grey component), then EOI."""
    app0 = b"\xff\xe0" + struct.pack(">H", 16) + b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    sof = b"\xff\xc0" + struct.pack(">HBHHB", 11, 8, height, width, 1) + b"\x01\x11\x00"
    body = b"\xff\xd8" + app0
    end = sof + b"\xff\xd9"
    if size is not None:
        pad = size - len(body) - len(end)
        while pad > 0:  # comment segments: 4 to 65,535 bytes each
            piece = min(pad, 65535)
            if 0 < pad - piece < 4:
                piece -= 4
            if piece < 4:
                raise ValueError(f"cannot pad a JPEG to exactly {size} bytes")
            body += b"\xff\xfe" + struct.pack(">H", piece - 2) + b"\x00" * (piece - 4)
            pad -= piece
    return body + end


def gif(width: int = 8, height: int = 8, *, frames: int = 1) -> bytes:
    """A GIF of ``frames`` one-colour images (two or more: animated)."""
    out = b"GIF89a" + struct.pack("<HHBBB", width, height, 0x80, 0, 0) + b"\x00\x00\x00\xff\xff\xff"
    if frames > 1:  # NETSCAPE2.0: loop for ever
        out += b"\x21\xff\x0bNETSCAPE2.0\x03\x01\x00\x00\x00"
    for _ in range(frames):
        out += b"\x21\xf9\x04\x00\x0a\x00\x00\x00"  # graphic control: 0.1 s
        out += b"\x2c" + struct.pack("<HHHHB", 0, 0, width, height, 0)
        out += b"\x02\x02\x44\x01\x00"  # LZW minimum 2, one sub-block, end
    return out + b"\x3b"


def webp(width: int = 8, height: int = 8, *, animated: bool = False) -> bytes:
    """A WebP: lossless (VP8L) when still, an extended (VP8X) header when ``animated``."""
    if animated:
        canvas = (width - 1).to_bytes(3, "little") + (height - 1).to_bytes(3, "little")
        chunk = b"VP8X" + struct.pack("<I", 10) + bytes([0x02, 0, 0, 0]) + canvas
    else:
        bits = (width - 1) | ((height - 1) << 14)
        payload = b"\x2f" + struct.pack("<I", bits) + b"\x00" * 4
        chunk = b"VP8L" + struct.pack("<I", len(payload)) + payload
    return b"RIFF" + struct.pack("<I", 4 + len(chunk)) + b"WEBP" + chunk


def _box(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", 8 + len(payload)) + kind + payload


def mp4(
    seconds: float = 2.0,
    *,
    mov: bool = False,
    size: int | None = None,
    width: int = 16,
    height: int = 16,
    quarter_turn: bool = False,
) -> bytes:
    """An ISO base media file lasting ``seconds``: ftyp, a moov with its movie header and one
    video track's headers, and an mdat (``size``: padded to exactly that many bytes). Its
    structure is a real file's, which is what mutagen and the networks' checks read; it holds
    no frames to play. ``mov``: QuickTime's brand, as a MOV file carries it. The track is
    ``width`` x ``height``, turned a quarter (as a phone stores portrait video) if asked."""
    scale = 1000
    duration = round(seconds * scale)
    matrix = struct.pack(">9I", 0x10000, 0, 0, 0, 0x10000, 0, 0, 0, 0x40000000)
    turned = struct.pack(">9i", 0, 0x10000, 0, -0x10000, 0, 0, 0, 0, 0x40000000)
    mvhd = _box(
        b"mvhd",
        struct.pack(">B3xIIII", 0, 0, 0, scale, duration)
        + struct.pack(">IH10x", 0x10000, 0x100)
        + matrix
        + b"\x00" * 24
        + struct.pack(">I", 2),
    )
    tkhd = _box(
        b"tkhd",
        struct.pack(">B3BIIIII8xhhH2x", 0, 0, 0, 3, 0, 0, 1, 0, duration, 0, 0, 0)
        + (turned if quarter_turn else matrix)
        + struct.pack(">II", width << 16, height << 16),
    )
    mdhd = _box(b"mdhd", struct.pack(">B3xIIIIHH", 0, 0, 0, scale, duration, 0x55C4, 0))
    hdlr = _box(b"hdlr", struct.pack(">B3xI", 0, 0) + b"vide" + b"\x00" * 12 + b"video\x00")
    trak = _box(b"trak", tkhd + _box(b"mdia", mdhd + hdlr))
    brand = b"qt  " if mov else b"isom"
    head = _box(b"ftyp", brand + struct.pack(">I", 0x200) + brand + b"mp41")
    body = head + _box(b"moov", mvhd + trak)
    media = b""
    if size is not None:
        pad = size - len(body) - 8
        if pad < 0:
            raise ValueError(f"an MP4 takes more than {size} bytes")
        media = b"\x00" * pad
    return body + _box(b"mdat", media)


def write(path: Path, data: bytes) -> Path:
    """Write ``data`` at ``path`` (folders made) and return the path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path
