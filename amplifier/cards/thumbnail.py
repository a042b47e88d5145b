"""A card's image re-encoded as a JPEG within Bluesky's blob limit, with Pillow.

Re-encoding means only pixels reach Bluesky: no metadata (a photo's location), no second
image hidden in the file, and one type the app shows. Pillow is imported here, inside the
function, so a worker that never makes a card never loads it. An image over ``MAX_PIXELS``
(a decompression bomb) is refused before its pixels are decoded.
"""

from __future__ import annotations

import io
import warnings

MAX_BLOB_BYTES = 950_000  # Bluesky's blob limit for a card's thumbnail is 1,000,000 bytes
MAX_SIDE = 1200  # the app shows a card's image at most this wide
MAX_PIXELS = 40_000_000
QUALITIES = (85, 75, 65, 50, 35)


class ThumbnailRefused(Exception):
    """The image could not be made into a thumbnail; the message says why."""


def reencode(data: bytes, max_bytes: int = MAX_BLOB_BYTES) -> bytes:
    """``data`` (any image type Pillow reads) as a JPEG of at most ``max_bytes``."""
    from PIL import Image, UnidentifiedImageError

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                width, height = image.size
                if width * height > MAX_PIXELS:
                    raise ThumbnailRefused(f"image of {width}x{height} pixels is too large")
                image.draft("RGB", (MAX_SIDE, MAX_SIDE))  # JPEG: decode at a smaller scale
                picture = image.convert("RGB")
    except ThumbnailRefused:
        raise
    except (UnidentifiedImageError, Image.DecompressionBombError, Image.DecompressionBombWarning,
            OSError, ValueError, SyntaxError) as exc:  # fmt: skip
        raise ThumbnailRefused(f"not an image Pillow can read ({type(exc).__name__})") from exc
    side = MAX_SIDE
    while side >= 100:
        frame = picture.copy()
        frame.thumbnail((side, side))
        for quality in QUALITIES:
            out = io.BytesIO()
            frame.save(out, "JPEG", quality=quality, optimize=True)
            if out.tell() <= max_bytes:
                return out.getvalue()
        side //= 2
    raise ThumbnailRefused(f"cannot fit the image in {max_bytes} bytes")
