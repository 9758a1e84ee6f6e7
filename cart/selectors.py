"""Reads of the cart service."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from .models import CartLine, Checkout, ProductReplica


@dataclass(frozen=True)
class CartLineView:
    product_id: int
    sku: str
    name: str
    unit_price: Decimal
    quantity: int
    line_total: Decimal
    available: int
    notice: str
    #: The product's image and thumbnail as the catalog published them; empty: none.
    image_url: str = ""
    thumbnail_url: str = ""


@dataclass(frozen=True)
class CartView:
    lines: list[CartLineView] = field(default_factory=list)
    total: Decimal = Decimal("0.00")
    #: How many items, counting each unit.
    count: int = 0


def cart_get(*, user_id: int) -> CartView:
    """The customer's cart, priced from what the catalog last told us."""
    lines = list(CartLine.objects.filter(cart__user_id=user_id).order_by("added_at", "id"))
    products = ProductReplica.objects.in_bulk([line.product_id for line in lines])
    views = [_line_view(line, products.get(line.product_id)) for line in lines]
    return CartView(
        lines=views,
        total=sum((view.line_total for view in views), Decimal("0.00")),
        count=sum(view.quantity for view in views),
    )


def _line_view(line: CartLine, product: ProductReplica | None) -> CartLineView:
    # A line always refers to a known product; the fallback only keeps the
    # page up if the replica was ever cleared by hand.
    price = product.price if product else Decimal("0.00")
    return CartLineView(
        product_id=line.product_id,
        sku=product.sku if product else "",
        name=product.name if product else f"Product {line.product_id}",
        unit_price=price,
        quantity=line.quantity,
        line_total=price * line.quantity,
        available=product.sellable if product else 0,
        notice=line.notice,
        image_url=product.image_url if product else "",
        thumbnail_url=product.thumbnail_url if product else "",
    )


def cart_is_empty(*, user_id: int) -> bool:
    return not CartLine.objects.filter(cart__user_id=user_id).exists()


def checkout_find(*, user_id: int, idempotency_key: str) -> Checkout | None:
    """The checkout this key already made, if any (a form submitted twice)."""
    return Checkout.objects.filter(user_id=user_id, idempotency_key=idempotency_key.strip()).first()

