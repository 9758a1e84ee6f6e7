"""The words of each email the shop sends; the bodies are templates in templates/notifications/email/."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Iterable
from urllib.parse import urljoin

from django.conf import settings
from django.template.loader import render_to_string

from shopsite import contracts
from shopsite.ids import short

SUBJECTS = {
    "order_confirmed": "Your order {number} is confirmed",
    "order_cancelled": "Your order {number} was cancelled",
    "order_shipped": "Your order {number} has shipped",
    "order_delivered": "Your order {number} was delivered",
    "account_exists": "You already have a Shop account",
}

CANCEL_REASONS = {
    "out_of_stock": "some of the items are out of stock",
    "payment_declined": "the payment was declined",
    "customer_request": "you asked us to cancel it",
    "staff_request": "our team had to cancel it",
}


#: The emails that list what was ordered also have an HTML part, which shows the products' images.
HTML_KINDS = {"order_confirmed"}


@dataclass(frozen=True)
class Email:
    subject: str
    body: str
    #: The same as an HTML page, or empty: the email is plain text only.
    html: str = ""


def order_number(order_id: uuid.UUID) -> str:
    """The short form customers see, as the order pages show it."""
    return short(order_id)


def order_email(
    *,
    kind: str,
    order_id: uuid.UUID,
    name: str,
    total: Decimal,
    currency: str,
    reason: str | None = None,
    refund_due: bool = False,
    lines: Iterable[contracts.CheckoutLine] = (),
    shipping_address: contracts.ShippingAddress | None = None,
) -> Email:
    number = order_number(order_id)
    context = {
        "name": name,
        "order_number": number,
        "total": total,
        "currency": currency,
        "reason": CANCEL_REASONS.get(reason or "", "it could not be completed"),
        "refund_due": refund_due,
        "lines": [
            {"name": line.name, "sku": line.sku, "quantity": line.quantity, "unit_price": line.unit_price,
             "total": line.unit_price * line.quantity, "thumbnail_url": absolute_url(line.thumbnail_url)}
            for line in lines
        ],
        # None for a message from before orders said where they go: the email then does not say either.
        "address_lines": shipping_address.lines() if shipping_address is not None else [],
    }
    body = render_to_string(f"notifications/email/{kind}.txt", context).strip() + "\n"
    html = render_to_string(f"notifications/email/{kind}.html", context) if kind in HTML_KINDS else ""
    return Email(subject=SUBJECTS[kind].format(number=number), body=body, html=html)


def absolute_url(url: str | None) -> str:
    """A URL a mail program can load: a path on the shop is joined to SHOP_PUBLIC_URL; an absolute one is kept."""
    if not url:
        return ""
    return urljoin(settings.SHOP_PUBLIC_URL.rstrip("/") + "/", url)


def account_exists_email(*, name: str) -> Email:
    body = render_to_string("notifications/email/account_exists.txt", {"name": name}).strip() + "\n"
    return Email(subject=SUBJECTS["account_exists"], body=body)
