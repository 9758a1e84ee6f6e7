"""Product images in the catalog: stored under the shop's own names, published to the cart, uploaded by staff."""

import io
import os
import re
from pathlib import Path

import pytest
from django.core.files.storage import default_storage
from PIL import Image
from rest_framework.test import APIClient

from catalog import services
from catalog.images import image_prepare
from catalog.models import OutboxMessage, Product
from shopsite.errors import NotFound
from shopsite.testing import recorded
from tests.images import decompression_bomb, media_root, opened, picture, upload  # noqa: F401 (media_root is a fixture)

pytestmark = pytest.mark.django_db(databases=["catalog"])


def stored(url: str) -> Path:
    """The file in MEDIA_ROOT behind a URL the catalog published."""
    assert url.startswith("/media/catalog/products/"), url
    return Path(default_storage.path(url.removeprefix("/media/")))


def test_a_product_created_with_an_image_is_published_with_its_urls(media_root):
    product = services.product_create(
        sku="MUG", name="Mug", price="9.50", stock=3, image=image_prepare(upload(picture(), "../../etc/passwd.png"))
    )

    [published] = recorded(OutboxMessage, "product.published")
    assert published["image_url"] == product.image_url and published["thumbnail_url"] == product.thumbnail_url
    full, thumbnail = stored(published["image_url"]), stored(published["thumbnail_url"])
    assert opened(full.read_bytes()).size == (1200, 800) and opened(thumbnail.read_bytes()).size == (400, 267)
    # The name is the shop's own, random; nothing of the uploaded one.
    assert re.fullmatch(r"[0-9a-f]{32}\.png", full.name) and re.fullmatch(r"[0-9a-f]{32}-thumb\.jpg", thumbnail.name)
    assert full.parent == thumbnail.parent == Path(media_root) / "catalog" / "products"


def test_a_product_without_an_image_is_published_as_before_images_existed(media_root):
    services.product_create(sku="MUG", name="Mug", price="9.50", stock=3)

    [published] = recorded(OutboxMessage, "product.published")
    assert "image_url" not in published and "thumbnail_url" not in published


def test_a_new_image_moves_the_version_and_tells_the_cart_and_the_old_file_stays(make_product, media_root):
    product = make_product()
    first = services.product_image_set(product_id=product.id, image=image_prepare(upload(picture())))
    first_url = first.image_url

    second = services.product_image_set(product_id=product.id, image=image_prepare(upload(picture((800, 800)))))

    assert second.version == product.version + 2
    updates = recorded(OutboxMessage, "product.updated")
    assert [u["image_url"] for u in updates] == [first_url, second.image_url] and first_url != second.image_url
    assert [u["version"] for u in updates] == [product.version + 1, product.version + 2]
    # Orders placed and emails sent with the first image still show it.
    assert stored(first_url).exists()


def test_removing_the_image_tells_the_cart_there_is_none(make_product, media_root):
    product = make_product()
    services.product_image_set(product_id=product.id, image=image_prepare(upload(picture())))

    removed = services.product_image_remove(product_id=product.id)
    services.product_image_remove(product_id=product.id)  # nothing left to remove: no message

    assert (removed.image_url, removed.thumbnail_url) == ("", "")
    last = recorded(OutboxMessage, "product.updated")[-1]
    assert last["version"] == removed.version and "image_url" not in last and "thumbnail_url" not in last
    assert len(recorded(OutboxMessage, "product.updated")) == 2


def test_an_image_for_an_unknown_product_stores_nothing(media_root):
    with pytest.raises(NotFound):
        services.product_image_set(product_id=999, image=image_prepare(upload(picture())))

    assert not Path(media_root).exists() or not any(Path(media_root).rglob("*.*"))


# --- the staff API ---------------------------------------------------------------------------------------------


def image_url_of(product_id: int) -> str:
    return f"/api/catalog/products/{product_id}/image/"


@pytest.mark.django_db(databases=["default", "catalog"])
def test_staff_upload_an_image_through_the_api(make_product, staff_user, media_root):
    product = make_product()
    client = APIClient()
    client.force_authenticate(staff_user)

    photo = noise()  # bigger than any other body the API reads
    response = client.put(image_url_of(product.id), {"image": upload(photo)}, format="multipart")

    assert response.status_code == 200, response.content
    body = response.json()
    assert stored(body["image_url"]).exists() and stored(body["thumbnail_url"]).exists()
    assert recorded(OutboxMessage, "product.updated")[-1]["thumbnail_url"] == body["thumbnail_url"]
    assert client.get(f"/api/catalog/products/{product.id}/").json()["image_url"] == body["image_url"]

    removed = client.delete(image_url_of(product.id))

    assert removed.status_code == 200 and removed.json()["image_url"] == ""


@pytest.mark.django_db(databases=["default", "catalog"])
def test_the_api_refuses_a_file_that_is_not_an_image_with_the_error_body(make_product, staff_user, media_root):
    product = make_product()
    client = APIClient()
    client.force_authenticate(staff_user)

    response = client.put(image_url_of(product.id), {"image": upload(b"just text", "photo.png")}, format="multipart")

    assert response.status_code == 400
    assert response.json() == {"message": "Validation error", "extra": {"fields": {"image": [
        "This file is not a JPEG, PNG or WebP image, or it is damaged: upload a JPEG, PNG or WebP image."]}}}
    assert Product.objects.get(pk=product.id).version == product.version


@pytest.mark.django_db(databases=["default", "catalog"])
def test_the_api_takes_images_only_as_multipart_from_staff(make_product, staff_user, customer_user, media_root):
    product = make_product()
    staff, customer = APIClient(), APIClient()
    staff.force_authenticate(staff_user)
    customer.force_authenticate(customer_user)

    as_json = staff.put(image_url_of(product.id), {"image": "aGVsbG8="}, format="json")
    missing = staff.put(image_url_of(product.id), {}, format="multipart")
    unknown = staff.put(image_url_of(999_999), {"image": upload(picture())}, format="multipart")
    not_staff = customer.put(image_url_of(product.id), {"image": upload(picture())}, format="multipart")

    assert as_json.status_code == 415 and as_json.json()["message"].startswith("Unsupported media type")
    assert missing.status_code == 400 and "image" in missing.json()["extra"]["fields"]
    assert unknown.status_code == 404 and unknown.json()["message"] == "Unknown product."
    assert not_staff.status_code == 403
    assert Product.objects.get(pk=product.id).image.name == ""


# --- the admin --------------------------------------------------------------------------------------------------


def noise(size=(300, 300)) -> bytes:
    """A PNG bigger than the 64 KiB any other request body may be: noise does not compress."""
    out = io.BytesIO()
    Image.frombytes("RGB", size, os.urandom(size[0] * size[1] * 3)).save(out, "PNG")
    return out.getvalue()


@pytest.fixture
def admin_client(client, django_user_model):
    client.force_login(django_user_model.objects.create_superuser(email="admin@example.com", password="x", name="A"))
    return client


def change_form(product: Product, **fields) -> dict:
    return {"name": product.name, "description": "", "category": "", "price": str(product.price), "is_active": "on",
            **fields}


@pytest.mark.django_db(databases=["default", "catalog"])
def test_staff_upload_an_image_on_the_products_admin_page(admin_client, make_product, media_root):
    product = make_product()
    photo = noise()
    assert len(photo) > 64 * 1024

    response = admin_client.post(f"/admin/catalog/product/{product.id}/change/",
                                 change_form(product, new_image=upload(photo, "holiday.png")))

    assert response.status_code == 302, response.content.decode()[:2000]
    product.refresh_from_db()
    assert opened(stored(product.thumbnail_url).read_bytes()).size == (300, 300)
    assert recorded(OutboxMessage, "product.updated")[-1]["image_url"] == product.image_url
    page = admin_client.get(f"/admin/catalog/product/{product.id}/change/").content.decode()
    assert f'src="{product.thumbnail_url}"' in page and 'name="image_remove"' in page


@pytest.mark.django_db(databases=["default", "catalog"])
def test_a_product_added_in_the_admin_with_an_image_is_published_once_with_it(admin_client, media_root):
    response = admin_client.post("/admin/catalog/product/add/", {
        "sku": "LAMP", "name": "Lamp", "description": "", "category": "", "price": "30.00", "is_active": "on",
        "stock_on_hand": 2, "new_image": upload(picture((640, 480), "JPEG"), "lamp.jpg", "image/jpeg"),
    })

    assert response.status_code == 302
    [published] = recorded(OutboxMessage, "product.published")
    assert opened(stored(published["image_url"]).read_bytes()).size == (640, 480)
    assert recorded(OutboxMessage, "product.updated") == []


@pytest.mark.django_db(databases=["default", "catalog"])
@pytest.mark.parametrize("data, message", [
    (b"%PDF-1.7 not an image at all", "This file is not a JPEG, PNG or WebP image, or it is damaged"),
    (decompression_bomb(), "The image has too many pixels"),
])
def test_the_admin_refuses_a_bad_image_with_a_message_on_the_form(admin_client, make_product, media_root, data,
                                                                   message):
    product = make_product()

    response = admin_client.post(f"/admin/catalog/product/{product.id}/change/",
                                 change_form(product, name="Renamed", new_image=upload(data, "photo.png")))

    assert response.status_code == 200
    assert message in response.content.decode()
    product.refresh_from_db()
    assert (product.version, product.image.name) == (1, "")  # nothing saved, not even the new name
    assert recorded(OutboxMessage) == []


@pytest.mark.django_db(databases=["default", "catalog"])
def test_the_admin_says_an_image_is_over_the_size_limit(admin_client, make_product, media_root, settings):
    settings.CATALOG_IMAGE_MAX_BYTES = 100_000
    product = make_product()

    response = admin_client.post(f"/admin/catalog/product/{product.id}/change/",
                                 change_form(product, new_image=upload(noise((400, 400)))))

    assert response.status_code == 200
    assert "an image may be at most 0.1 MB" in response.content.decode()


@pytest.mark.django_db(databases=["default", "catalog"])
def test_a_body_past_the_upload_limit_is_refused_unread(admin_client, make_product, settings):
    settings.UPLOAD_MAX_BODY_BYTES = 200_000
    product = make_product()

    response = admin_client.post(f"/admin/catalog/product/{product.id}/change/",
                                 change_form(product, new_image=upload(noise((400, 400)))))

    assert response.status_code == 413
    assert response.content.decode() == "Request body too large: send at most 200000 bytes."


@pytest.mark.django_db(databases=["default", "catalog"])
def test_only_the_pages_that_take_uploads_read_a_big_multipart_body(admin_client, make_product):
    product = make_product()

    stock = admin_client.post(f"/api/catalog/products/{product.id}/stock/", {"file": upload(noise())})
    login = admin_client.post("/accounts/login/", {"file": upload(noise())})

    assert stock.status_code == login.status_code == 413
    assert stock.json()["extra"] == {"max_bytes": 64 * 1024}


@pytest.mark.django_db(databases=["default", "catalog"])
def test_staff_remove_the_image_in_the_admin(admin_client, make_product, media_root):
    product = make_product()
    services.product_image_set(product_id=product.id, image=image_prepare(upload(picture())))

    response = admin_client.post(f"/admin/catalog/product/{product.id}/change/",
                                 change_form(product, image_remove="on"))

    assert response.status_code == 302
    product.refresh_from_db()
    assert product.image.name == "" and "image_url" not in recorded(OutboxMessage, "product.updated")[-1]
    assert 'name="image_remove"' not in admin_client.get(f"/admin/catalog/product/{product.id}/change/").content.decode()
