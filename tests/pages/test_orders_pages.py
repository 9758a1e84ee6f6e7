import uuid
from datetime import timedelta

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from orders import services
from orders.models import Order, OrderEvent
from orders.models import OutboxMessage as OrdersOutbox
from shopsite.testing import an_address, recorded

pytestmark = pytest.mark.django_db(databases="__all__")


def detail(client, order_id):
    return client.get(reverse("orders-detail", args=[order_id]))


def reserved(order_id):
    services.order_stock_reserved(order_id=order_id)


def paid(order_id):
    reserved(order_id)
    services.order_payment_succeeded(order_id=order_id, charge_id=uuid.uuid4(), amount=Order.objects.get(pk=order_id).total)


def test_the_history_lists_my_orders_with_status_and_total(shopper, customer, stranger, place_order):
    mine = place_order(customer, lines=[("MUG", "Mug", "9.50", 2), ("TEE", "Tee", "20.00", 1)])
    paid(mine)
    theirs = place_order(stranger)

    response = shopper.get(reverse("orders-list"))

    assert response.status_code == 200
    assert [order.id for order in response.context["page"].object_list] == [mine]
    assert "badge--confirmed" in response.text and "$39.00" in response.text
    assert "2 × Mug, 1 × Tee" in response.text
    assert str(theirs) not in response.text


def test_the_history_is_paginated(shopper, customer, place_order):
    for _ in range(12):
        place_order(customer)

    assert len(shopper.get(reverse("orders-list")).context["page"].object_list) == 10
    assert len(shopper.get(reverse("orders-list"), {"page": 2}).context["page"].object_list) == 2


def test_the_order_page_shows_status_lines_address_and_timeline(shopper, customer, place_order):
    order_id = place_order(customer, address=an_address(name="Casey", line2="Flat 2"))
    paid(order_id)

    response = detail(shopper, order_id)

    assert response.status_code == 200
    text = response.text
    assert 'id="order-status" data-status="confirmed">Confirmed</span>' in text
    assert "Casey<br>1 Main St<br>Flat 2<br>Springfield, IL 62701<br>United States" in text
    assert '<dd id="order-total">$19.00</dd>' in text
    for words in ("Order placed", "Items set aside for you", "Payment requested", "Payment received", "Order confirmed"):
        assert words in text
    assert 'id="order-timeline"' in text
    assert ">Cancel order</button>" in text


def test_an_order_in_flight_keeps_watching_itself(shopper, customer, place_order):
    order_id = place_order(customer)

    text = detail(shopper, order_id).text

    assert 'data-in-flight="true"' in text and 'data-watch="fast"' in text
    assert f'data-api-url="/api/orders/{order_id}/"' in text
    assert '<noscript><meta http-equiv="refresh"' in text


def test_a_settled_order_stops_watching(shopper, customer, place_order):
    order_id = place_order(customer)
    paid(order_id)
    services.order_customer_notified(order_id=order_id, subject="Your order is confirmed")

    text = detail(shopper, order_id).text

    assert 'data-in-flight="false"' in text
    assert "http-equiv=\"refresh\"" not in text
    assert "You were notified by email" in text
    # Staff may still ship it: the page keeps an eye on it, slowly.
    assert 'data-watch="slow"' in text


def test_a_delivered_order_is_not_watched_at_all(shopper, customer, place_order):
    order_id = place_order(customer)
    paid(order_id)
    services.order_ship(order_id=order_id)
    services.order_deliver(order_id=order_id)
    services.order_customer_notified(order_id=order_id, subject="Delivered")

    text = detail(shopper, order_id).text

    assert 'data-watch="none"' in text
    assert 'data-status="delivered">Delivered</span>' in text


def test_a_settled_order_stops_watching_even_if_the_email_never_comes(shopper, customer, place_order):
    order_id = place_order(customer)
    paid(order_id)
    OrderEvent.objects.filter(order_id=order_id).update(occurred_at=Order.objects.get(pk=order_id).created_at - timedelta(minutes=5))

    assert 'data-in-flight="false"' in detail(shopper, order_id).text


def test_a_declined_payment_says_so_in_words(shopper, customer, place_order):
    order_id = place_order(customer)
    reserved(order_id)
    services.order_payment_failed(order_id=order_id, code="card_declined", reason="Your card was declined")

    text = detail(shopper, order_id).text

    assert 'data-status="cancelled">Cancelled</span>' in text
    assert "<strong>Your card was declined.</strong>" in text
    assert "Nothing was charged" in text
    assert "card_declined" not in text
    assert ">Cancel order</button>" not in text


def test_out_of_stock_reads_as_words(shopper, customer, place_order):
    order_id = place_order(customer)
    services.order_stock_rejected(order_id=order_id, shortages=[])

    assert "Some items were out of stock, so nothing was charged." in detail(shopper, order_id).text


def test_someone_elses_order_is_404(shopper, stranger, place_order):
    theirs = place_order(stranger, address=an_address(line1="Secret Street 9"))

    response = detail(shopper, theirs)

    assert response.status_code == 404
    assert "Secret Street" not in response.text


def test_an_order_that_is_not_here_yet_waits_for_it(shopper):
    response = detail(shopper, uuid.uuid4())

    assert response.status_code == 404
    assert "Looking for your order" in response.text
    assert 'id="order-waiting"' in response.text


def test_cancelling_a_paid_order_refunds_it(shopper, customer, place_order):
    order_id = place_order(customer)
    paid(order_id)

    response = shopper.post(reverse("orders-cancel", args=[order_id]))

    assert response.status_code == 302
    assert response.url == reverse("orders-detail", args=[order_id])
    order = Order.objects.get(pk=order_id)
    assert (order.status, order.cancel_reason) == ("cancelled", "customer_request")
    assert [m["order_id"] for m in recorded(OrdersOutbox, "payment.refund_requested")] == [str(order_id)]
    assert [m["reason"] for m in recorded(OrdersOutbox, "order.cancelled")] == ["customer_request"]
    text = shopper.get(response.url).text
    assert "You cancelled this order." in text and "Refund requested" in text
    assert 'data-in-flight="true"' in text  # the refund is on its way


def test_a_shipped_order_cannot_be_cancelled(shopper, customer, place_order):
    order_id = place_order(customer)
    paid(order_id)
    services.order_ship(order_id=order_id)

    response = shopper.post(reverse("orders-cancel", args=[order_id]))

    assert [str(m) for m in get_messages(response.wsgi_request)] == ["An order that is shipped can no longer be cancelled."]
    assert Order.objects.get(pk=order_id).status == "shipped"
    assert ">Cancel order</button>" not in detail(shopper, order_id).text


def test_someone_elses_order_cannot_be_cancelled(shopper, stranger, place_order):
    theirs = place_order(stranger)

    assert shopper.post(reverse("orders-cancel", args=[theirs])).status_code == 404
    assert Order.objects.get(pk=theirs).status == "pending"


def test_order_pages_need_a_login(client, customer, place_order):
    order_id = place_order(customer)
    for response in (
        client.get(reverse("orders-list")),
        detail(client, order_id),
        client.post(reverse("orders-cancel", args=[order_id])),
    ):
        assert response.status_code == 302
        assert response.url.startswith(reverse("accounts-login"))
    assert Order.objects.get(pk=order_id).status == "pending"
