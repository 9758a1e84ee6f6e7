"""The message trace of an order, built from rows the real outbox and consumer wrote."""

import uuid
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
from django.apps import apps
from django.db import transaction
from django.urls import reverse

from orders.models import Order
from shopsite import contracts
from shopsite.bus.consumer import Consumer
from shopsite.bus.handlers import Handler
from shopsite.bus.trace import correlation_ids_for_order, find_order_ids, trace_order
from shopsite.ids import short, uuid7
from shopsite.testing import an_address

from .conftest import make_row

pytestmark = pytest.mark.django_db(databases="__all__", transaction=True)

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=timezone.utc)
STEP = timedelta(milliseconds=100)


@pytest.fixture(autouse=True)
def no_publishing(settings):
    # Only the tables matter here: nothing goes to the broker after commit.
    settings.BUS = {**settings.BUS, "PUBLISH_ON_COMMIT": False}


def record(service: str, message, **ids):
    with transaction.atomic(using=_db(service)):
        return apps.get_model(service, "OutboxMessage").record(message, **ids)


def _db(service: str) -> str:
    return "default" if service == "accounts" else service


class Flow:
    """Delivers envelopes to services the way the consumer does, with handlers that record what follows."""

    def __init__(self):
        self.handled = []

    def deliver(self, envelope, service: str, *, then=None):
        message = contracts.MESSAGE_TYPES[envelope.type].model_validate(envelope.payload)
        follow_up = []

        def handle(received):
            if then is not None:
                follow_up.append(apps.get_model(service, "OutboxMessage").record(then))

        handler = Handler(f"{service}.handles-{envelope.type.replace('.', '-').replace('_', '-')}", handle)
        Consumer(service, handlers={type(message): handler}).apply(envelope, message, (handler,))
        return follow_up[0] if follow_up else None


def checkout_flow(order_id: uuid.UUID, checkout_id: uuid.UUID, user_id: int = 7):
    """cart.checked_out -> ... -> notification.sent, each hop handled by the services that subscribe."""
    flow = Flow()
    amount = Decimal("19.00")
    line = contracts.ReservedLine(product_id=1, quantity=2)
    checked_out = record("cart", contracts.CartCheckedOut(
        checkout_id=checkout_id, order_id=order_id, user_id=user_id, total=amount, shipping_address=an_address(),
        payment_method_id=uuid.uuid4(),
        lines=[contracts.CheckoutLine(product_id=1, sku="MUG", name="Mug", unit_price=Decimal("9.50"), quantity=2)],
    ), correlation_id=checkout_id)
    placed = flow.deliver(checked_out, "orders", then=contracts.OrderPlaced(
        order_id=order_id, user_id=user_id, lines=[line], total=amount))
    reserved = flow.deliver(placed, "catalog", then=contracts.StockReserved(order_id=order_id, lines=[line]))
    flow.deliver(placed, "cart")
    requested = flow.deliver(reserved, "orders", then=contracts.RequestPayment(
        order_id=order_id, user_id=user_id, amount=amount, currency="USD", payment_method_id=uuid.uuid4()))
    paid = flow.deliver(requested, "payments", then=contracts.PaymentSucceeded(
        order_id=order_id, charge_id=uuid.uuid4(), amount=amount))
    confirmed = flow.deliver(paid, "orders", then=contracts.OrderConfirmed(
        order_id=order_id, user_id=user_id, total=amount, currency="USD", occurred_at=T0, lines=[],
        shipping_address=an_address()))
    flow.deliver(confirmed, "catalog")
    flow.deliver(confirmed, "accounts")
    sent = flow.deliver(confirmed, "notifications", then=contracts.NotificationSent(
        notification_id=uuid.uuid4(), user_id=user_id, order_id=order_id, kind="order_confirmed",
        subject="Your order", body="Thanks", sent_at=T0))
    flow.deliver(sent, "accounts")
    flow.deliver(sent, "orders")


def pin_the_clock(order_of_types: list[str]) -> None:
    """Message k recorded at T0 + k*100ms; its j-th handling (by service name) 7*(j+1) ms after that."""
    for service in ("accounts", "catalog", "cart", "orders", "payments", "notifications"):
        outbox = apps.get_model(service, "OutboxMessage")
        for row in outbox.objects.filter(type__in=order_of_types):
            created = T0 + STEP * order_of_types.index(row.type)
            outbox.objects.filter(pk=row.pk).update(created_at=created, sent_at=created + timedelta(milliseconds=2))
    for message_type in order_of_types:
        created = T0 + STEP * order_of_types.index(message_type)
        rows = [
            (service, row)
            for service in sorted(("accounts", "catalog", "cart", "orders", "payments", "notifications"))
            for row in apps.get_model(service, "InboxMessage").objects.filter(type=message_type)
        ]
        for j, (service, row) in enumerate(rows):
            type(row).objects.filter(pk=row.pk).update(processed_at=created + timedelta(milliseconds=7 * (j + 1)))


FLOW = ["cart.checked_out", "order.placed", "stock.reserved", "payment.requested", "payment.succeeded",
        "order.confirmed", "notification.sent"]


@pytest.fixture
def order_id():
    order_id, checkout_id = uuid.uuid4(), uuid.uuid4()
    checkout_flow(order_id, checkout_id)
    pin_the_clock(FLOW)
    return order_id


def test_the_order_leads_to_its_checkouts_flow(order_id):
    other = uuid.uuid4()
    checkout_flow(other, uuid.uuid4())

    [correlation_id] = correlation_ids_for_order(order_id)

    cart_outbox = apps.get_model("cart", "OutboxMessage")
    assert cart_outbox.objects.get(type="cart.checked_out", correlation_id=correlation_id).body.count(str(order_id)) == 1
    assert find_order_ids(str(order_id)[:8]) == [order_id]


def test_every_hop_of_the_flow_in_time_order_with_its_delay(order_id):
    checkout_flow(uuid.uuid4(), uuid.uuid4())  # another customer's order: not in this trace

    trace = trace_order(order_id)

    assert [(m.type, m.producer) for m in trace.messages] == [
        ("cart.checked_out", "cart"), ("order.placed", "orders"), ("stock.reserved", "catalog"),
        ("payment.requested", "orders"), ("payment.succeeded", "payments"), ("order.confirmed", "orders"),
        ("notification.sent", "notifications"),
    ]
    hops = {m.type: [(h.service, h.delay_ms) for h in m.hops] for m in trace.messages}
    assert hops["order.placed"] == [("cart", 7), ("catalog", 14)]
    assert hops["order.confirmed"] == [("accounts", 7), ("catalog", 14), ("notifications", 21)]
    assert hops["notification.sent"] == [("accounts", 7), ("orders", 14)]
    confirmed = trace.messages[5]
    assert confirmed.hops[2].handler == "notifications.handles-order-confirmed"
    assert confirmed.causation_id == trace.messages[4].id  # recorded while handling payment.succeeded
    assert (confirmed.publish_delay_ms, trace.offset_ms(confirmed.started_at)) == (2, 500)


def test_a_later_step_by_staff_joins_the_trace_from_its_own_flow(order_id):
    shipped = record("orders", contracts.OrderShipped(
        order_id=order_id, user_id=7, total=Decimal("19.00"), currency="USD", occurred_at=T0,
        shipping_address=an_address()))
    Flow().deliver(shipped, "notifications")

    trace = trace_order(order_id)

    assert len(trace.correlation_ids) == 2 and shipped.correlation_id == trace.correlation_ids[1]
    assert [m.type for m in trace.messages][-1] == "order.shipped"
    assert [h.service for h in trace.messages[-1].hops] == ["notifications"]


def test_the_trace_page_draws_the_flow_and_lists_every_hop(staff_client, order_id):
    response = staff_client.get(reverse("admin:bus-trace"), {"order": str(order_id)})

    assert response.status_code == 200
    page = response.content.decode()
    diagram = response.context["diagram"]
    assert [lane.service for lane in diagram.lanes] == ["accounts", "catalog", "cart", "orders", "payments",
                                                         "notifications"]
    placed = diagram.steps[1]
    lane_x = {lane.service: lane.x for lane in diagram.lanes}
    assert placed.bar_x + 4 == lane_x["orders"]
    assert [a.label for a in placed.arrows] == ["7 ms", "14 ms"]
    assert all(a.path.endswith(f"H{lane_x[s] + 7}") for a, s in zip(placed.arrows, ["cart", "catalog"]))
    assert [s.time_label for s in diagram.steps] == [f"+{k * 100} ms" for k in range(7)]
    assert page.index("<svg") < page.index("Every hop")
    positions = [page.index(f"<code title=\"{m.id}\">{m.type}</code>") for m in response.context["trace"].messages]
    assert positions == sorted(positions)
    assert '<td class="num nowrap">21 ms</td>' in page
    assert page.count('rowspan="3"') == 6  # order.confirmed's six columns span its three consumers
    assert f'href="/admin/orders/order/{order_id}/change/"' in page


def test_the_first_characters_of_an_order_id_find_its_trace(staff_client, order_id):
    response = staff_client.get(reverse("admin:bus-trace"), {"order": str(order_id)[:8]})

    assert response.context["order_id"] == order_id
    assert len(response.context["trace"].messages) == 7


def test_the_order_admin_page_links_to_the_trace(staff_client):
    order = make_row(Order)

    page = staff_client.get(reverse("admin:orders_order_change", args=[order.pk])).content.decode()

    assert f'href="{reverse("admin:bus-trace")}?order={order.pk}"' in page


def test_an_unknown_order_is_said_so(staff_client, order_id):
    response = staff_client.get(reverse("admin:bus-trace"), {"order": str(uuid.uuid4())})

    assert response.status_code == 200
    assert "No message in any outbox is about an order" in response.content.decode()


def test_a_time_ordered_order_is_found_by_the_number_its_customer_is_shown():
    # Made in the same minute, the two ids share their first characters; the number is their last ones.
    order_id, twin = uuid7(1_800_000_000.0), uuid7(1_800_000_020.0)
    for made in (order_id, twin):
        checkout_flow(made, uuid7(1_800_000_000.0))

    assert find_order_ids(short(order_id)) == find_order_ids(f" #{short(order_id)}") == [order_id]
    assert sorted(find_order_ids(str(order_id)[:8])) == sorted([order_id, twin])
