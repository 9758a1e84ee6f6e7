import uuid
from decimal import Decimal

import pytest

from orders import services
from orders.models import Order, OutboxMessage
from shopsite import contracts
from shopsite.testing import an_address, recorded

from .conftest import CUSTOMER, OTHER_CUSTOMER, STAFF, assert_error, assert_unauthenticated, client_for

pytestmark = pytest.mark.django_db(databases=["orders"])

ORDERS, ALL_ORDERS = "/api/orders/", "/api/orders/all/"


def place(user=CUSTOMER) -> Order:
    return services.order_place(
        checkout=contracts.CartCheckedOut(
            checkout_id=uuid.uuid4(), order_id=uuid.uuid4(), user_id=user.id,
            lines=[contracts.CheckoutLine(product_id=1, sku="MUG", name="Mug", unit_price=Decimal("9.50"), quantity=2)],
            total=Decimal("19.00"), shipping_address=an_address(), payment_method_id=uuid.uuid4(),
        )
    )


def confirmed(user=CUSTOMER) -> Order:
    order = place(user)
    services.order_stock_reserved(order_id=order.id)
    services.order_payment_succeeded(order_id=order.id, charge_id=uuid.uuid4(), amount=order.total)
    return order


def shipped(user=CUSTOMER) -> Order:
    return services.order_ship(order_id=confirmed(user).id)


def status_of(order: Order) -> str:
    order.refresh_from_db()
    return order.status


@pytest.fixture
def staff():
    return client_for(STAFF)


# --- a customer's orders -------------------------------------------------------


def test_list_shows_only_the_users_own_orders(customer):
    mine = place()
    place(OTHER_CUSTOMER)

    body = customer.get(ORDERS).json()

    assert (body["count"], body["next"], body["previous"]) == (1, None, None)
    assert body["results"][0] == {
        "id": str(mine.id), "status": "pending", "cancel_reason": "", "total": "19.00", "currency": "USD",
        "created_at": body["results"][0]["created_at"],
    }


def test_list_filters_by_status(customer):
    pending, paid = place(), confirmed()

    assert [o["id"] for o in customer.get(ORDERS, {"status": "confirmed"}).json()["results"]] == [str(paid.id)]
    assert [o["id"] for o in customer.get(ORDERS, {"status": "pending"}).json()["results"]] == [str(pending.id)]


def test_list_refuses_an_unknown_status(customer):
    assert list(assert_error(customer.get(ORDERS, {"status": "lost"}), 400)["extra"]["fields"]) == ["status"]


def test_list_needs_a_signed_in_user(anonymous):
    assert_unauthenticated(anonymous.get(ORDERS))


def test_detail_shows_lines_and_timeline(customer):
    order = confirmed()

    body = customer.get(f"{ORDERS}{order.id}/").json()

    assert (body["status"], body["total"]) == ("confirmed", "19.00")
    assert body["shipping_address"] == {
        "name": "Casey Customer", "line1": "1 Main St", "line2": "", "city": "Springfield", "region": "IL",
        "postal_code": "62701", "country": "US", "text": "",
        "lines": ["Casey Customer", "1 Main St", "Springfield, IL 62701", "United States"],
    }
    assert body["lines"] == [
        {"product_id": 1, "sku": "MUG", "name": "Mug", "unit_price": "9.50", "quantity": 2, "line_total": "19.00",
         "image_url": "", "thumbnail_url": ""}
    ]
    assert [e["kind"] for e in body["timeline"]] == ["placed", "stock_reserved", "payment_requested", "paid", "confirmed"]


def test_detail_of_someone_elses_order_is_a_404(customer):
    assert assert_error(customer.get(f"{ORDERS}{place(OTHER_CUSTOMER).id}/"), 404)["message"] == "Order not found"


def test_detail_needs_a_signed_in_user(anonymous):
    assert_unauthenticated(anonymous.get(f"{ORDERS}{place().id}/"))


def test_cancel(customer):
    order = confirmed()

    response = customer.post(f"{ORDERS}{order.id}/cancel/")

    assert response.status_code == 202
    assert (response.json()["status"], response.json()["cancel_reason"]) == ("cancelled", "customer_request")
    assert [m["order_id"] for m in recorded(OutboxMessage, "payment.refund_requested")] == [str(order.id)]


def test_cancel_of_a_shipped_order_is_a_409(customer):
    order = shipped()

    assert assert_error(customer.post(f"{ORDERS}{order.id}/cancel/"), 409)["extra"] == {"status": "shipped"}
    assert status_of(order) == "shipped"


def test_cancel_of_someone_elses_order_is_a_404(customer):
    order = place(OTHER_CUSTOMER)

    assert_error(customer.post(f"{ORDERS}{order.id}/cancel/"), 404)
    assert status_of(order) == "pending"


def test_cancel_needs_a_signed_in_user_and_a_post(anonymous, customer):
    order = place()

    assert_unauthenticated(anonymous.post(f"{ORDERS}{order.id}/cancel/"))
    assert_error(customer.get(f"{ORDERS}{order.id}/cancel/"), 405)
    assert status_of(order) == "pending"


# --- staff: every order ----------------------------------------------------------


def test_staff_list_every_order_filtered_by_customer_and_status(staff):
    ann_pending, ann_paid, bob_paid = place(), confirmed(), confirmed(OTHER_CUSTOMER)

    def ids(**params):
        return {o["id"] for o in staff.get(ALL_ORDERS, params).json()["results"]}

    assert ids() == {str(ann_pending.id), str(ann_paid.id), str(bob_paid.id)}
    assert ids(user_id=CUSTOMER.id) == {str(ann_pending.id), str(ann_paid.id)}
    assert ids(status="confirmed", user_id=OTHER_CUSTOMER.id) == {str(bob_paid.id)}
    assert staff.get(ALL_ORDERS).json()["results"][0]["user_id"] in (CUSTOMER.id, OTHER_CUSTOMER.id)


@pytest.mark.parametrize("params, field", [({"user_id": "ann"}, "user_id"), ({"status": "lost"}, "status")])
def test_staff_list_refuses_bad_filters(staff, params, field):
    assert list(assert_error(staff.get(ALL_ORDERS, params), 400)["extra"]["fields"]) == [field]


def test_staff_list_is_for_staff_only(anonymous, customer):
    place()

    assert_unauthenticated(anonymous.get(ALL_ORDERS))
    assert assert_error(customer.get(ALL_ORDERS), 403)["message"] == (
        "Only staff with the permission orders.view_order may do this."
    )


# --- staff: ship, deliver, cancel --------------------------------------------------


def test_staff_ship(staff):
    order = confirmed()

    response = staff.post(f"{ORDERS}{order.id}/ship/")

    assert response.status_code == 200
    assert (response.json()["status"], response.json()["user_id"]) == ("shipped", CUSTOMER.id)
    assert [m["order_id"] for m in recorded(OutboxMessage, "order.shipped")] == [str(order.id)]


def test_staff_deliver(staff):
    order = shipped()

    response = staff.post(f"{ORDERS}{order.id}/deliver/")

    assert response.status_code == 200
    assert response.json()["status"] == "delivered"
    assert [m["order_id"] for m in recorded(OutboxMessage, "order.delivered")] == [str(order.id)]


def test_staff_cancel_any_customers_order(staff):
    order = confirmed(OTHER_CUSTOMER)

    response = staff.post(f"{ORDERS}{order.id}/staff-cancel/")

    assert response.status_code == 202
    assert (response.json()["status"], response.json()["cancel_reason"]) == ("cancelled", "staff_request")
    assert [m["reason"] for m in recorded(OutboxMessage, "order.cancelled")] == ["staff_request"]


@pytest.mark.parametrize(
    "action, make, status",
    [("ship", place, "pending"), ("deliver", confirmed, "confirmed"), ("staff-cancel", shipped, "shipped")],
)
def test_staff_operations_refuse_an_order_in_the_wrong_state(staff, action, make, status):
    order = make()

    assert assert_error(staff.post(f"{ORDERS}{order.id}/{action}/"), 409)["extra"] == {"status": status}
    assert status_of(order) == status


@pytest.mark.parametrize("action", ["ship", "deliver", "staff-cancel"])
def test_staff_operations_on_an_unknown_order_are_a_404(staff, action):
    assert_error(staff.post(f"{ORDERS}{uuid.uuid4()}/{action}/"), 404)


@pytest.mark.parametrize("action", ["ship", "deliver", "staff-cancel"])
def test_staff_operations_are_for_staff_only(anonymous, action):
    order = confirmed()
    owner = client_for(CUSTOMER)

    assert_unauthenticated(anonymous.post(f"{ORDERS}{order.id}/{action}/"))
    assert_error(owner.post(f"{ORDERS}{order.id}/{action}/"), 403)
    assert status_of(order) == "confirmed"
