"""Uploaded pictures, checked the one way every app checks them (orders' photos, activity reports, good deeds).

By content, not by name: Pillow must read it. Bounded in bytes *and* pixels, and the pixel count is checked from
the header before anything is decoded (a 20 KB PNG of 13,000 × 13,000 pixels would otherwise cost a worker seconds
of CPU and a gigabyte of memory). JPEGs are decoded at reduced scale when they are larger than needed (`draft`).
The stored copy is upright, at most `max_side` pixels, without metadata (EXIF: place, time, device).
"""

import io
import warnings
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.utils.translation import gettext as _

MAX_BYTES = 10 * 1024 * 1024
# A 50-megapixel phone photo (8,160 × 6,120) passes; a decompression bomb does not.
MAX_PIXELS = 50_000_000
MAX_SIDE = 1600


@dataclass(frozen=True)
class Picture:
    file: ContentFile  # named photo.jpg or photo.png
    width: int
    height: int


def _read(upload, max_bytes: int) -> bytes | None:
    size = getattr(upload, "size", None)
    if size is not None and size > max_bytes:
        return None
    if hasattr(upload, "seek"):
        upload.seek(0)
    data = upload.read(max_bytes + 1)
    return None if len(data) > max_bytes else data


def clean_picture(
    upload,
    *,
    field: str = "photo",
    max_bytes: int = MAX_BYTES,
    max_pixels: int = MAX_PIXELS,
    max_side: int = MAX_SIDE,
    keep_transparency: bool = False,
) -> Picture:
    """The upload as a stored-ready picture, or ValidationError({field: [...]}) saying what is wrong."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    data = _read(upload, max_bytes)
    if data is None:
        raise ValidationError(
            {field: [_("The picture is larger than %(mb)s MB; send a smaller one.") % {"mb": max_bytes // 2**20}]}
        )
    unreadable = ValidationError({field: [_("This file is not a picture we can read; send a JPEG, PNG or WebP.")]})
    try:
        with warnings.catch_warnings():  # Pillow warns about big canvases at open; the check below decides
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            probe = Image.open(io.BytesIO(data))
        with probe:
            width, height = probe.size  # from the header: nothing decoded yet
            if width * height > max_pixels:
                raise ValidationError(
                    {
                        field: [
                            _("The picture has %(w)s × %(h)s pixels; at most %(mp)s million are accepted.")
                            % {"w": width, "h": height, "mp": max_pixels // 1_000_000}
                        ]
                    }
                )
            probe.verify()
        img = Image.open(io.BytesIO(data))
        if img.format == "JPEG":
            img.draft("RGB", (max_side, max_side))  # decode at 1/2, 1/4 or 1/8 scale when that is enough
        img.load()
    except ValidationError:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise unreadable from None
    img = ImageOps.exif_transpose(img)
    img.thumbnail((max_side, max_side))
    out = io.BytesIO()
    if keep_transparency and (img.mode in ("RGBA", "LA") or (img.mode == "P" and "transparency" in img.info)):
        img = img.convert("RGBA")
        img.save(out, format="PNG", optimize=True)
        name = "photo.png"
    else:
        img = img.convert("RGB")
        img.save(out, format="JPEG", quality=85, optimize=True)  # no exif= argument: metadata is dropped
        name = "photo.jpg"
    return Picture(ContentFile(out.getvalue(), name=name), img.width, img.height)
