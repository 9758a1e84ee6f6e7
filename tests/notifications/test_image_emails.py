"""The order confirmation's HTML part shows each product's thumbnail, by an absolute URL, or its initials."""

import uuid
from datetime import datetime, timezone
from decimal import Decimal

import pytest

from notifications import handlers
from shopsite import contracts
from shopsite.testing import an_address

pytestmark = pytest.mark.django_db(databases=["notifications"])


def confirmed(*lines: contracts.CheckoutLine) -> contracts.OrderConfirmed:
    return contracts.OrderConfirmed(order_id=uuid.uuid4(), user_id=7, total=Decimal("23.00"), lines=list(lines),
                                    occurred_at=datetime(2025, 1, 1, tzinfo=timezone.utc), shipping_address=an_address())


def line(product_id: int, name: str, **images) -> contracts.CheckoutLine:
    return contracts.CheckoutLine(product_id=product_id, sku=f"SKU-{product_id}", name=name,
                                  unit_price=Decimal("7.50"), quantity=1, **images)


@pytest.fixture(autouse=True)
def ann():
    handlers.user_changed(
        contracts.UserRegistered(user_id=7, email="ann@example.com", name="Ann", is_staff=False, role="customer")
    )


def html_of(mail) -> str:
    [(html, mimetype)] = mail.alternatives
    assert mimetype == "text/html"
    return html


def test_the_confirmation_shows_thumbnails_by_absolute_urls_and_initials_for_the_rest(mailoutbox, settings):
    settings.SHOP_PUBLIC_URL = "https://shop.example.com"
    handlers.order_confirmed(confirmed(
        line(1, "Desk Lamp", image_url="/media/catalog/products/a.png", thumbnail_url="/media/catalog/products/a-t.jpg"),
        line(2, "Blue <b>Mug</b>"),
        line(3, "Tea", thumbnail_url="https://media.example.com/catalog/products/c-t.jpg"),
    ))

    [mail] = mailoutbox
    html = html_of(mail)
    assert '<img src="https://shop.example.com/media/catalog/products/a-t.jpg"' in html
    assert '<img src="https://media.example.com/catalog/products/c-t.jpg"' in html  # already absolute
    assert ">B</div>" in html and "Blue &lt;b&gt;Mug&lt;/b&gt;" in html  # the lettered tile; the name escaped
    assert html.count("<img ") == 2
    assert "1 x Desk Lamp at 7.50 = 7.50 USD" in mail.body  # the plain text part is as before


def test_an_order_from_before_images_still_gets_its_confirmation_with_every_initial(mailoutbox):
    handlers.order_confirmed(confirmed(line(1, "Desk Lamp"), line(2, "Blue Mug")))

    html = html_of(mailoutbox[0])
    assert "<img " not in html and ">DL</div>" in html and ">BM</div>" in html


def test_only_the_emails_that_list_products_have_an_html_part(mailoutbox):
    order = confirmed(line(1, "Desk Lamp"))
    handlers.order_shipped(contracts.OrderShipped(order_id=order.order_id, user_id=7, total=order.total,
                                                  occurred_at=order.occurred_at, shipping_address=None))

    assert mailoutbox[0].alternatives == []
