"""The three messages of version 2 as the release before them read them: version 1, every field required or
defaulted as it was, and any field it did not know refused (``extra="forbid"``, read strictly).

Written from ``shopsite/contracts.py`` as it stood before cart.checked_out became version 2 (git: the first
parent of the merge of structured addresses, 9d29bf8^1).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field

from shopsite.contracts import ImageUrl
from shopsite.limits import MAX_LINES, MAX_ORDER_TOTAL, MAX_PRICE, MAX_QUANTITY


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class CheckoutLine(_Strict):
    product_id: int
    sku: str
    name: str
    unit_price: Decimal = Field(ge=0, le=MAX_PRICE, decimal_places=2)
    quantity: int = Field(gt=0, le=MAX_QUANTITY)
    image_url: ImageUrl | None = None
    thumbnail_url: ImageUrl | None = None


class CartCheckedOut(_Strict):
    checkout_id: uuid.UUID
    order_id: uuid.UUID
    user_id: int
    lines: list[CheckoutLine] = Field(min_length=1, max_length=MAX_LINES)
    total: Decimal = Field(ge=0, le=MAX_ORDER_TOTAL, decimal_places=2)
    currency: str = "USD"
    shipping_address: str
    payment_method_id: uuid.UUID


class _OrderStatusChanged(_Strict):
    order_id: uuid.UUID
    user_id: int
    total: Decimal = Field(ge=0, le=MAX_ORDER_TOTAL, decimal_places=2)
    currency: str = "USD"
    occurred_at: datetime


class OrderConfirmed(_OrderStatusChanged):
    lines: list[CheckoutLine]


class OrderShipped(_OrderStatusChanged):
    pass


#: type -> (the version that release knew, how it read it).
SHAPES: dict[str, tuple[int, type[BaseModel]]] = {
    "cart.checked_out": (1, CartCheckedOut),
    "order.confirmed": (1, OrderConfirmed),
    "order.shipped": (1, OrderShipped),
}
