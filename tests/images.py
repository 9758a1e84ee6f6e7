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
