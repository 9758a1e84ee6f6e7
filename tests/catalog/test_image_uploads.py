"""What an uploaded product image must be to be kept, what is kept of it, and the messages that name it."""

import io
import re
import struct
import uuid
import zlib

import pytest
from PIL import Image

from catalog.images import InvalidImage, image_prepare
from shopsite import contracts
from shopsite.bus.envelope import Envelope
from tests.images import decompression_bomb, opened, picture, upload

# --- what an upload must be ------------------------------------------------------------------------------


def test_a_png_is_kept_as_a_png_with_a_thumbnail_that_fits_the_thumbnail_box():
    prepared = image_prepare(upload(picture((1200, 800), "PNG", mode="RGBA")))

    full, thumbnail = opened(prepared.full), opened(prepared.thumbnail)
    assert (full.format, full.size, full.mode) == ("PNG", (1200, 800), "RGBA")
    # 400 pixels on the long side, the short one in proportion; the transparency survives (PNG).
    assert (thumbnail.format, thumbnail.size, thumbnail.mode) == ("PNG", (400, 267), "RGBA")
    assert (prepared.full_extension, prepared.thumbnail_extension) == ("png", "png")


def test_a_big_jpeg_is_scaled_down_to_the_stored_size_and_its_thumbnail_is_a_jpeg():
    prepared = image_prepare(upload(picture((3000, 2000), "JPEG"), "photo.jpg", "image/jpeg"))

    full, thumbnail = opened(prepared.full), opened(prepared.thumbnail)
    assert (full.format, full.size) == ("JPEG", (1600, 1067))
    assert (thumbnail.format, thumbnail.size) == ("JPEG", (400, 267))
    assert prepared.size == (1600, 1067) and prepared.thumbnail_size == (400, 267)


def test_a_webp_is_kept_as_a_webp_and_a_tall_picture_fits_by_its_height():
    prepared = image_prepare(upload(picture((300, 900), "WEBP"), "photo.webp", "image/webp"))

    assert opened(prepared.full).format == "WEBP"
    assert opened(prepared.thumbnail).size == (133, 400)


def test_a_small_picture_is_not_enlarged():
    prepared = image_prepare(upload(picture((120, 90), "PNG")))

    assert opened(prepared.full).size == opened(prepared.thumbnail).size == (120, 90)


def test_a_text_file_named_like_a_png_is_refused_with_a_message():
    with pytest.raises(InvalidImage) as refused:
        image_prepare(upload(b"<html><script>alert(1)</script></html>\n" * 20, "photo.png", "image/png"))

    assert refused.value.message == (
        "This file is not a JPEG, PNG or WebP image, or it is damaged: upload a JPEG, PNG or WebP image."
    )


def test_an_image_of_another_format_is_refused_whatever_its_name():
    with pytest.raises(InvalidImage, match="not a JPEG, PNG or WebP image"):
        image_prepare(upload(picture((50, 50), "GIF"), "photo.png", "image/png"))


def test_a_truncated_image_is_refused():
    whole = picture((400, 300), "PNG")

    with pytest.raises(InvalidImage, match="damaged"):
        image_prepare(upload(whole[: len(whole) // 2]))


def test_an_empty_file_is_refused():
    with pytest.raises(InvalidImage, match="empty"):
        image_prepare(upload(b""))


def test_a_file_over_the_size_limit_is_refused_with_the_limit(settings):
    settings.CATALOG_IMAGE_MAX_BYTES = 20_000
    data = picture((1200, 800), "JPEG")
    assert len(data) > 20_000

    with pytest.raises(InvalidImage) as refused:
        image_prepare(upload(data, "photo.jpg", "image/jpeg"))

    assert re.fullmatch(r"The file is 0\.\d MB: an image may be at most 0\.0 MB\.", refused.value.message)
    assert refused.value.extra == {"bytes": len(data), "max_bytes": 20_000}


def test_a_file_whose_declared_size_is_wrong_is_still_bounded(settings):
    settings.CATALOG_IMAGE_MAX_BYTES = 20_000

    class Lying(io.BytesIO):
        size = 10

    with pytest.raises(InvalidImage, match="at most"):
        image_prepare(Lying(picture((1200, 800), "JPEG")))


def test_a_decompression_bomb_is_refused_before_it_is_decoded():
    bomb = decompression_bomb()
    assert len(bomb) < 50_000  # a small file ...

    with pytest.raises(InvalidImage) as refused:
        image_prepare(upload(bomb))  # ... of 100 million pixels: past Pillow's own bound too

    assert refused.value.message == "The image has too many pixels: at most 25 million are accepted."


def test_a_picture_over_the_shops_pixel_bound_is_refused_with_its_size():
    out = io.BytesIO()
    Image.new("1", (6000, 5000)).save(out, "PNG")

    with pytest.raises(InvalidImage) as refused:
        image_prepare(upload(out.getvalue()))

    assert refused.value.message == "The image has too many pixels (6000 × 5000): at most 25 million are accepted."
    assert refused.value.extra == {"max_pixels": 25_000_000, "width": 6000, "height": 5000}


def test_a_png_header_announcing_a_huge_picture_is_refused_without_decoding_it():
    # A hand-made PNG whose header says 50,000 × 50,000 over a few bytes of data.
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    forged = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 50_000, 50_000, 8, 2, 0, 0, 0))
              + chunk(b"IDAT", zlib.compress(b"\x00" * 100)) + chunk(b"IEND", b""))

    with pytest.raises(InvalidImage, match="too many pixels"):
        image_prepare(upload(forged))


def test_nothing_but_the_picture_is_kept_metadata_and_appended_bytes_are_dropped():
    exif = Image.Exif()
    exif[0x010E] = "secret description"  # ImageDescription
    exif[0x8825] = {2: (51.0, 30.0, 0.0)}  # GPS latitude
    photo = picture((300, 200), "JPEG", exif=exif.tobytes()) + b"<script>alert(1)</script>"
    assert b"secret description" in photo

    prepared = image_prepare(upload(photo, "photo.jpg", "image/jpeg"))

    assert b"secret description" not in prepared.full and b"<script>" not in prepared.full
    assert not opened(prepared.full).getexif()


def test_a_photo_taken_sideways_is_stored_upright():
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation: the camera was turned; show it rotated by 90 degrees
    prepared = image_prepare(upload(picture((300, 100), "JPEG", exif=exif.tobytes()), "photo.jpg", "image/jpeg"))

    assert opened(prepared.full).size == (100, 300)


# --- the messages --------------------------------------------------------------------------------------------

PRODUCT = dict(product_id=1, sku="MUG", name="Mug", price="9.50", is_active=True, available=5, version=1)


def test_product_published_carries_the_image_urls_through_its_envelope():
    message = contracts.ProductPublished(**PRODUCT, image_url="/media/catalog/products/a.png",
                                         thumbnail_url="https://media.example.com/catalog/products/a-thumb.jpg")

    envelope = Envelope.from_json(Envelope.wrap(message, producer="catalog", correlation_id=uuid.uuid4()).to_json())

    assert envelope.message() == message


@pytest.mark.parametrize("contract", [contracts.ProductPublished, contracts.ProductUpdated])
def test_a_product_message_without_image_urls_still_validates(contract):
    # As a catalog from before images published it.
    body = Envelope(type=contract.TYPE, version=contract.VERSION, producer="catalog", payload=dict(PRODUCT),
                    correlation_id=uuid.uuid4()).to_json()

    message = Envelope.from_json(body).message()

    assert (message.image_url, message.thumbnail_url) == (None, None)


def test_a_checkout_line_without_image_urls_still_validates():
    line = contracts.CheckoutLine.model_validate(
        {"product_id": 1, "sku": "MUG", "name": "Mug", "unit_price": "9.50", "quantity": 2}
    )

    assert (line.image_url, line.thumbnail_url) == (None, None)
    assert "image_url" not in line.model_dump(mode="json")


@pytest.mark.parametrize("url", ["javascript:alert(1)", "//elsewhere.example/a.png", "data:image/png;base64,AAAA",
                                 "/media/a b.png", "", "ftp://example.com/a.png", "/" + "a" * 1000])
def test_an_image_url_that_is_not_a_path_or_http_url_is_refused(url):
    with pytest.raises(ValueError):
        contracts.ProductUpdated(**PRODUCT, image_url=url)
