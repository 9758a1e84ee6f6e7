import functools
import uuid
from datetime import datetime, timezone
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model

from accounts import handlers
from accounts.models import CustomerOrder, InboxItem, OutboxMessage
from accounts.selectors import user_summary
from accounts.services import user_delete, user_register, user_update
from shopsite import contracts
from shopsite.errors import ApplicationError
from shopsite.testing import recorded

pytestmark = pytest.mark.django_db(databases=["default"])

NOW = datetime(2025, 1, 1, tzinfo=timezone.utc)


def order_message(kind, order_id, *, user_id=7, total="12.00", **extra):
    if "shipping_address" in kind.model_fields:
        extra.setdefault("shipping_address", None)
    return kind(order_id=order_id, user_id=user_id, total=Decimal(total), occurred_at=NOW, **extra)


def confirmed(order_id, **kw):
    return order_message(contracts.OrderConfirmed, order_id, lines=[], **kw)


def test_order_status_only_moves_forward_whatever_the_delivery_order():
    order_id = uuid.uuid4()

    handlers.order_shipped(order_message(contracts.OrderShipped, order_id))
    handlers.order_confirmed(confirmed(order_id))  # late
    assert CustomerOrder.objects.get(pk=order_id).status == "shipped"

    handlers.order_delivered(order_message(contracts.OrderDelivered, order_id))
    handlers.order_shipped(order_message(contracts.OrderShipped, order_id))  # repeated
    assert CustomerOrder.objects.get(pk=order_id).status == "delivered"
    assert CustomerOrder.objects.count() == 1


def test_applying_a_status_says_whether_the_summary_moved():
    from accounts.services import customer_order_apply

    order_id = uuid.uuid4()
    apply = functools.partial(customer_order_apply, order_id=order_id, user_id=7, total=Decimal("12.00"))

    assert apply(status="confirmed") is True
    assert apply(status="shipped") is True
    assert apply(status="confirmed") is False  # late
    assert apply(status="shipped") is False  # repeated
    assert CustomerOrder.objects.get(pk=order_id).status == "shipped"


def test_cancellation_outranks_every_other_status():
    order_id = uuid.uuid4()
    handlers.order_cancelled(
        order_message(contracts.OrderCancelled, order_id, reason="payment_declined", refund_due=False)
    )
    handlers.order_confirmed(confirmed(order_id))

    assert CustomerOrder.objects.get(pk=order_id).status == "cancelled"


def test_versioned_and_older_unversioned_status_messages_end_at_the_furthest_status():
    order_id = uuid.uuid4()
    deliveries = [
        order_message(contracts.OrderShipped, order_id, version=3),
        confirmed(order_id, version=2),  # late
        confirmed(order_id),  # from before versions, late as well
        order_message(contracts.OrderShipped, order_id, version=3),  # repeated
        order_message(contracts.OrderDelivered, order_id, version=4),
        order_message(contracts.OrderShipped, order_id),  # from before versions, repeated
    ]

    for message in deliveries:
        handlers.HANDLERS[type(message)](message)

    order = CustomerOrder.objects.get(pk=order_id)
    assert (order.status, order.version, order.user_id, order.total) == ("delivered", 4, 7, Decimal("12.00"))


def test_summary_counts_and_sums_completed_orders_of_that_user():
    first, second, cancelled = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    handlers.order_confirmed(confirmed(first, total="10.10"))
    handlers.order_confirmed(confirmed(first, total="10.10"))  # redelivered
    handlers.order_confirmed(confirmed(second, total="5.05"))
    handlers.order_shipped(order_message(contracts.OrderShipped, second, total="5.05"))
    handlers.order_cancelled(
        order_message(contracts.OrderCancelled, cancelled, total="50.00", reason="out_of_stock", refund_due=False)
    )
    handlers.order_confirmed(confirmed(uuid.uuid4(), user_id=8, total="1.00"))

    assert user_summary(user_id=7) == {"orders_count": 2, "total_spent": Decimal("15.15")}
    assert user_summary(user_id=999) == {"orders_count": 0, "total_spent": Decimal("0")}


def test_notification_sent_lands_in_the_inbox_once():
    message = contracts.NotificationSent(
        notification_id=uuid.uuid4(),
        user_id=7,
        order_id=uuid.uuid4(),
        kind="order_confirmed",
        subject="Your order is confirmed",
        body="Thanks",
        sent_at=NOW,
    )

    handlers.notification_sent(message)
    handlers.notification_sent(message)

    item = InboxItem.objects.get()
    assert (item.notification_id, item.user_id, item.subject, item.read_at) == (
        message.notification_id, 7, "Your order is confirmed", None
    )


def test_user_update_records_the_change_and_nothing_when_nothing_changed():
    user = user_register(email="ann@example.com", password="correct-horse-battery", name="Ann")

    user_update(user_id=user.id, role="merchant", is_staff=True)
    user_update(user_id=user.id, role="merchant")

    assert recorded(OutboxMessage, "user.updated") == [
        {"user_id": user.id, "email": "ann@example.com", "name": "Ann", "is_staff": True, "role": "merchant",
         "is_active": True, "version": 2}
    ]


def test_every_message_about_a_user_has_the_next_version_and_a_stale_copy_cannot_lower_it():
    user = user_register(email="ann@example.com", password="correct-horse-battery", name="Ann")
    stale = get_user_model().objects.get(pk=user.pk)
    user_update(user_id=user.id, name="Ann B")
    stale.set_password("another-horse-battery")
    stale.save()  # a full save of a copy loaded before the update (as a password change does)

    user_update(user_id=user.id, role="merchant")
    user_delete(user_id=user.id)

    messages = recorded(OutboxMessage, "user.registered") + recorded(OutboxMessage, "user.updated")
    assert [(m["version"], m["name"], m["role"], m["is_active"]) for m in messages] == [
        (1, "Ann", "customer", True), (2, "Ann B", "customer", True), (3, "Ann", "merchant", True),
        (4, "Ann", "merchant", False),
    ]


def test_user_update_refuses_an_email_of_another_user_and_unknown_roles():
    ann = user_register(email="ann@example.com", password="correct-horse-battery", name="Ann")
    user_register(email="bob@example.com", password="correct-horse-battery", name="Bob")

    with pytest.raises(ApplicationError, match="already exists"):
        user_update(user_id=ann.id, email="BOB@example.com")
    with pytest.raises(ApplicationError, match="Unknown role"):
        user_update(user_id=ann.id, role="emperor")
    ann.refresh_from_db()
    assert (ann.email, ann.role) == ("ann@example.com", "customer")


def test_createsuperuser_path_announces_a_staff_user():
    user = get_user_model().objects.create_superuser(email="Root@Example.com", password="x", name="Root")

    assert (user.email, user.role, user.is_staff) == ("root@example.com", "staff", True)
    assert recorded(OutboxMessage, "user.registered") == [
        {"user_id": user.id, "email": "root@example.com", "name": "Root", "is_staff": True, "role": "staff",
         "is_active": True, "version": 1}
    ]


def test_every_status_of_an_order_summary_has_its_place_in_the_saga():
    assert set(CustomerOrder.RANKS) == set(CustomerOrder.Status.values)


@pytest.mark.django_db(databases="__all__")
def test_the_database_refuses_an_email_that_is_not_lower_case():
    from django.db import IntegrityError, transaction

    User = get_user_model()
    user = User.objects.create_user(email="Mixed.Case@Example.COM", password="pw-long-enough-1", name="M")
    assert user.email == "mixed.case@example.com"  # the manager normalizes
    assert User.objects.get_by_natural_key("MIXED.case@example.com") == user  # found by equality
    with pytest.raises(IntegrityError), transaction.atomic(using="default"):
        User.objects.filter(pk=user.pk).update(email="Mixed.Case@example.com")  # past the manager: refused
