"""Every message on the bus, declared once as a typed record.

Any service may import this module: it is the shared language of the shop.
Events are named in the past tense (``OrderPlaced``); the two commands are
imperative (``RequestPayment``, ``RequestRefund``). The routing key of a message
is its ``TYPE``. How a type may change is docs/messages.md: adding an optional
field changes nothing else; a change that breaks consumers bumps ``VERSION``,
and the previous version stays readable through an upcaster in ``UPCASTERS``
(a function from the old payload to the new one, applied by the envelope
before the payload is validated, so a message queued, retried or parked by the
previous release is still handled after an upgrade) and sendable through a
downcaster in ``DOWNCASTERS`` (the other way, for producers pinned to the
previous version while a rollout is under way: ``BUS_SEND_VERSIONS``).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Callable, ClassVar, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from .countries import COUNTRIES, country_name
from .limits import (
    ADDRESS_CITY_LENGTH, ADDRESS_LINE_LENGTH, ADDRESS_NAME_LENGTH, ADDRESS_POSTAL_CODE_LENGTH, ADDRESS_REGION_LENGTH,
    ADDRESS_TEXT_LENGTH, MAX_LINES, MAX_ORDER_TOTAL, MAX_PRICE, MAX_QUANTITY,
)
from .validators import has_control_characters

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


Payload = dict[str, Any]


class NotSendableAsPrevious(ValueError):
    """A downcaster's answer for a message the previous version cannot carry: it is sent as its own version."""


class Message(BaseModel):
    # Strict for what our own code builds: a misspelt field fails where it is written. What arrives is read
    # tolerantly: the envelope validates it with ``extra="ignore"``, which reaches the nested records too.
    model_config = ConfigDict(frozen=True, extra="forbid")

    TYPE: ClassVar[str]
    VERSION: ClassVar[int] = 1
    #: Each older version still read -> the function turning its payload into the next version's.
    UPCASTERS: ClassVar[dict[int, Callable[[Payload], Payload]]] = {}
    #: The previous version -> the function turning this version's payload into it, for a pinned producer.
    DOWNCASTERS: ClassVar[dict[int, Callable[[Payload], Payload]]] = {}


class _Record(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")  # as Message: strict to build, tolerant to read


# --- addresses ------------------------------------------------------------


def _one_line(value: str) -> str:
    if has_control_characters(value):
        raise ValueError("must not contain control characters such as line breaks or tabs")
    return value


def _known_country(code: str) -> str:
    if code not in COUNTRIES:
        raise ValueError(f"unknown country code {code!r}: use an ISO 3166-1 alpha-2 code such as DE or US")
    return code


def _one_line_of(max_length: int, *, required: bool = True):
    return Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1 if required else 0, max_length=max_length),
        AfterValidator(_one_line),
    ]


_Name = _one_line_of(ADDRESS_NAME_LENGTH)
_Line = _one_line_of(ADDRESS_LINE_LENGTH)
_OptionalLine = _one_line_of(ADDRESS_LINE_LENGTH, required=False)
_City = _one_line_of(ADDRESS_CITY_LENGTH)
_Region = _one_line_of(ADDRESS_REGION_LENGTH, required=False)
_PostalCode = _one_line_of(ADDRESS_POSTAL_CODE_LENGTH)
_Country = Annotated[str, AfterValidator(_known_country)]


#: Where the postal code follows the region on the city's line ("Springfield, IL 62701").
_CITY_REGION_POSTAL_CODE = frozenset({"US", "CA", "AU"})
#: Where the postal code has a line of its own under the town.
_POSTAL_CODE_LAST = frozenset({"GB", "IE", "IM", "JE", "GG"})


class Address(_Record):
    """A postal address, as a customer gave it: line2 and region may be empty, the rest may not."""

    name: _Name
    line1: _Line
    line2: _OptionalLine = ""
    city: _City
    region: _Region = ""
    postal_code: _PostalCode
    country: _Country = Field(description="ISO 3166-1 alpha-2, upper case", examples=["DE", "US"])

    def lines(self) -> list[str]:
        """The address as it is written on a parcel, the country's name last."""
        if self.country in _CITY_REGION_POSTAL_CODE:
            locality = f"{self.city}, {self.region}" if self.region else self.city
            town = [f"{locality} {self.postal_code}"]
        elif self.country in _POSTAL_CODE_LAST:
            town = [self.city, self.region, self.postal_code]
        else:
            town = [f"{self.postal_code} {self.city}", self.region]
        return [line for line in (self.name, self.line1, self.line2, *town, country_name(self.country)) if line]


class LegacyAddress(_Record):
    """An address written as one free text, as the shop took it before addresses had fields.

    Only orders from then, and ``cart.checked_out`` messages of version 1, have one: it is kept as it was
    written, never guessed into fields.
    """

    text: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=ADDRESS_TEXT_LENGTH)]

    def lines(self) -> list[str]:
        return [line.strip() for line in self.text.splitlines() if line.strip()]


ShippingAddress = Address | LegacyAddress


# --- accounts -------------------------------------------------------------


class _UserDetails(Message):
    user_id: int
    email: str
    name: str
    is_staff: bool
    role: Literal["customer", "merchant", "staff"]
    is_active: bool = True
    #: Raised by accounts with each message about this user, so replicas keep the newest; None (0) from before
    #: versions, see shopsite/replicas.py.
    version: int | None = Field(default=None, ge=1)


class UserRegistered(_UserDetails):
    TYPE = "user.registered"


class UserUpdated(_UserDetails):
    TYPE = "user.updated"


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


def _address_from_text(payload: Payload) -> Payload:
    """Version 1 carried the address as one free text: version 2 keeps that text as a LegacyAddress."""
    address = payload.get("shipping_address")
    if not isinstance(address, str):
        raise ValueError("version 1 carries the shipping address as a string")
    return {**payload, "shipping_address": {"text": address}}


def _address_as_text(payload: Payload) -> Payload:
    """Version 1 carries the address as one free text: the lines it is written in, one under the other.

    Lossy by nature (the consumer keeps it as a LegacyAddress, as it was written), so a producer is pinned to
    version 1 only while a rollout needs it.
    """
    address = payload["shipping_address"]
    text = address["text"] if "text" in address else "\n".join(Address.model_validate(address).lines())
    if len(text) > ADDRESS_TEXT_LENGTH:
        # Version 1 is read back as a LegacyAddress, which holds no more: rather than cut the address short,
        # the message goes as version 2, which a consumer still on version 1 parks until it is upgraded.
        raise NotSendableAsPrevious(f"the address written out is over {ADDRESS_TEXT_LENGTH} characters")
    return {**payload, "shipping_address": text}


class CartCheckedOut(Message):
    """The cart was checked out. Version 2: ``shipping_address`` is an Address (a LegacyAddress only when
    upcast from version 1, whose address was a string)."""

    TYPE = "cart.checked_out"
    VERSION = 2
    UPCASTERS = {1: _address_from_text}
    DOWNCASTERS = {1: _address_as_text}
    checkout_id: uuid.UUID
    order_id: uuid.UUID
    user_id: int
    lines: list[CheckoutLine] = Field(min_length=1, max_length=MAX_LINES)
    total: Money = Field(ge=0, le=MAX_ORDER_TOTAL, decimal_places=2)
    currency: str = "USD"
    shipping_address: ShippingAddress
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


#: Each order status's place in the checkout saga, sent as the ``version`` of the order status messages so
#: that replicas keep the furthest one. It orders every order's history because no transition goes back:
#: pending → awaiting payment → confirmed → shipped → delivered, and cancelled (from pending, awaiting
#: payment or confirmed) is never left. Unlike a count of transitions it is the same number whichever path
#: the order took (a free order skips awaiting payment) and whichever release sent the message; a consumer
#: places a message from before versions by it too.
ORDER_SAGA = {"pending": 0, "awaiting_payment": 1, "confirmed": 2, "shipped": 3, "delivered": 4, "cancelled": 5}


class _OrderStatusChanged(Message):
    order_id: uuid.UUID
    user_id: int
    total: Money = Field(ge=0, le=MAX_ORDER_TOTAL, decimal_places=2)
    currency: str = "USD"
    occurred_at: datetime
    #: The status's place in the saga (ORDER_SAGA): a later status has a higher one. None from before
    #: versions: the consumer places the status itself.
    version: int | None = Field(default=None, ge=0)


def _no_address(payload: Payload) -> Payload:
    """Version 1 did not say where the order goes."""
    return {"shipping_address": None, **payload}


def _without_address(payload: Payload) -> Payload:
    """Version 1 as the release before tolerant reading read it: no field for where the order goes, nor the
    status's ``version`` added since (its consumers refused any field they did not know; without it the
    consumer places the status itself)."""
    return {key: value for key, value in payload.items() if key not in {"shipping_address", "version"}}


class OrderConfirmed(_OrderStatusChanged):
    """Version 2 adds where the order goes (None when upcast from version 1), for the confirmation email."""

    TYPE = "order.confirmed"
    VERSION = 2
    UPCASTERS = {1: _no_address}
    DOWNCASTERS = {1: _without_address}
    lines: list[CheckoutLine]
    shipping_address: ShippingAddress | None


class OrderCancelled(_OrderStatusChanged):
    TYPE = "order.cancelled"
    reason: Literal["out_of_stock", "payment_declined", "customer_request", "staff_request"]
    refund_due: bool


class OrderShipped(_OrderStatusChanged):
    """Version 2 adds where the order goes (None when upcast from version 1), for the shipping email."""

    TYPE = "order.shipped"
    VERSION = 2
    UPCASTERS = {1: _no_address}
    DOWNCASTERS = {1: _without_address}
    shipping_address: ShippingAddress | None


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
