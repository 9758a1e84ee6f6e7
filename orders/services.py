"""The checkout saga: every write to an order, each guarded by its status.

A transition is one conditional UPDATE (``status IN (allowed)``), so a late,
repeated or concurrent message finds the order elsewhere and changes nothing.
The saga's own reads and writes run through statements built once
(``shopsite.bus.statements``): they run for every message.
"""

from __future__ import annotations

import logging
import uuid
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from shopsite import contracts, metrics
from shopsite.bus import statements
from shopsite.errors import Conflict, NotFound
from shopsite.transactions import message_transaction

from .models import Order, OrderEvent, OrderLine, OutboxMessage

log = logging.getLogger(__name__)
DB = "orders"
Status = Order.Status
Kind = OrderEvent.Kind

CANCELLABLE = (Status.PENDING, Status.AWAITING_PAYMENT, Status.CONFIRMED)


def _move(order_id: uuid.UUID, *, allowed: tuple[str, ...], to: str, only_if: dict | None = None,
          **fields) -> Order | None:
    """Move the order to ``to`` if it is in one of ``allowed`` (and matches ``only_if``, more ``where`` terms);
    the order as moved, or None. One statement: the update returns the row."""
    if not allowed:
        return None
    moved = statements.update_returning(Order, DB, where={"pk": order_id, "status": tuple(allowed), **(only_if or {})},
                                        values={"status": to, "updated_at": timezone.now(), **fields})
    if not moved:
        return None
    log.info("order %s is now %s", order_id, to)
    return moved[0]


def _note(order: Order | uuid.UUID, kind: str, detail: str = "", *more: tuple[str, str]) -> None:
    """Add events to the order's timeline: ``kind`` with ``detail``, then each (kind, detail) of ``more``.

    Nothing reads the timeline before the commit: a consumer writes the events with the outbox's rows."""
    order_id = order.pk if isinstance(order, Order) else order
    statements.create_later(DB, *(OrderEvent(order_id=order_id, kind=k, detail=d[:300]) for k, d in [(kind, detail), *more]))


def _status_message(order: Order, message_type, **extra):
    if "shipping_address" in message_type.model_fields:  # confirmed and shipped: their emails say where it goes
        extra["shipping_address"] = order.shipping_address
    return message_type(
        order_id=order.id, user_id=order.user_id, total=order.total, currency=order.currency,
        occurred_at=order.updated_at, version=Order.SAGA[order.status], **extra,
    )


def order_place(*, checkout: contracts.CartCheckedOut) -> Order:
    with message_transaction(DB):
        # The total is recomputed from the lines rather than trusted.
        total = sum((line.unit_price * line.quantity for line in checkout.lines), Decimal("0.00"))
        order = Order(
            id=checkout.order_id, checkout_id=checkout.checkout_id, user_id=checkout.user_id,
            total=total, currency=checkout.currency, payment_method_id=checkout.payment_method_id,
            **Order.shipping_fields(checkout.shipping_address),
        )
        if not statements.create(DB, order, unless_exists=("id",)):  # placed already (a replayed checkout)
            return statements.select_one(Order, DB, pk=checkout.order_id)
        # Read again only by the messages this commit causes, never in the same batch.
        statements.create_later(DB, *(
            OrderLine(order=order, product_id=l.product_id, sku=l.sku, name=l.name,
                      unit_price=l.unit_price, quantity=l.quantity,
                      image_url=l.image_url or "", thumbnail_url=l.thumbnail_url or "")
            for l in checkout.lines
        ))
        _note(order, Kind.PLACED, f"{len(checkout.lines)} item(s), total {total} {order.currency}")
        OutboxMessage.record(contracts.OrderPlaced(
            order_id=order.id, user_id=order.user_id, total=total,
            lines=[contracts.ReservedLine(product_id=l.product_id, quantity=l.quantity) for l in checkout.lines],
        ))
        return order


def order_stock_reserved(*, order_id: uuid.UUID) -> None:
    """Ask payments for the total; an order with nothing to pay is confirmed at once, with no charge."""
    with message_transaction(DB):
        order = _move(order_id, allowed=(Status.PENDING,), to=Status.AWAITING_PAYMENT, only_if={"total__gt": 0})
        if order is None:
            order = statements.select_one(Order, DB, pk=order_id)
            if order is not None and order.total == 0:
                order = _move(order_id, allowed=(Status.PENDING,), to=Status.CONFIRMED)
                if order is not None:
                    _note(order, Kind.STOCK_RESERVED, "", (Kind.CONFIRMED, "nothing to pay"))
                    _confirmed(order)
            return  # else cancelled meanwhile: catalog releases on order.cancelled
        _note(order, Kind.STOCK_RESERVED, "", (Kind.PAYMENT_REQUESTED, f"{order.total} {order.currency}"))
        OutboxMessage.record(contracts.RequestPayment(
            order_id=order.id, user_id=order.user_id, amount=order.total, currency=order.currency,
            payment_method_id=order.payment_method_id,
        ))


def order_stock_rejected(*, order_id: uuid.UUID, shortages: list[contracts.Shortage]) -> None:
    with message_transaction(DB):
        order = _move(order_id, allowed=(Status.PENDING,), to=Status.CANCELLED,
                      cancel_reason=Order.CancelReason.OUT_OF_STOCK)
        if order is None:
            return
        detail = ", ".join(f"product {s.product_id}: {s.available} left of {s.requested}" for s in shortages)
        _note(order, Kind.STOCK_REJECTED, detail)
        _cancelled(order, refund_due=False)


def order_payment_succeeded(*, order_id: uuid.UUID, charge_id: uuid.UUID, amount: Decimal) -> None:
    with message_transaction(DB):
        order = _move(order_id, allowed=(Status.AWAITING_PAYMENT,), to=Status.CONFIRMED)
        if order is None:
            _refund_if_cancelled(order_id)
            return
        _note(order, Kind.PAID, f"{amount} {order.currency}", (Kind.CONFIRMED, ""))
        _confirmed(order)


def _confirmed(order: Order) -> None:
    metrics.order_finished("confirmed", using=DB)
    OutboxMessage.record(_status_message(order, contracts.OrderConfirmed, lines=[
        contracts.CheckoutLine(product_id=l.product_id, sku=l.sku, name=l.name,
                               unit_price=l.unit_price, quantity=l.quantity,
                               image_url=l.image_url or None, thumbnail_url=l.thumbnail_url or None)
        for l in statements.select(OrderLine, DB, order_id=order.id)
    ]))


def _refund_if_cancelled(order_id: uuid.UUID) -> None:
    """A payment that lands on an order cancelled meanwhile is given back."""
    order = Order.objects.filter(pk=order_id).first()
    if order is not None and order.status == Status.CANCELLED:
        _note(order, Kind.PAID, "after the order was cancelled")
        _request_refund(order)


def order_payment_failed(*, order_id: uuid.UUID, code: str, reason: str) -> None:
    with message_transaction(DB):
        order = _move(order_id, allowed=(Status.AWAITING_PAYMENT,), to=Status.CANCELLED,
                      cancel_reason=Order.CancelReason.PAYMENT_DECLINED)
        if order is None:
            return
        _note(order, Kind.PAYMENT_FAILED, f"{reason} ({code})")
        _cancelled(order, refund_due=False)


def order_cancel(*, order_id: uuid.UUID, reason: str, user_id: int | None = None) -> Order:
    """Cancel on request (customer or staff); a paid order is refunded."""
    with transaction.atomic(using=DB):
        current = Order.objects.filter(pk=order_id)
        if user_id is not None:
            current = current.filter(user_id=user_id)
        order = current.first()
        if order is None:
            raise NotFound("Order not found")
        was_paid = order.status == Status.CONFIRMED and order.total > 0  # a free order was never charged
        moved = _move(order_id, allowed=(order.status,) if order.status in CANCELLABLE else (),
                      to=Status.CANCELLED, cancel_reason=reason)
        if moved is None:
            raise Conflict(f"An order that is {order.status.replace('_', ' ')} can no longer be cancelled",
                           {"status": order.status})
        _cancelled(moved, refund_due=was_paid)
        if was_paid:
            _request_refund(moved)
        return moved


def _cancelled(order: Order, *, refund_due: bool) -> None:
    metrics.order_finished("cancelled", using=DB)
    _note(order, Kind.CANCELLED, order.get_cancel_reason_display())
    OutboxMessage.record(_status_message(order, contracts.OrderCancelled, reason=order.cancel_reason,
                                         refund_due=refund_due))


def _request_refund(order: Order) -> None:
    _note(order, Kind.REFUND_REQUESTED)
    OutboxMessage.record(contracts.RequestRefund(order_id=order.id, user_id=order.user_id,
                                                 reason=order.cancel_reason or "cancelled"))


def order_ship(*, order_id: uuid.UUID) -> Order:
    return _advance(order_id, allowed=(Status.CONFIRMED,), to=Status.SHIPPED, kind=Kind.SHIPPED,
                    message_type=contracts.OrderShipped)


def order_deliver(*, order_id: uuid.UUID) -> Order:
    return _advance(order_id, allowed=(Status.SHIPPED,), to=Status.DELIVERED, kind=Kind.DELIVERED,
                    message_type=contracts.OrderDelivered)


def _advance(order_id, *, allowed, to, kind, message_type) -> Order:
    with transaction.atomic(using=DB):
        order = _move(order_id, allowed=allowed, to=to)
        if order is None:
            current = Order.objects.filter(pk=order_id).values_list("status", flat=True).first()
            if current is None:
                raise NotFound("Order not found")
            raise Conflict(f"An order that is {current.replace('_', ' ')} cannot be marked {to}",
                           {"status": current})
        _note(order, kind)
        OutboxMessage.record(_status_message(order, message_type))
        return order


def order_payment_refunded(*, order_id: uuid.UUID, amount: Decimal) -> None:
    with message_transaction(DB):
        if Order.objects.filter(pk=order_id).exists():
            _note(order_id, Kind.REFUNDED, f"{amount}")


def order_stock_released(*, order_id: uuid.UUID) -> None:
    with message_transaction(DB):
        if Order.objects.filter(pk=order_id).exists():
            _note(order_id, Kind.STOCK_RELEASED)


def order_customer_notified(*, order_id: uuid.UUID, subject: str) -> None:
    with message_transaction(DB):
        if statements.select_one(Order, DB, pk=order_id) is not None:
            _note(order_id, Kind.CUSTOMER_NOTIFIED, subject)


def order_notification_failed(*, order_id: uuid.UUID, error: str) -> None:
    with message_transaction(DB):
        if Order.objects.filter(pk=order_id).exists():
            _note(order_id, Kind.NOTIFICATION_FAILED, error)
