import json
import uuid
from decimal import Decimal

import pytest

from orders import handlers, services
from orders.models import Order, OrderEvent, OutboxMessage
from shopsite import contracts
from shopsite.errors import Conflict, NotFound
from shopsite.testing import an_address, recorded

pytestmark = pytest.mark.django_db(databases=["orders"])


def checked_out(**overrides) -> contracts.CartCheckedOut:
    fields = dict(
        checkout_id=uuid.uuid4(),
        order_id=uuid.uuid4(),
        user_id=7,
        lines=[
            contracts.CheckoutLine(product_id=1, sku="MUG", name="Mug", unit_price=Decimal("9.50"), quantity=2),
            contracts.CheckoutLine(product_id=2, sku="TEE", name="Tee", unit_price=Decimal("20.00"), quantity=1),
        ],
        total=Decimal("39.00"),
        shipping_address=an_address(),
        payment_method_id=uuid.uuid4(),
    )
    fields.update(overrides)
    return contracts.CartCheckedOut(**fields)


def status_of(order_id) -> str:
    return Order.objects.get(pk=order_id).status


def timeline(order_id) -> list[str]:
    return list(OrderEvent.objects.filter(order_id=order_id).values_list("kind", flat=True))


def placed_and_reserved() -> contracts.CartCheckedOut:
    checkout = checked_out()
    handlers.place_order(checkout)
    handlers.request_payment(contracts.StockReserved(order_id=checkout.order_id, lines=[]))
    return checkout


def test_checkout_places_a_pending_order_with_the_total_recomputed():
    checkout = checked_out(total=Decimal("1.00"))  # a wrong total is not trusted

    handlers.place_order(checkout)

    order = Order.objects.get(pk=checkout.order_id)
    assert order.status == "pending"
    assert order.total == Decimal("39.00")
    assert [(l.product_id, l.quantity) for l in order.lines.all()] == [(1, 2), (2, 1)]
    [placed] = recorded(OutboxMessage, "order.placed")
    assert placed["total"] == "39.00"
    assert placed["lines"] == [{"product_id": 1, "quantity": 2}, {"product_id": 2, "quantity": 1}]


def test_a_repeated_checkout_message_places_nothing_new():
    checkout = checked_out()
    handlers.place_order(checkout)
    handlers.place_order(checkout)

    assert Order.objects.count() == 1
    assert len(recorded(OutboxMessage, "order.placed")) == 1


def test_reserved_stock_requests_payment_once():
    checkout = placed_and_reserved()
    handlers.request_payment(contracts.StockReserved(order_id=checkout.order_id, lines=[]))

    assert status_of(checkout.order_id) == "awaiting_payment"
    [request] = recorded(OutboxMessage, "payment.requested")
    assert request["amount"] == "39.00"
    assert request["payment_method_id"] == str(checkout.payment_method_id)


def test_rejected_stock_cancels_the_order_as_out_of_stock():
    checkout = checked_out()
    handlers.place_order(checkout)
    shortage = contracts.Shortage(product_id=1, requested=2, available=1)

    handlers.cancel_for_stock(contracts.StockRejected(order_id=checkout.order_id, shortages=[shortage]))

    order = Order.objects.get(pk=checkout.order_id)
    assert (order.status, order.cancel_reason) == ("cancelled", "out_of_stock")
    [cancelled] = recorded(OutboxMessage, "order.cancelled")
    assert cancelled["reason"] == "out_of_stock" and cancelled["refund_due"] is False
    assert recorded(OutboxMessage, "payment.requested") == []


def test_payment_confirms_the_order_and_a_repeat_changes_nothing():
    checkout = placed_and_reserved()
    paid = contracts.PaymentSucceeded(order_id=checkout.order_id, charge_id=uuid.uuid4(), amount=Decimal("39.00"))

    handlers.confirm_order(paid)
    handlers.confirm_order(paid)

    assert status_of(checkout.order_id) == "confirmed"
    [confirmed] = recorded(OutboxMessage, "order.confirmed")
    assert confirmed["total"] == "39.00" and len(confirmed["lines"]) == 2
    assert timeline(checkout.order_id) == [
        "placed", "stock_reserved", "payment_requested", "paid", "confirmed"
    ]


def test_declined_payment_cancels_and_a_late_success_is_refunded():
    checkout = placed_and_reserved()
    handlers.cancel_for_payment(
        contracts.PaymentFailed(order_id=checkout.order_id, code="card_declined", reason="Your card was declined")
    )
    assert Order.objects.get(pk=checkout.order_id).cancel_reason == "payment_declined"

    handlers.confirm_order(
        contracts.PaymentSucceeded(order_id=checkout.order_id, charge_id=uuid.uuid4(), amount=Decimal("39.00"))
    )

    assert status_of(checkout.order_id) == "cancelled"
    assert recorded(OutboxMessage, "order.confirmed") == []
    assert len(recorded(OutboxMessage, "payment.refund_requested")) == 1


def test_cancelling_a_paid_order_requests_a_refund():
    checkout = placed_and_reserved()
    handlers.confirm_order(
        contracts.PaymentSucceeded(order_id=checkout.order_id, charge_id=uuid.uuid4(), amount=Decimal("39.00"))
    )

    services.order_cancel(order_id=checkout.order_id, user_id=7, reason="customer_request")

    [cancelled] = recorded(OutboxMessage, "order.cancelled")
    assert cancelled["refund_due"] is True
    assert len(recorded(OutboxMessage, "payment.refund_requested")) == 1


def test_only_the_owner_can_cancel_and_not_after_shipping():
    checkout = placed_and_reserved()
    with pytest.raises(NotFound):
        services.order_cancel(order_id=checkout.order_id, user_id=8, reason="customer_request")
    handlers.confirm_order(
        contracts.PaymentSucceeded(order_id=checkout.order_id, charge_id=uuid.uuid4(), amount=Decimal("39.00"))
    )
    services.order_ship(order_id=checkout.order_id)

    with pytest.raises(Conflict):
        services.order_cancel(order_id=checkout.order_id, user_id=7, reason="customer_request")
    assert status_of(checkout.order_id) == "shipped"


def test_shipping_and_delivery_follow_confirmation_only():
    checkout = placed_and_reserved()
    with pytest.raises(Conflict):
        services.order_ship(order_id=checkout.order_id)
    handlers.confirm_order(
        contracts.PaymentSucceeded(order_id=checkout.order_id, charge_id=uuid.uuid4(), amount=Decimal("39.00"))
    )

    services.order_ship(order_id=checkout.order_id)
    services.order_deliver(order_id=checkout.order_id)

    assert status_of(checkout.order_id) == "delivered"
    assert [m["order_id"] for m in recorded(OutboxMessage, "order.delivered")] == [str(checkout.order_id)]


def test_notifications_land_on_the_timeline():
    checkout = placed_and_reserved()
    handlers.note_notification(contracts.NotificationSent(
        notification_id=uuid.uuid4(), user_id=7, order_id=checkout.order_id, kind="order_confirmed",
        subject="Your order is confirmed", body="…", sent_at="2026-01-01T00:00:00Z",
    ))
    assert timeline(checkout.order_id)[-1] == "customer_notified"


STATUS_TYPES = ["order.confirmed", "order.cancelled", "order.shipped", "order.delivered"]


def status_versions(order_id) -> list[tuple[str, int]]:
    """(type, version) of every status message about the order, in the order they were recorded."""
    rows = OutboxMessage.objects.filter(type__in=STATUS_TYPES).order_by("created_at", "id")
    return [(row.type, json.loads(row.body)["payload"]["version"]) for row in rows
            if json.loads(row.body)["payload"]["order_id"] == str(order_id)]


def pay(checkout) -> None:
    handlers.confirm_order(
        contracts.PaymentSucceeded(order_id=checkout.order_id, charge_id=uuid.uuid4(), amount=Decimal("39.00"))
    )


def test_every_status_of_an_order_has_its_place_in_the_saga():
    assert set(contracts.ORDER_SAGA) == set(Order.Status.values)


@pytest.mark.parametrize("path", ["delivered", "cancelled_by_customer", "cancelled_by_staff", "free_then_cancelled"])
def test_every_path_through_the_saga_sends_growing_versions(path):
    # Replicas (accounts' order summaries) keep the status with the highest version: on no path may a later
    # message carry a lower one.
    if path == "free_then_cancelled":
        checkout = checked_out(lines=[contracts.CheckoutLine(product_id=1, sku="GIFT", name="Gift",
                                                              unit_price=Decimal("0.00"), quantity=1)])
        handlers.place_order(checkout)
        handlers.request_payment(contracts.StockReserved(order_id=checkout.order_id, lines=[]))
    else:
        checkout = placed_and_reserved()
        pay(checkout)
    if path == "delivered":
        services.order_ship(order_id=checkout.order_id)
        services.order_deliver(order_id=checkout.order_id)
    elif path == "cancelled_by_staff":
        services.order_cancel(order_id=checkout.order_id, reason="staff_request")
    else:
        services.order_cancel(order_id=checkout.order_id, user_id=7, reason="customer_request")

    sent = status_versions(checkout.order_id)
    versions = [version for _, version in sent]
    assert len(sent) >= 2 and versions == sorted(set(versions))
    assert [Order.SAGA[type.removeprefix("order.")] for type, _ in sent] == versions


def test_a_late_payment_on_a_cancelled_order_sends_no_status():
    checkout = placed_and_reserved()
    services.order_cancel(order_id=checkout.order_id, user_id=7, reason="customer_request")

    pay(checkout)

    assert status_versions(checkout.order_id) == [("order.cancelled", Order.SAGA["cancelled"])]
