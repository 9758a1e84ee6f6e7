"""Every message on the bus, declared once as a typed record.

Any service may import this module: it is the shared language of the shop.
Events are named in the past tense (``OrderPlaced``); the two commands are
imperative (``RequestPayment``, ``RequestRefund``). The routing key of a message
is its ``TYPE``. A change that breaks consumers bumps ``VERSION``.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from .limits import MAX_LINES, MAX_ORDER_TOTAL, MAX_PRICE, MAX_QUANTITY

Money = Decimal
Quantity = int
#: Where a product image is: a path on the shop (``/media/…``) or an http(s) URL of object storage.
ImageUrl = Annotated[str, Field(max_length=1000, pattern=r"^(?:/[^/\s]|https?://[^/\s])\S*$")]


def _optional_image() -> Any:
    """An image URL a message may leave out: older messages have none, and neither has a product without one.

    Left out of the JSON when it is None, so a message about a product without
    an image is the same as before images existed.
    """
    return Field(default=None, exclude_if=lambda value: value is None)


class Message(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    TYPE: ClassVar[str]
    VERSION: ClassVar[int] = 1


class _Record(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


# --- accounts -------------------------------------------------------------


class _UserDetails(Message):
    user_id: int
    email: str
    name: str
    is_staff: bool
    role: Literal["customer", "merchant", "staff"]


class UserRegistered(_UserDetails):
    TYPE = "user.registered"


class UserUpdated(_UserDetails):
    TYPE = "user.updated"
    is_active: bool = True


class UserRegistrationRepeated(Message):
    """Someone tried to register this user's email again; only the owner may be told so, by mail."""

    TYPE = "user.registration_repeated"
    user_id: int


# --- catalog --------------------------------------------------------------


class _ProductDetails(Message):
    product_id: int
    sku: str
    name: str
    price: Money = Field(ge=0, le=MAX_PRICE, decimal_places=2)
    is_active: bool
    available: Quantity = Field(ge=0)
    version: int
    #: The product's image, re-encoded and at most 1600 pixels a side, and its thumbnail (400).
    image_url: ImageUrl | None = _optional_image()
    thumbnail_url: ImageUrl | None = _optional_image()


class ProductPublished(_ProductDetails):
    TYPE = "product.published"


class ProductUpdated(_ProductDetails):
    TYPE = "product.updated"


class StockChanged(Message):
    TYPE = "stock.changed"
    product_id: int
    available: Quantity = Field(ge=0)
    version: int


class ReservedLine(_Record):
    product_id: int
    quantity: Quantity = Field(gt=0, le=MAX_QUANTITY)


class Shortage(_Record):
    product_id: int
    requested: Quantity
    available: Quantity


class StockReserved(Message):
    TYPE = "stock.reserved"
    order_id: uuid.UUID
    lines: list[ReservedLine]


class StockRejected(Message):
    TYPE = "stock.rejected"
    order_id: uuid.UUID
    shortages: list[Shortage]


class StockReleased(Message):
    TYPE = "stock.released"
    order_id: uuid.UUID
    lines: list[ReservedLine]


# --- cart -----------------------------------------------------------------


class CheckoutLine(_Record):
    product_id: int
    sku: str
    name: str
    unit_price: Money = Field(ge=0, le=MAX_PRICE, decimal_places=2)
    quantity: Quantity = Field(gt=0, le=MAX_QUANTITY)
    #: The product's image when it was bought, as the catalog published it.
    image_url: ImageUrl | None = _optional_image()
    thumbnail_url: ImageUrl | None = _optional_image()


class CartCheckedOut(Message):
    TYPE = "cart.checked_out"
    checkout_id: uuid.UUID
    order_id: uuid.UUID
    user_id: int
    lines: list[CheckoutLine] = Field(min_length=1, max_length=MAX_LINES)
    total: Money = Field(ge=0, le=MAX_ORDER_TOTAL, decimal_places=2)
    currency: str = "USD"
    shipping_address: str
    payment_method_id: uuid.UUID


# --- orders ---------------------------------------------------------------


class OrderPlaced(Message):
    TYPE = "order.placed"
    order_id: uuid.UUID
    user_id: int
    lines: list[ReservedLine] = Field(max_length=MAX_LINES)
    total: Money = Field(ge=0, le=MAX_ORDER_TOTAL, decimal_places=2)


class RequestPayment(Message):
    TYPE = "payment.requested"
    order_id: uuid.UUID
    user_id: int
    amount: Money = Field(gt=0, le=MAX_ORDER_TOTAL, decimal_places=2)
    currency: str
    payment_method_id: uuid.UUID


class RequestRefund(Message):
    TYPE = "payment.refund_requested"
    order_id: uuid.UUID
    user_id: int
    reason: str


class _OrderStatusChanged(Message):
    order_id: uuid.UUID
    user_id: int
    total: Money = Field(ge=0, le=MAX_ORDER_TOTAL, decimal_places=2)
    currency: str = "USD"
    occurred_at: datetime


class OrderConfirmed(_OrderStatusChanged):
    TYPE = "order.confirmed"
    lines: list[CheckoutLine]


class OrderCancelled(_OrderStatusChanged):
    TYPE = "order.cancelled"
    reason: Literal["out_of_stock", "payment_declined", "customer_request", "staff_request"]
    refund_due: bool


class OrderShipped(_OrderStatusChanged):
    TYPE = "order.shipped"


class OrderDelivered(_OrderStatusChanged):
    TYPE = "order.delivered"


# --- payments -------------------------------------------------------------


class PaymentSucceeded(Message):
    TYPE = "payment.succeeded"
    order_id: uuid.UUID
    charge_id: uuid.UUID
    amount: Money = Field(gt=0, le=MAX_ORDER_TOTAL, decimal_places=2)


class PaymentFailed(Message):
    TYPE = "payment.failed"
    order_id: uuid.UUID
    code: str
    reason: str


class PaymentRefunded(Message):
    TYPE = "payment.refunded"
    order_id: uuid.UUID
    charge_id: uuid.UUID
    refund_id: uuid.UUID
    amount: Money = Field(gt=0, le=MAX_ORDER_TOTAL, decimal_places=2)


# --- notifications --------------------------------------------------------


class NotificationSent(Message):
    TYPE = "notification.sent"
    notification_id: uuid.UUID
    user_id: int
    order_id: uuid.UUID | None
    kind: str
    subject: str
    body: str
    sent_at: datetime


class NotificationFailed(Message):
    TYPE = "notification.failed"
    notification_id: uuid.UUID
    user_id: int
    order_id: uuid.UUID | None
    kind: str
    error: str


def _all_message_types() -> dict[str, type[Message]]:
    found: dict[str, type[Message]] = {}
    pending = list(Message.__subclasses__())
    while pending:
        cls = pending.pop()
        pending.extend(cls.__subclasses__())
        if "TYPE" in cls.__dict__:
            found[cls.TYPE] = cls
    return found


#: routing key -> message class, for decoding what arrives.
MESSAGE_TYPES: dict[str, type[Message]] = _all_message_types()
