"""Product images: what staff upload is checked, drawn anew and given a thumbnail before the catalog keeps it.

Nothing about an upload is trusted: not its name, not the type it claims, not
the size its header announces. Pillow may open it only as JPEG, PNG or WebP;
its pixel count is bounded before anything is decoded (a small file can
announce an enormous picture: a decompression bomb); then its pixels are
encoded into a new file, so nothing but the picture survives (no metadata, no
bytes appended after it, no second frame). The admin's form and the staff API
call ``image_prepare`` to validate an upload; the services store what it made.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

from django.conf import settings
from PIL import Image, ImageOps

from shopsite.errors import ApplicationError

#: Pillow format -> the extension of the file the catalog writes.
FORMATS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp"}
#: The stored image fits in this box; the thumbnail (catalog cards, cart, orders, emails) in the smaller one.
FULL_SIZE = (1600, 1600)
THUMBNAIL_SIZE = (400, 400)
ACCEPTED = "JPEG, PNG or WebP"


class InvalidImage(ApplicationError):
    """The upload is not an image the shop will keep; the message says why, for staff to read."""


@dataclass(frozen=True)
class PreparedImage:
    """An upload, checked and re-encoded: the bytes to store, and their extensions."""

    full: bytes
    full_extension: str
    thumbnail: bytes
    thumbnail_extension: str
    size: tuple[int, int]
    thumbnail_size: tuple[int, int]


def rules() -> str:
    """What an upload must be, for staff to read before they choose a file."""
    return (
        f"{ACCEPTED}, at most {_megabytes(settings.CATALOG_IMAGE_MAX_BYTES)} and "
        f"{settings.CATALOG_IMAGE_MAX_PIXELS / 1_000_000:g} million pixels. It is stored re-encoded, at most "
        f"{FULL_SIZE[0]} pixels a side, with a thumbnail; without an image the shop shows the product's initials."
    )


def image_prepare(upload) -> PreparedImage:
    """Check an uploaded file (a Django ``File`` or any binary file object) and re-encode it.

    Raises InvalidImage when it is too big, not a JPEG, PNG or WebP image that
    Pillow can decode whole, or has more pixels than CATALOG_IMAGE_MAX_PIXELS.
    """
    data = _read(upload)
    picture, image_format = _decode(data)
    with picture:
        full = picture.copy()
        full.thumbnail(FULL_SIZE, Image.Resampling.LANCZOS)
        thumbnail = picture.copy()
        thumbnail.thumbnail(THUMBNAIL_SIZE, Image.Resampling.LANCZOS)
    # Thumbnails go into emails too, where JPEG and PNG are what every mail program shows.
    thumbnail_format = "PNG" if thumbnail.mode == "RGBA" else "JPEG"
    return PreparedImage(
        full=_encode(full, image_format),
        full_extension=FORMATS[image_format],
        thumbnail=_encode(thumbnail, thumbnail_format),
        thumbnail_extension=FORMATS[thumbnail_format],
        size=full.size,
        thumbnail_size=thumbnail.size,
    )


def _read(upload) -> bytes:
    limit = settings.CATALOG_IMAGE_MAX_BYTES
    size = getattr(upload, "size", None)
    if size is not None and size > limit:
        raise _too_big(size, limit)
    if hasattr(upload, "seek"):
        upload.seek(0)
    data = upload.read(limit + 1)
    if len(data) > limit:  # the size it said was wrong
        raise _too_big(len(data), limit)
    if not data:
        raise InvalidImage("The file is empty: upload a JPEG, PNG or WebP image.")
    return data


def _too_big(size: int, limit: int) -> InvalidImage:
    return InvalidImage(
        f"The file is {_megabytes(size)}: an image may be at most {_megabytes(limit)}.",
        {"bytes": size, "max_bytes": limit},
    )


def _decode(data: bytes) -> tuple[Image.Image, str]:
    """The picture in ``data``, fully decoded, upright, as RGB or (when it has transparency) RGBA."""
    max_pixels = settings.CATALOG_IMAGE_MAX_PIXELS
    with warnings.catch_warnings():
        # Pillow only warns about a picture past its own bound (and would decode it). The filter is the
        # process's, not this thread's: should another thread's upload reset it meanwhile, the bound of
        # our own below still refuses the picture before anything is decoded.
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image = Image.open(io.BytesIO(data), formats=list(FORMATS))
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise _too_many_pixels(None, max_pixels) from None
        except Exception:  # noqa: BLE001 - whatever the decoder trips on, the file is not an image we take
            raise _not_an_image() from None
        with image:
            width, height = image.size
            if width * height > max_pixels:
                raise _too_many_pixels((width, height), max_pixels)
            image_format = image.format
            try:
                if image_format == "JPEG":
                    # Decode at a reduced scale when the picture is far bigger than what is kept.
                    image.draft(None, FULL_SIZE)
                image.load()  # every byte is decoded here: a truncated or corrupt file fails now
                upright = ImageOps.exif_transpose(image)
                has_alpha = upright.mode in ("RGBA", "LA", "PA") or "transparency" in upright.info
                return upright.convert("RGBA" if has_alpha else "RGB"), image_format
            except Exception:  # noqa: BLE001 - as above: a file Pillow cannot decode whole is refused
                raise _not_an_image() from None


def _not_an_image() -> InvalidImage:
    return InvalidImage(
        f"This file is not a {ACCEPTED} image, or it is damaged: upload a {ACCEPTED} image.",
        {"accepted": sorted(FORMATS)},
    )


def _too_many_pixels(size: tuple[int, int] | None, max_pixels: int) -> InvalidImage:
    said = f" ({size[0]} × {size[1]})" if size else ""
    return InvalidImage(
        f"The image has too many pixels{said}: at most {max_pixels / 1_000_000:g} million are accepted.",
        {"max_pixels": max_pixels, **({"width": size[0], "height": size[1]} if size else {})},
    )


def _encode(picture: Image.Image, image_format: str) -> bytes:
    out = io.BytesIO()
    if image_format == "JPEG":
        picture.save(out, "JPEG", quality=85, optimize=True, progressive=True)
    elif image_format == "WEBP":
        picture.save(out, "WEBP", quality=85, method=4)
    else:
        picture.save(out, "PNG")
    return out.getvalue()


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MB"
