"""Photos sent with public reports: accepted only as a clean, bounded JPEG.

A phone photo carries the sender's position (EXIF GPS), the device, often
the owner's name, and may be hostile: a few kilobytes that decode into
gigapixels (a decompression bomb) or a file cut short. So every photo is
checked for size in bytes and pixels *before* it is decoded, decoded in
full (a truncated file fails here, with a message), turned upright from
its EXIF orientation, scaled to a bounded size and re-encoded as a new JPEG
from pixels only: no EXIF, GPS, XMP, ICC profile or comment survives,
because nothing of the original file is copied.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

from PIL import Image, ImageOps, UnidentifiedImageError

from mineaction.errors import InvalidValue

__all__ = ["ACCEPTED_FORMATS", "CleanPhoto", "PhotoRefused", "clean_photo"]


def _accepted() -> tuple[str, ...]:
    """JPEG, PNG and WebP; HEIF/HEIC and AVIF too where this Pillow can read them (pillow-heif, or Pillow's AVIF)."""
    Image.init()
    return tuple(f for f in ("JPEG", "PNG", "WEBP", "HEIF", "AVIF") if f in Image.OPEN)


ACCEPTED_FORMATS = _accepted()


class PhotoRefused(InvalidValue):
    """The photo cannot be taken; the message says why in words the sender can act on."""


@dataclass(frozen=True)
class CleanPhoto:
    jpeg: bytes
    width: int
    height: int
    source_format: str


def _size(n: int) -> str:
    return f"{n / 1e6:.1f} MB" if n >= 1e6 else f"{n / 1e3:.1f} kB"


def clean_photo(data: bytes, *, max_bytes: int, max_pixels: int, max_side: int, quality: int = 80) -> CleanPhoto:
    """``data`` re-encoded as an upright JPEG of at most ``max_side`` pixels a side, with no metadata.

    Raises :class:`PhotoRefused` for a file over ``max_bytes``, an image over
    ``max_pixels``, a format other than :data:`ACCEPTED_FORMATS`, or a file
    that is not a whole image.
    """
    if len(data) > max_bytes:
        raise PhotoRefused(f"the photo is {_size(len(data))}; at most {_size(max_bytes)} is accepted")
    if not data:
        raise PhotoRefused("the photo is empty")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=ACCEPTED_FORMATS)
            width, height = image.size
            if width * height > max_pixels:
                raise PhotoRefused(f"the photo has more pixels than accepted: {width} × {height}; "
                                   f"at most {max_pixels / 1e6:g} million")
            image.load()
            flat = _upright_rgb(image)
    except PhotoRefused:
        raise
    except UnidentifiedImageError:
        raise PhotoRefused(f"the file is not a photo in a format accepted here ({', '.join(ACCEPTED_FORMATS)})") from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        # Pillow's own guard fired while opening, before the check above (beyond its MAX_IMAGE_PIXELS)
        raise PhotoRefused(f"the photo has more pixels than accepted; at most {max_pixels / 1e6:g} million") from None
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        raise PhotoRefused(f"the photo is damaged or incomplete ({exc})") from None
    flat.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    pixels = Image.frombytes("RGB", flat.size, flat.tobytes())  # a new image: no info, EXIF or profile to carry over
    out = io.BytesIO()
    pixels.save(out, "JPEG", quality=quality, optimize=True)
    return CleanPhoto(out.getvalue(), pixels.width, pixels.height, str(image.format))


def _upright_rgb(image: Image.Image) -> Image.Image:
    """Turned as the EXIF orientation says, transparency flattened on white, in RGB."""
    upright = ImageOps.exif_transpose(image)
    if upright.mode in ("RGBA", "LA", "PA") or (upright.mode == "P" and "transparency" in upright.info):
        rgba = upright.convert("RGBA")
        flat = Image.new("RGB", rgba.size, "white")
        flat.paste(rgba, mask=rgba.getchannel("A"))
        return flat
    return upright.convert("RGB")
