"""Writes of the catalog service: products, stock and the per-order reservations."""

from __future__ import annotations

import contextlib
import uuid
from collections import Counter
from decimal import Decimal, InvalidOperation
from typing import Iterable

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from shopsite import contracts
from shopsite.bus import statements
from shopsite.bus.statements import Add
from shopsite.errors import ApplicationError, Conflict, NotFound
from shopsite.limits import MAX_PRICE, MAX_STOCK
from shopsite.replicas import replica_upsert
from shopsite.transactions import message_transaction

from .images import PreparedImage
from .models import OutboxMessage, Product, Reservation, ReservationOutcome, UserRole

DB = "catalog"

CENT = Decimal("0.01")
MAX_DESCRIPTION = 5000


# --- products -------------------------------------------------------------


def product_create(
    *,
    sku: str,
    name: str,
    price: Decimal,
    stock: int,
    description: str = "",
    category: str = "",
    is_active: bool = True,
    image: PreparedImage | None = None,
) -> Product:
    sku, name = _required_text(sku, "SKU"), _required_text(name, "Name")
    price = _clean_price(price)
    if stock < 0:
        raise ApplicationError("Stock cannot be negative.")
    if stock > MAX_STOCK:
        raise ApplicationError(f"Stock cannot be above {MAX_STOCK}.")
    image_names = _image_store(image) if image is not None else ("", "")
    with transaction.atomic(using=DB):
        try:
            with transaction.atomic(using=DB):
                product = Product.objects.create(
                    sku=sku, name=name, price=price, stock_on_hand=stock,
                    description=description, category=category.strip(), is_active=is_active,
                    image=image_names[0], image_thumbnail=image_names[1],
                )
        except IntegrityError:
            raise Conflict(
                f"A product with SKU {sku} already exists (SKUs are compared without regard to case).", {"sku": sku}
            ) from None
        OutboxMessage.record(contracts.ProductPublished(**_product_fields(product)))
    return product


def product_update(
    *,
    product_id: int,
    name: str | None = None,
    description: str | None = None,
    category: str | None = None,
    price: Decimal | None = None,
    is_active: bool | None = None,
) -> Product:
    changes = {
        "name": None if name is None else _required_text(name, "Name"),
        "description": description,
        "category": None if category is None else category.strip(),
        "price": None if price is None else _clean_price(price),
        "is_active": is_active,
    }
    with transaction.atomic(using=DB):
        # Locked so that the version we publish is the one we wrote.
        product = _locked_product(product_id)
        changed = [field for field, value in changes.items() if value is not None and getattr(product, field) != value]
        if not changed:
            return product
        for field in changed:
            setattr(product, field, changes[field])
        product.version += 1
        product.save(update_fields=[*changed, "version", "updated_at"])
        OutboxMessage.record(contracts.ProductUpdated(**_product_fields(product)))
    return product


def product_image_set(*, product_id: int, image: PreparedImage) -> Product:
    """Give the product a new image (checked by ``images.image_prepare``); the cart hears of it.

    The image it had stays in storage: past orders and the emails about them still show it.
    """
    _product(product_id)  # before storing anything for a product that is not there
    full, thumbnail = _image_store(image)
    with transaction.atomic(using=DB):
        product = _locked_product(product_id)
        product.image.name, product.image_thumbnail.name = full, thumbnail
        product.version += 1
        product.save(update_fields=["image", "image_thumbnail", "version", "updated_at"])
        OutboxMessage.record(contracts.ProductUpdated(**_product_fields(product)))
    return product


def product_image_remove(*, product_id: int) -> Product:
    """The product goes back to its lettered tile; its files stay, as in ``product_image_set``."""
    with transaction.atomic(using=DB):
        product = _locked_product(product_id)
        if not product.image:
            return product
        product.image.name = product.image_thumbnail.name = ""
        product.version += 1
        product.save(update_fields=["image", "image_thumbnail", "version", "updated_at"])
        OutboxMessage.record(contracts.ProductUpdated(**_product_fields(product)))
    return product


def stock_adjust(*, product_id: int, quantity_delta: int) -> Product:
    """Staff add (positive) or remove (negative) stock available for sale."""
    if quantity_delta == 0:
        raise ApplicationError("The quantity change must not be zero.")
    with transaction.atomic(using=DB):
        updated = Product.objects.filter(
            pk=product_id,
            stock_on_hand__gte=max(0, -quantity_delta),
            stock_on_hand__lte=MAX_STOCK - max(0, quantity_delta),
        ).update(stock_on_hand=F("stock_on_hand") + quantity_delta, version=F("version") + 1, updated_at=timezone.now())
        product = _product(product_id)
        if not updated and quantity_delta > 0:
            raise ApplicationError(
                f"Cannot add {quantity_delta} to {product.name}: at most {MAX_STOCK} may be on hand.",
                {"product_id": product.id, "on_hand": product.stock_on_hand},
            )
        if not updated:
            raise ApplicationError(
                f"Cannot remove {-quantity_delta} of {product.name}: only {product.stock_on_hand} on hand.",
                {"product_id": product.id, "on_hand": product.stock_on_hand},
            )
        _record_stock_changed([product])
    return product


# --- reservations per order ----------------------------------------------


class _Shortfall(Exception):
    def __init__(self, product_id: int) -> None:
        self.product_id = product_id


def stock_reserve_for_order(*, order_id: uuid.UUID, lines: Iterable[tuple[int, int]]) -> None:
    """Reserve every line of the order, or none of them.

    Each line is taken with one conditional UPDATE, so two consumers can never
    both take the last unit, and stock never goes below zero. Products are
    taken in id order so concurrent reservations lock rows in the same order.
    """
    wanted = _merge_lines(lines)
    with message_transaction(DB):
        decision = _claim_decision(order_id)
        if decision is None:
            return
        try:
            # With several lines, a shortfall on a later one gives the earlier ones back: a savepoint (two
            # statements). One line is one guarded UPDATE, which takes all or nothing by itself.
            with transaction.atomic(using=DB) if len(wanted) > 1 else contextlib.nullcontext():
                taken = [_take(order_id, product_id, quantity) for product_id, quantity in wanted.items()]
        except _Shortfall as shortfall:
            _decide(decision, ReservationOutcome.Outcome.REJECTED)
            OutboxMessage.record(
                contracts.StockRejected(order_id=order_id, shortages=_shortages(wanted, shortfall.product_id))
            )
            return
        _decide(decision, ReservationOutcome.Outcome.RESERVED)
        OutboxMessage.record(contracts.StockReserved(order_id=order_id,
                                                     lines=_reserved_lines(r for r, _ in taken)))
        _record_stock_changed(product for _, product in taken)


def stock_release_for_order(*, order_id: uuid.UUID) -> None:
    """Put the order's stock back on sale: reserved units, or sold ones of a paid order."""
    with message_transaction(DB):
        _, cancelled_before_placed = ReservationOutcome.objects.get_or_create(
            order_id=order_id, defaults={"outcome": ReservationOutcome.Outcome.CANCELLED_BEFORE_PLACED}
        )
        if cancelled_before_placed:
            return
        released = []
        for reservation in Reservation.objects.filter(order_id=order_id).exclude(
            status=Reservation.Status.RELEASED
        ).order_by("product_id"):
            back_from = "stock_reserved" if reservation.status == Reservation.Status.RESERVED else "stock_sold"
            if _move(reservation, to=Reservation.Status.RELEASED, take=back_from, give="stock_on_hand"):
                released.append(reservation)
        if not released:
            return
        OutboxMessage.record(contracts.StockReleased(order_id=order_id, lines=_reserved_lines(released)))
        _record_stock_changed(Product.objects.filter(pk__in=[r.product_id for r in released]).order_by("pk"))


def stock_commit_for_order(*, order_id: uuid.UUID) -> None:
    """The order is paid: its reserved units are sold (what is available does not change)."""
    with message_transaction(DB):
        reserved = statements.select(Reservation, DB, order_id=order_id, status=Reservation.Status.RESERVED)
        for reservation in sorted(reserved, key=lambda r: r.product_id):
            _move(reservation, to=Reservation.Status.COMMITTED, take="stock_reserved", give="stock_sold")


# --- the replica of users' roles -------------------------------------------


def user_role_apply(
    *, user_id: int, email: str, is_staff: bool, role: str, is_active: bool = True, version: int = 0
) -> UserRole | None:
    """Store what accounts said about the user, unless we already know a newer version; the replica, or None."""
    values = {"email": email, "is_staff": is_staff, "role": role, "is_active": is_active}
    with message_transaction(DB):
        if not replica_upsert(UserRole, using=DB, key={"user_id": user_id}, version=version, values=values):
            return None
        return UserRole.objects.get(pk=user_id)


# --- helpers ----------------------------------------------------------------


def _required_text(value: str, label: str) -> str:
    value = (value or "").strip()
    if not value:
        raise ApplicationError(f"{label} is required.")
    return value


def _clean_price(price) -> Decimal:
    try:
        price = Decimal(str(price))
    except InvalidOperation:
        raise ApplicationError("The price must be a number.") from None
    if not price.is_finite() or price < 0:
        raise ApplicationError("The price must be zero or more.")
    if price > MAX_PRICE:
        raise ApplicationError(f"The price cannot be above {MAX_PRICE}.")
    if price != price.quantize(CENT):
        raise ApplicationError("The price has at most 2 decimal places.")
    return price.quantize(CENT)


def _product(product_id: int) -> Product:
    product = Product.objects.filter(pk=product_id).first()
    if product is None:
        raise NotFound("Unknown product.", {"product_id": product_id})
    return product


def _locked_product(product_id: int) -> Product:
    product = Product.objects.select_for_update().filter(pk=product_id).first()
    if product is None:
        raise NotFound("Unknown product.", {"product_id": product_id})
    return product


def _product_fields(product: Product) -> dict:
    return {
        "product_id": product.id,
        "sku": product.sku,
        "name": product.name,
        "price": product.price,
        "is_active": product.is_active,
        "available": product.stock_on_hand,
        "version": product.version,
        "image_url": product.image_url or None,
        "thumbnail_url": product.thumbnail_url or None,
    }


def _image_store(image: PreparedImage) -> tuple[str, str]:
    """Write the image and its thumbnail under a new random name; the names storage gave them.

    Files are written before the transaction that refers to them: one whose
    transaction then fails is left unused in storage, never the other way round.
    """
    stem = f"catalog/products/{uuid.uuid4().hex}"
    full = default_storage.save(f"{stem}.{image.full_extension}", ContentFile(image.full))
    thumbnail = default_storage.save(f"{stem}-thumb.{image.thumbnail_extension}", ContentFile(image.thumbnail))
    return full, thumbnail


def _record_stock_changed(products: Iterable[Product]) -> None:
    for product in products:
        OutboxMessage.record(
            contracts.StockChanged(product_id=product.id, available=product.stock_on_hand, version=product.version)
        )


def _merge_lines(lines: Iterable[tuple[int, int]]) -> dict[int, int]:
    wanted: Counter[int] = Counter()
    for product_id, quantity in lines:
        if quantity <= 0:
            raise ApplicationError("Quantities must be positive.", {"product_id": product_id})
        wanted[product_id] += quantity
    if not wanted:
        raise ApplicationError("An order needs at least one line.")
    return dict(sorted(wanted.items()))


def _claim_decision(order_id: uuid.UUID) -> ReservationOutcome | None:
    """The row recording this order's outcome, or None if it was decided already.

    One ``INSERT … ON CONFLICT DO NOTHING``: no savepoint to catch a clash, and
    on PostgreSQL a concurrent claim of the same order waits on the primary key
    until the first one commits, then finds it taken.
    """
    decision = ReservationOutcome(order_id=order_id, outcome=ReservationOutcome.Outcome.RESERVED)
    return decision if statements.create(DB, decision, unless_exists=("order_id",)) else None


def _decide(decision: ReservationOutcome, outcome: str) -> None:
    if decision.outcome != outcome:  # claimed as reserved: only a rejection changes the row
        decision.outcome = outcome
        decision.save(update_fields=["outcome"])


def _take(order_id: uuid.UUID, product_id: int, quantity: int) -> tuple[Reservation, Product]:
    """Reserve ``quantity`` of the product for the order: the reservation, and the product as it is now (its new
    stock and version, for ``stock.changed``: returned by the update itself, not read again)."""
    taken = statements.update_returning(
        Product, DB, where={"pk": product_id, "is_active": True, "stock_on_hand__gte": quantity},
        values={"stock_on_hand": Add(-quantity), "stock_reserved": Add(quantity), "version": Add(1),
                "updated_at": timezone.now()},
    )
    if not taken:
        raise _Shortfall(product_id)
    reservation = Reservation(order_id=order_id, product_id=product_id, quantity=quantity)
    statements.create(DB, reservation)  # its id is not read back: the saga needs the product and quantity
    return reservation, taken[0]


def _shortages(wanted: dict[int, int], failed_product_id: int) -> list[contracts.Shortage]:
    available = {p.id: p.available for p in Product.objects.filter(pk__in=wanted)}
    # The product that failed is always named, even if stock came back meanwhile.
    return [
        contracts.Shortage(product_id=product_id, requested=quantity, available=available.get(product_id, 0))
        for product_id, quantity in wanted.items()
        if quantity > available.get(product_id, 0) or product_id == failed_product_id
    ]


def _move(reservation: Reservation, *, to: str, take: str, give: str) -> bool:
    """Change the reservation's status and move its units between two stock columns, once."""
    moved = statements.update(Reservation, DB, where={"pk": reservation.pk, "status": reservation.status},
                              values={"status": to, "updated_at": timezone.now()})
    if not moved:
        return False
    quantity = reservation.quantity
    statements.update(Product, DB, where={"pk": reservation.product_id},
                      values={take: Add(-quantity), give: Add(quantity), "version": Add(1),
                              "updated_at": timezone.now()})
    return True


def _reserved_lines(reservations: Iterable[Reservation]) -> list[contracts.ReservedLine]:
    return [contracts.ReservedLine(product_id=r.product_id, quantity=r.quantity) for r in reservations]
