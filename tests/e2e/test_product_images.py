"""Staff upload a product image in the admin; the customer sees it on every page and in the confirmation email.

Real processes and a real browser: the image reaches the cart and the order
through the catalog's and the cart's messages on the broker, and the web
process serves it with DEBUG off.
"""

import email
import re

import pytest
from playwright.sync_api import Page, expect

from tests.images import product_photo

from .conftest import STAFF_PASSWORD
from .shop import wait_for
from .test_browser import browser, fill_address, page, pay, register, snap  # noqa: F401 (browser and page are fixtures)

pytestmark = pytest.mark.e2e


def shown(page: Page, selector: str) -> str:
    """The src of the first image matching ``selector``, once the browser has loaded and decoded it."""
    image = page.locator(selector).first
    expect(image).to_be_visible()
    wait_for(lambda: image.evaluate("img => img.complete && img.naturalWidth > 0"), timeout=10,
             what=f"{selector} to load")
    return image.get_attribute("src")


def upload_in_the_admin(browser, shop, product_id: int) -> None:
    staff = browser.new_context(base_url=shop.base_url, viewport={"width": 1400, "height": 1000}).new_page()
    staff.goto("/admin/login/")
    staff.locator("#id_username").fill("staff@shop.test")
    staff.locator("#id_password").fill(STAFF_PASSWORD)
    staff.locator("input[type=submit]").click()
    staff.goto(f"/admin/catalog/product/{product_id}/change/")
    expect(staff.locator(".field-current_image")).to_contain_text("initials")

    # First a file that only claims to be an image: the form says why it is refused.
    staff.locator("#id_new_image").set_input_files(
        {"name": "lamp.png", "mimeType": "image/png", "buffer": b"<svg onload=alert(1)></svg>"})
    staff.locator("input[name=_continue]").click()
    expect(staff.locator(".errorlist")).to_contain_text("not a JPEG, PNG or WebP image")
    snap(staff, "images-admin-refused")

    staff.locator("#id_new_image").set_input_files(
        {"name": "lamp.jpg", "mimeType": "image/jpeg", "buffer": product_photo()})
    staff.locator("input[name=_continue]").click()
    expect(staff.locator(".messagelist")).to_contain_text("was changed successfully")
    shown(staff, ".field-current_image img")
    snap(staff, "images-admin")
    staff.context.close()


def confirmation_html(shop, customer_email: str) -> str:
    def found():
        for text in shop.mails():
            mail = email.message_from_string(text)
            if mail["To"] == customer_email and "is confirmed" in mail["Subject"]:
                return next(part.get_payload(decode=True).decode() for part in mail.walk()
                            if part.get_content_type() == "text/html")
        return None

    return wait_for(found, timeout=20, what="the confirmation email")


def test_staff_upload_an_image_and_it_appears_on_every_page_and_in_the_email(browser, page, shop, new_product):
    refusals = []
    page.on("console", lambda message: refusals.append(message.text) if "Content Security Policy" in message.text
            else None)
    product = new_product(stock=5, price="42.00")
    without = new_product(stock=5, price="3.00")  # no image: its initials, beside it in the cart
    shop.customer().add_to_cart(without["id"], 1)  # the cart has heard of it

    upload_in_the_admin(browser, shop, product["id"])

    customer_email = register(page)
    page.goto(f"/?q={product['name']}")
    thumbnail = shown(page, "#products img.tile--image")
    assert re.fullmatch(r"/media/catalog/products/[0-9a-f]{32}-thumb\.jpg", thumbnail)
    snap(page, "images-catalog")
    page.goto(f"/?q={without['name']}")
    expect(page.locator("#products .tile").first).to_have_text(re.compile(r"^T\w$"))  # "Test product …": TE

    page.goto(f"/products/{product['id']}/")
    full = shown(page, ".product__image img.tile--xl")
    assert re.fullmatch(r"/media/catalog/products/[0-9a-f]{32}\.jpg", full)
    assert page.locator(".product__image img").get_attribute("alt") == product["name"]
    assert page.evaluate("img => [img.naturalWidth, img.naturalHeight]",
                         page.locator(".product__image img").element_handle()) == [960, 720]
    snap(page, "images-product")
    page.get_by_role("button", name="Add to cart").click()
    expect(page.locator("#cart-count")).to_have_text("1")
    page.goto(f"/products/{without['id']}/")
    page.get_by_role("button", name="Add to cart").click()
    expect(page.locator("#cart-count")).to_have_text("2")

    # The cart knows the image from product.updated, which its consumer may still be handling: reload as a person would.
    def cart_shows_the_image() -> bool:
        page.goto("/cart/")
        return page.locator("#cart-lines img.tile--image").count() == 1

    wait_for(cart_shows_the_image, timeout=20, interval=0.3, what="the image in the cart")
    assert shown(page, "#cart-lines img.tile--image") == thumbnail
    expect(page.locator(f"#cart-lines li[data-product-id='{without['id']}'] span.tile")).to_be_visible()
    snap(page, "images-cart")

    page.goto("/checkout/")
    shown(page, ".summary img.tile--image")
    fill_address(page, name="Robin Browser", line1="1 Browser Lane", city="Testville", postal_code="12345",
                 country="DE")
    pay(page, "4242424242424242", screenshot="images-checkout")
    expect(page.locator("#order-status")).to_have_text(re.compile("confirmed", re.I), timeout=20_000)
    assert shown(page, "#order-live img.tile--image") == thumbnail
    assert page.locator("#order-live .line span.tile").count() == 1
    snap(page, "images-order")
    page.set_viewport_size({"width": 390, "height": 844})  # a phone
    page.goto(f"/?q={product['name']}")
    shown(page, "#products img.tile--image")
    snap(page, "images-phone-catalog")
    page.goto(f"/products/{product['id']}/")
    shown(page, ".product__image img")
    snap(page, "images-phone-product")

    # The email names the thumbnail by an absolute URL of the shop, which a mail program can load.
    html = confirmation_html(shop, customer_email)
    assert f'src="{shop.base_url}{thumbnail}"' in html
    page.set_viewport_size({"width": 700, "height": 700})
    page.set_content(html)
    shown(page, "img")
    snap(page, "images-email")

    assert refusals == []
