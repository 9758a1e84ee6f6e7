"""Pictures for the tests, drawn with Pillow when a test asks (the repository holds no binary file)."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image, ImageDraw


def picture(size=(1200, 800), image_format="PNG", mode="RGB", **save) -> bytes:
    """An image with something on it (two colours and a disc), so encoders have work to do."""
    image = Image.new(mode, size, (40, 120, 200, 255)[: len(mode)] if mode in ("RGB", "RGBA") else 128)
    draw = ImageDraw.Draw(image)
    width, height = size
    draw.ellipse([width // 4, height // 4, width * 3 // 4, height * 3 // 4],
                 fill=(240, 180, 40, 255)[: len(mode)] if mode in ("RGB", "RGBA") else 200)
    out = io.BytesIO()
    image.save(out, image_format, **save)
    return out.getvalue()


def product_photo(size=(960, 720)) -> bytes:
    """A JPEG that looks like a product shot (a lamp on a table), for the screenshots of the browser tests."""
    width, height = size
    image = Image.new("RGB", size)
    draw = ImageDraw.Draw(image)
    for y in range(height):  # a soft backdrop, lighter at the top
        shade = 235 - y * 50 // height
        draw.line([(0, y), (width, y)], fill=(shade, shade - 8, shade - 20))
    draw.rectangle([0, height * 3 // 4, width, height], fill=(150, 105, 70))  # the table
    cx = width // 2
    draw.rectangle([cx - 12, height * 2 // 5, cx + 12, height * 3 // 4], fill=(60, 60, 70))  # the stand
    draw.ellipse([cx - 110, height * 3 // 4 - 30, cx + 110, height * 3 // 4 + 20], fill=(50, 50, 60))  # its foot
    draw.polygon([(cx - 90, height // 8), (cx + 90, height // 8), (cx + 170, height * 2 // 5),
                  (cx - 170, height * 2 // 5)], fill=(15, 110, 102))  # the shade
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90)
    return out.getvalue()


def upload(data: bytes, name: str = "photo.png", content_type: str = "image/png") -> SimpleUploadedFile:
    """What Django hands a view for a file field of a posted form."""
    return SimpleUploadedFile(name, data, content_type=content_type)


def decompression_bomb() -> bytes:
    """A PNG of a few kilobytes that announces 10,000 × 10,000 pixels (400 MB once decoded as RGBA)."""
    out = io.BytesIO()
    Image.new("1", (10_000, 10_000)).save(out, "PNG", optimize=True)
    return out.getvalue()


def opened(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


@pytest.fixture
def media_root(settings, tmp_path):
    """Uploaded files go to a folder of the test's own."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT
