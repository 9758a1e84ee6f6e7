"""The order admin's actions go through the orders service, so each one records its message."""

import uuid
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.contrib.messages import get_messages
from django.urls import reverse

from orders import services
from orders.models import Order, OutboxMessage
from shopsite import contracts
from shopsite.testing import an_address, recorded
from tests.staff_permissions import STAFF_PERMISSIONS, permissions

pytestmark = pytest.mark.django_db(databases=["default", "orders"])

CHANGELIST = "admin:orders_order_changelist"


def an_order(status: str = "confirmed") -> Order:
    """An order walked through the saga up to ``status``."""
    checkout = contracts.CartCheckedOut(
        checkout_id=uuid.uuid4(), order_id=uuid.uuid4(), user_id=7, total=Decimal("19.00"),
        lines=[contracts.CheckoutLine(product_id=1, sku="MUG", name="Mug", unit_price=Decimal("9.50"), quantity=2)],
        shipping_address=an_address(), payment_method_id=uuid.uuid4(),
    )
    order = services.order_place(checkout=checkout)
    if status != "pending":
        services.order_stock_reserved(order_id=order.pk)
    if status in ("confirmed", "shipped"):
        services.order_payment_succeeded(order_id=order.pk, charge_id=uuid.uuid4(), amount=order.total)
    if status == "shipped":
        services.order_ship(order_id=order.pk)
    order.refresh_from_db()
    assert order.status == status
    return order


def run_action(client, action: str, *orders: Order):
    return client.post(reverse(CHANGELIST), {"action": action, "_selected_action": [str(o.pk) for o in orders]})


def about(order: Order, message_type: str) -> list[dict]:
    return [m for m in recorded(OutboxMessage, message_type) if m["order_id"] == str(order.pk)]


def test_mark_shipped_ships_and_tells_the_other_services(staff_client):
    order, other = an_order(), an_order()

    response = run_action(staff_client, "mark_shipped", order, other)

    assert response.status_code == 302
    assert Order.objects.get(pk=order.pk).status == "shipped"
    assert Order.objects.get(pk=other.pk).status == "shipped"
    [shipped] = about(order, "order.shipped")
    assert (shipped["user_id"], shipped["total"]) == (7, "19.00")
    assert "2 order(s) marked shipped." in [str(m) for m in get_messages(response.wsgi_request)]


def test_mark_delivered_delivers_a_shipped_order(staff_client):
    order = an_order("shipped")

    run_action(staff_client, "mark_delivered", order)

    assert Order.objects.get(pk=order.pk).status == "delivered"
    assert len(about(order, "order.delivered")) == 1


def test_cancel_of_a_paid_order_cancels_it_and_asks_for_the_refund(staff_client):
    order = an_order("confirmed")

    run_action(staff_client, "cancel", order)

    order.refresh_from_db()
    assert (order.status, order.cancel_reason) == ("cancelled", "staff_request")
    [cancelled] = about(order, "order.cancelled")
    assert (cancelled["reason"], cancelled["refund_due"]) == ("staff_request", True)
    assert len(about(order, "payment.refund_requested")) == 1


def test_an_action_the_status_does_not_allow_changes_nothing_and_says_why(staff_client):
    order = an_order("pending")

    response = run_action(staff_client, "mark_delivered", order)

    assert Order.objects.get(pk=order.pk).status == "pending"
    assert about(order, "order.delivered") == []
    [warning] = [str(m) for m in get_messages(response.wsgi_request)]
    assert "cannot be marked delivered" in warning


def test_staff_who_may_only_view_orders_are_not_offered_the_actions(client, django_user_model):
    viewer = django_user_model.objects.create_user(email="viewer@example.com", password="x", name="V", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_order"))
    client.force_login(viewer)
    order = an_order()

    page = client.get(reverse(CHANGELIST))
    run_action(client, "mark_shipped", order)

    assert page.status_code == 200 and "mark_shipped" not in page.content.decode()
    assert Order.objects.get(pk=order.pk).status == "confirmed"


# The admin's actions need the same permission as the matching staff operation of the API.
ACTIONS = {
    "mark_shipped": ("confirmed", "shipped", STAFF_PERMISSIONS["post", "/api/orders/{order_id}/ship/"]),
    "mark_delivered": ("shipped", "delivered", STAFF_PERMISSIONS["post", "/api/orders/{order_id}/deliver/"]),
    "cancel": ("confirmed", "cancelled", STAFF_PERMISSIONS["post", "/api/orders/{order_id}/staff-cancel/"]),
}


def staff_with(django_user_model, *granted: str):
    user = django_user_model.objects.create_user(email="clerk@example.com", password="x", name="C", is_staff=True)
    user.user_permissions.set(permissions("orders.view_order", *granted))
    return user


@pytest.mark.parametrize("action", ACTIONS)
def test_an_action_needs_its_own_permission_not_change(client, django_user_model, action):
    before, _, needed = ACTIONS[action]
    others = [p for p in STAFF_PERMISSIONS.values() if p != needed]
    client.force_login(staff_with(django_user_model, "orders.change_order", *others))
    order = an_order(before)

    page = client.get(reverse(CHANGELIST))
    run_action(client, action, order)

    assert page.status_code == 200 and f'value="{action}"' not in page.content.decode()
    assert Order.objects.get(pk=order.pk).status == before


@pytest.mark.parametrize("action", ACTIONS)
def test_an_action_is_offered_and_runs_with_its_permission(client, django_user_model, action):
    before, after, needed = ACTIONS[action]
    client.force_login(staff_with(django_user_model, needed))
    order = an_order(before)

    page = client.get(reverse(CHANGELIST))
    run_action(client, action, order)

    assert f'value="{action}"' in page.content.decode()
    assert Order.objects.get(pk=order.pk).status == after
