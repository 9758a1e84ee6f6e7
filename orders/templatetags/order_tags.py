"""How an order's status, cancel reason and timeline read to a customer."""

from django import template

register = template.Library()

STATUS_LABELS = {
    "pending": "Placed",
    "awaiting_payment": "Awaiting payment",
    "confirmed": "Confirmed",
    "shipped": "Shipped",
    "delivered": "Delivered",
    "cancelled": "Cancelled",
}

CANCEL_REASONS = {
    "out_of_stock": "Some items were out of stock, so nothing was charged.",
    "payment_declined": "The payment did not go through, so the order was not placed.",
    "customer_request": "You cancelled this order.",
    "staff_request": "The shop cancelled this order.",
}

EVENT_TITLES = {
    "placed": "Order placed",
    "stock_reserved": "Items set aside for you",
    "stock_rejected": "Some items were out of stock",
    "stock_released": "Items put back on the shelf",
    "payment_requested": "Payment requested",
    "paid": "Payment received",
    "payment_failed": "Payment failed",
    "confirmed": "Order confirmed",
    "cancelled": "Order cancelled",
    "refund_requested": "Refund requested",
    "refunded": "Refunded",
    "customer_notified": "You were notified by email",
    "notification_failed": "We could not email you",
    "shipped": "Shipped",
    "delivered": "Delivered",
}

#: Timeline steps that are good news, bad news, or neither (for their colour).
EVENT_TONES = {
    "confirmed": "ok", "paid": "ok", "delivered": "ok", "shipped": "ok", "refunded": "ok",
    "stock_rejected": "bad", "payment_failed": "bad", "cancelled": "bad", "notification_failed": "bad",
}


@register.filter
def status_label(status: str) -> str:
    return STATUS_LABELS.get(status, status.replace("_", " ").capitalize())


@register.filter
def cancel_reason_words(reason: str) -> str:
    return CANCEL_REASONS.get(reason, "This order was cancelled.")


@register.filter
def event_title(kind: str) -> str:
    return EVENT_TITLES.get(kind, kind.replace("_", " ").capitalize())


@register.filter
def event_tone(kind: str) -> str:
    return EVENT_TONES.get(kind, "")


@register.filter
def event_detail(event) -> str:
    """The event's detail where it tells the customer something the title does not."""
    if event.kind == "cancelled":
        return ""
    if event.kind == "payment_failed":
        return decline_message(event.detail)
    return event.detail


def decline_message(detail: str) -> str:
    # The orders service writes "<reason> (<code>)": the code is for staff.
    reason = detail.rsplit(" (", 1)[0].strip() if detail.endswith(")") else detail.strip()
    return reason.rstrip(".") + "." if reason else "Your payment was declined."


@register.filter
def declined_reason(order) -> str:
    """The customer's words for the payment failure of ``order``, if it had one."""
    failed = [event for event in order.events.all() if event.kind == "payment_failed"]
    return decline_message(failed[-1].detail) if failed else ""
