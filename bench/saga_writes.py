"""The checkout saga's business writes for one order, without the bus: one plain function per step.

What the shop writes for an order, written the way a Django team without our
bus would write it: the shop's own models, the same rows, each step ONE
transaction on its own service's database (``transaction.atomic(using=...)``),
and no outbox rows, no inbox rows, no envelopes. ``bench.ceiling`` calls the
steps one after the other in one process; ``bench.celery_saga`` runs each as a
Celery task on its app's queue.

The saga's state travels as a plain JSON-able dict (``SagaOrder``): each step
takes it and returns it, with what the later steps need added. That is what a
Celery chain hands from one task to the next, and it keeps these functions
free of Celery.

The steps, in the order ``STEPS`` runs them, each with the shop transaction it stands for:

====  ==============  =====================================================  ==============================
step  database        writes                                                 the shop's
====  ==============  =====================================================  ==============================
  0   cart            checkout + its lines, cart lines deleted, cart touched  ``cart_checkout`` (web)
  1   orders          order, lines, "placed" event                           ``order_place``
  2   catalog         reservation outcome, product counters, reservation    ``stock_reserve_for_order``
  3   orders          pending -> awaiting_payment, 2 events                  ``order_stock_reserved``
  4   payments        the charge (through the test gateway)                  ``charge_for_order``
  5   orders          awaiting_payment -> confirmed, 2 events                ``order_payment_succeeded``
  6   catalog         reservation committed, product counters               ``stock_commit_for_order``
  7   notifications   the email sent, the notification row                   ``notification_send_for_order``
  8   accounts        the customer's order summary                           ``customer_order_apply``
  9   accounts        the notification in the customer's inbox               ``inbox_item_record``
 10   orders          "customer notified" event                              ``order_customer_notified``
 11   cart            checkout marked placed                                 ``checkout_mark_placed``
 12   cart            the product replica's availability, line notices       ``stock_replica_apply``
====  ==============  =====================================================  ==============================

In the shop, steps 11 and 12 run beside the saga (the cart hears
``order.placed`` and ``stock.changed`` while orders goes on), as do 6-9 after
the confirmation; here the steps that do not lead to the confirmation come
after it, so a sequence of them is not slower to confirm than the shop for
want of parallel legs.

Only the happy path is written: an empty cart, missing stock, a declined card
or an order found in an unexpected status raise ``SagaStepFailed`` and the
saga stops there; no step compensates (no stock release, no refund, no
cancellation, no restored cart). Nothing guards against a step run twice
beyond what the tables themselves refuse: see the guarantees listed in
``bench.celery_saga``.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any, Callable

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from accounts.models import CustomerOrder, InboxItem
from cart.models import Cart, CartLine, Checkout, CheckoutLine, ProductReplica
from catalog.models import Product, Reservation, ReservationOutcome
from notifications.emails import order_email
from notifications.models import Notification, Recipient
from orders.models import Order, OrderEvent, OrderLine
from payments.gateway import get_gateway
from payments.models import Charge, PaymentMethod
from shopsite import contracts
from shopsite.addresses import address_parse

#: The saga's state between steps: JSON types only (a Celery message carries it).
SagaOrder = dict[str, Any]

DB = settings.SERVICE_DATABASES
CURRENCY = "USD"


class SagaStepFailed(Exception):
    """The order cannot go on the happy path (no stock, card declined, not in the expected status)."""


# --- 0. cart: the checkout (what the checkout request writes) -----------------


def checkout_create(
    *,
    user_id: int,
    idempotency_key: str,
    payment_method_id: uuid.UUID | str,
    shipping_address: dict,
    then: Callable[[SagaOrder], None] | None = None,
) -> tuple[SagaOrder, bool]:
    """Move the cart's lines into a new checkout; the saga's order, and whether it is new.

    A repeated key gets its first checkout back (``False``): the shop's
    checkout is idempotent per key, and so is this one. ``then`` runs with the
    new order once the transaction has committed (``transaction.on_commit``):
    the web uses it to start the Celery chain.
    """
    address = address_parse(shipping_address).model_dump()
    with transaction.atomic(using=DB["cart"]):
        cart = Cart.objects.select_for_update().filter(user_id=user_id).first()
        done = Checkout.objects.filter(user_id=user_id, idempotency_key=idempotency_key).first()
        if done is not None:
            return {"order_id": str(done.order_id), "checkout_id": str(done.id), "total": str(done.total)}, False
        lines = _checkout_lines(cart)
        total = sum((Decimal(line["unit_price"]) * line["quantity"] for line in lines), Decimal("0.00"))
        checkout = Checkout.objects.create(id=uuid.uuid4(), user_id=user_id, idempotency_key=idempotency_key,
                                           order_id=uuid.uuid4(), total=total)
        CheckoutLine.objects.bulk_create(
            CheckoutLine(checkout=checkout, product_id=line["product_id"], sku=line["sku"], name=line["name"],
                         unit_price=Decimal(line["unit_price"]), quantity=line["quantity"])
            for line in lines
        )
        cart.lines.all().delete()
        cart.save(update_fields=["updated_at"])
        order = {
            "order_id": str(checkout.order_id), "checkout_id": str(checkout.id), "user_id": user_id,
            "total": str(total), "currency": CURRENCY, "payment_method_id": str(payment_method_id),
            "shipping_address": address, "lines": lines,
        }
        if then is not None:
            transaction.on_commit(lambda: then(order), using=DB["cart"])
    return order, True


def _checkout_lines(cart: Cart | None) -> list[dict]:
    """The cart's lines priced from the cart's product replica; refused if a product cannot be sold."""
    lines = list(cart.lines.order_by("added_at", "id")) if cart else []
    if not lines:
        raise SagaStepFailed("the cart is empty")
    products = ProductReplica.objects.in_bulk([line.product_id for line in lines])
    priced = []
    for line in lines:
        product = products.get(line.product_id)
        if product is None or line.quantity > product.sellable:
            raise SagaStepFailed(f"product {line.product_id} cannot be sold now")
        priced.append({"product_id": product.product_id, "sku": product.sku, "name": product.name,
                       "unit_price": str(product.price), "quantity": line.quantity,
                       "image_url": product.image_url, "thumbnail_url": product.thumbnail_url})
    return priced


# --- 1. orders: the order ------------------------------------------------------


def order_place(order: SagaOrder) -> SagaOrder:
    with transaction.atomic(using=DB["orders"]):
        total = sum((Decimal(line["unit_price"]) * line["quantity"] for line in order["lines"]), Decimal("0.00"))
        placed = Order.objects.create(
            id=order["order_id"], checkout_id=order["checkout_id"], user_id=order["user_id"], total=total,
            currency=order["currency"], payment_method_id=order["payment_method_id"],
            **{f"shipping_{field}": value for field, value in order["shipping_address"].items()},
        )
        OrderLine.objects.bulk_create(
            OrderLine(order=placed, product_id=line["product_id"], sku=line["sku"], name=line["name"],
                      unit_price=Decimal(line["unit_price"]), quantity=line["quantity"],
                      image_url=line["image_url"], thumbnail_url=line["thumbnail_url"])
            for line in order["lines"]
        )
        OrderEvent.objects.create(order=placed, kind=OrderEvent.Kind.PLACED,
                                  detail=f"{len(order['lines'])} item(s), total {total} {placed.currency}")
    return order


# --- 2. catalog: the reservation ------------------------------------------------


def stock_reserve(order: SagaOrder) -> SagaOrder:
    """Take every line's units from on hand into reserved (products in id order, as the shop locks them)."""
    wanted: dict[int, int] = {}
    for line in order["lines"]:
        wanted[line["product_id"]] = wanted.get(line["product_id"], 0) + line["quantity"]
    with transaction.atomic(using=DB["catalog"]):
        ReservationOutcome.objects.create(order_id=order["order_id"], outcome=ReservationOutcome.Outcome.RESERVED)
        for product_id, quantity in sorted(wanted.items()):
            # Conditional, so stock never goes below zero (a failure rolls the whole reservation back).
            taken = Product.objects.filter(pk=product_id, is_active=True, stock_on_hand__gte=quantity).update(
                stock_on_hand=F("stock_on_hand") - quantity, stock_reserved=F("stock_reserved") + quantity,
                version=F("version") + 1, updated_at=timezone.now(),
            )
            if not taken:
                raise SagaStepFailed(f"not enough of product {product_id} for order {order['order_id']}")
            Reservation.objects.create(order_id=order["order_id"], product_id=product_id, quantity=quantity)
        # What the cart's replica learns of the new availability (step 12), as the shop's stock.changed says it.
        order["stock"] = [{"product_id": pk, "available": on_hand, "version": version}
                          for pk, on_hand, version in Product.objects.filter(pk__in=wanted).order_by("pk")
                          .values_list("pk", "stock_on_hand", "version")]
    return order


# --- 3-5. orders and payments: the payment ----------------------------------------


def _order_move(order_id: str, *, allowed: str, to: str) -> Order:
    """The order moved from ``allowed`` to ``to`` by one conditional UPDATE, or SagaStepFailed."""
    moved = Order.objects.filter(pk=order_id, status=allowed).update(status=to, updated_at=timezone.now())
    if not moved:
        raise SagaStepFailed(f"order {order_id} is not {allowed}")
    return Order.objects.get(pk=order_id)


def _order_note(order_id: str, *events: tuple[str, str]) -> None:
    OrderEvent.objects.bulk_create(OrderEvent(order_id=order_id, kind=kind, detail=detail) for kind, detail in events)


def payment_request(order: SagaOrder) -> SagaOrder:
    with transaction.atomic(using=DB["orders"]):
        moved = _order_move(order["order_id"], allowed=Order.Status.PENDING, to=Order.Status.AWAITING_PAYMENT)
        _order_note(moved.pk, (OrderEvent.Kind.STOCK_RESERVED, ""),
                    (OrderEvent.Kind.PAYMENT_REQUESTED, f"{moved.total} {moved.currency}"))
    return order


def payment_charge(order: SagaOrder) -> SagaOrder:
    """Charge the saved card through the shop's gateway (the test gateway, no network)."""
    with transaction.atomic(using=DB["payments"]):
        method = PaymentMethod.objects.filter(id=order["payment_method_id"], user_id=order["user_id"]).first()
        if method is None:
            raise SagaStepFailed(f"unknown payment method for order {order['order_id']}")
        result = get_gateway().charge(token=method.token, amount=Decimal(order["total"]), currency=order["currency"],
                                      idempotency_key=order["order_id"])
        if not result.succeeded:
            raise SagaStepFailed(f"the card was declined for order {order['order_id']}: {result.code}")
        charge = Charge.objects.create(
            order_id=order["order_id"], user_id=order["user_id"], payment_method_id=method.id,
            amount=Decimal(order["total"]), currency=order["currency"], status=Charge.Status.SUCCEEDED,
            gateway_reference=result.reference,
        )
    order["charge_id"] = str(charge.id)
    return order


def order_confirm(order: SagaOrder) -> SagaOrder:
    with transaction.atomic(using=DB["orders"]):
        moved = _order_move(order["order_id"], allowed=Order.Status.AWAITING_PAYMENT, to=Order.Status.CONFIRMED)
        _order_note(moved.pk, (OrderEvent.Kind.PAID, f"{order['total']} {moved.currency}"),
                    (OrderEvent.Kind.CONFIRMED, ""))
    return order


# --- 6-10. after the confirmation -------------------------------------------------


def stock_commit(order: SagaOrder) -> SagaOrder:
    """The order's reserved units are sold."""
    with transaction.atomic(using=DB["catalog"]):
        for reservation in Reservation.objects.filter(order_id=order["order_id"],
                                                      status=Reservation.Status.RESERVED).order_by("product_id"):
            Reservation.objects.filter(pk=reservation.pk).update(status=Reservation.Status.COMMITTED,
                                                                 updated_at=timezone.now())
            Product.objects.filter(pk=reservation.product_id).update(
                stock_reserved=F("stock_reserved") - reservation.quantity,
                stock_sold=F("stock_sold") + reservation.quantity,
                version=F("version") + 1, updated_at=timezone.now(),
            )
    return order


def notification_send(order: SagaOrder) -> SagaOrder:
    """Email the confirmation (the shop's template and mail backend) and record it."""
    with transaction.atomic(using=DB["notifications"]):
        recipient = Recipient.objects.get(pk=order["user_id"])
        email = order_email(
            kind=Notification.Kind.ORDER_CONFIRMED, order_id=uuid.UUID(order["order_id"]), name=recipient.name,
            total=Decimal(order["total"]), currency=order["currency"],
            lines=[contracts.CheckoutLine(**{**line, "image_url": line["image_url"] or None,
                                             "thumbnail_url": line["thumbnail_url"] or None})
                   for line in order["lines"]],
            shipping_address=contracts.Address(**order["shipping_address"]),
        )
        send_mail(email.subject, email.body, settings.DEFAULT_FROM_EMAIL, [recipient.email],
                  html_message=email.html or None)
        notification = Notification.objects.create(
            user_id=order["user_id"], order_id=order["order_id"], kind=Notification.Kind.ORDER_CONFIRMED,
            to_email=recipient.email, subject=email.subject, body=email.body, status=Notification.Status.SENT,
            sent_at=timezone.now(),
        )
    order["notification"] = {"id": str(notification.id), "subject": notification.subject,
                             "body": notification.body, "sent_at": notification.sent_at.isoformat()}
    return order


def customer_order_record(order: SagaOrder) -> SagaOrder:
    """The customer's summary of the order, as accounts keeps it (it first hears of an order once confirmed)."""
    with transaction.atomic(using=DB["accounts"]):
        CustomerOrder.objects.create(order_id=order["order_id"], user_id=order["user_id"],
                                     status=CustomerOrder.Status.CONFIRMED, total=Decimal(order["total"]),
                                     version=contracts.ORDER_SAGA[CustomerOrder.Status.CONFIRMED])
    return order


def inbox_item_record(order: SagaOrder) -> SagaOrder:
    """The confirmation email in the customer's inbox on the site."""
    sent = order["notification"]
    with transaction.atomic(using=DB["accounts"]):
        InboxItem.objects.create(notification_id=sent["id"], user_id=order["user_id"], order_id=order["order_id"],
                                 kind=Notification.Kind.ORDER_CONFIRMED, subject=sent["subject"], body=sent["body"],
                                 sent_at=datetime.fromisoformat(sent["sent_at"]))
    return order


def order_note_notified(order: SagaOrder) -> SagaOrder:
    with transaction.atomic(using=DB["orders"]):
        _order_note(order["order_id"], (OrderEvent.Kind.CUSTOMER_NOTIFIED, order["notification"]["subject"][:300]))
    return order


# --- 11-12. the cart, beside the saga in the shop ----------------------------------


def checkout_mark_placed(order: SagaOrder) -> SagaOrder:
    with transaction.atomic(using=DB["cart"]):
        Checkout.objects.filter(order_id=order["order_id"], placed_at__isnull=True).update(placed_at=timezone.now())
    return order


def stock_replica_update(order: SagaOrder) -> SagaOrder:
    """The cart's copy of each product's availability, and a notice on lines that now want more than is left."""
    with transaction.atomic(using=DB["cart"]):
        for stock in order["stock"]:
            # Only forward: a slower order's older count must not overwrite a newer one.
            ProductReplica.objects.filter(pk=stock["product_id"], stock_version__lt=stock["version"]).update(
                available=stock["available"], stock_version=stock["version"], updated_at=timezone.now()
            )
            CartLine.objects.filter(product_id=stock["product_id"], quantity__gt=stock["available"]).update(
                notice=f"Only {stock['available']} left."
            )
    return order


#: Every step after the checkout, in order, with the service whose database it writes (its queue in Celery).
STEPS: list[tuple[str, Callable[[SagaOrder], SagaOrder]]] = [
    ("orders", order_place),
    ("catalog", stock_reserve),
    ("orders", payment_request),
    ("payments", payment_charge),
    ("orders", order_confirm),
    ("catalog", stock_commit),
    ("notifications", notification_send),
    ("accounts", customer_order_record),
    ("accounts", inbox_item_record),
    ("orders", order_note_notified),
    ("cart", checkout_mark_placed),
    ("cart", stock_replica_update),
]
