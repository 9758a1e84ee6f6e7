"""Writes of the cart service: the product replica, cart lines and checkouts."""

from __future__ import annotations

import copy
import logging
import uuid
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from shopsite import contracts
from shopsite.addresses import address_parse
from shopsite.bus import statements
from shopsite.errors import ApplicationError, NotFound
from shopsite.ids import short, uuid7
from shopsite.limits import MAX_LINES, MAX_ORDER_TOTAL, MAX_QUANTITY
from shopsite.replicas import replica_update, replica_upsert
from shopsite.transactions import message_transaction

from .models import Cart, CartLine, Checkout, CheckoutLine, OutboxMessage, ProductReplica

DB = "cart"

EMPTY_CART = "Your cart is empty"

log = logging.getLogger(__name__)

#: Why an order came back, by the reason of its ``order.cancelled``. Only the shop's own failures refill the
#: cart: an order the customer or staff cancelled was meant to go.
RESTORED_BECAUSE = {
    "out_of_stock": "part of it was out of stock",
    "payment_declined": "the payment was declined",
}


class ReplicaNotReady(Exception):
    """A stock change for a product whose publication has not reached us yet: retried later."""


# --- the replica of the catalog --------------------------------------------


def product_replica_apply(
    *,
    product_id: int,
    sku: str,
    name: str,
    price: Decimal,
    is_active: bool,
    available: int,
    version: int,
    image_url: str = "",
    thumbnail_url: str = "",
) -> ProductReplica | None:
    """Store what the catalog said, each part unless we already know a newer version of it.

    The details are guarded by ``version``, the availability by ``stock_version``
    (see ProductReplica): the replica, or None if the message was older than both.
    """
    key = {"product_id": product_id}
    details = {"sku": sku, "name": name, "price": price, "is_active": is_active,
               "image_url": image_url, "thumbnail_url": thumbnail_url}
    with message_transaction(DB):
        # Locked, so the notices compare with the row our write replaces.
        before = ProductReplica.objects.select_for_update().filter(pk=product_id).first()
        wrote_details = replica_upsert(ProductReplica, using=DB, key=key, version=version, values=details,
                                       created_with={"available": available, "stock_version": version})
        wrote_stock = replica_update(ProductReplica, using=DB, key=key, version=version,
                                     values={"available": available}, version_field="stock_version")
        if not (wrote_details or wrote_stock):
            return None
        return _replica_changed(before, ProductReplica.objects.get(pk=product_id))


def stock_replica_apply(*, product_id: int, available: int, version: int) -> ProductReplica | None:
    """Store a new availability, unless we already know a newer version of it.

    Unknown products raise, so the consumer retries: ignoring the change would
    leave the older availability of a later ``product.published`` in place.
    """
    with message_transaction(DB):
        before = statements.select_one(ProductReplica, DB, for_update=True, pk=product_id)
        if before is None:
            raise ReplicaNotReady(f"stock.changed for product {product_id} arrived before the product")
        written = replica_update(ProductReplica, using=DB, key={"product_id": product_id}, version=version,
                                 values={"available": available}, version_field="stock_version")
        if not written:
            return None
        after = copy.copy(before)  # the row is locked: it is what was read, with what was written
        for name, value in written.items():
            setattr(after, name, value)
        return _replica_changed(before, after)


def _replica_changed(before: ProductReplica | None, after: ProductReplica) -> ProductReplica:
    if before is not None:
        _notify_lines(before, after)
    return after


# --- cart lines -------------------------------------------------------------


def cart_item_add(*, user_id: int, product_id: int, quantity: int = 1) -> Cart:
    _check_quantity(quantity, minimum=1)
    with transaction.atomic(using=DB):
        product = _replica(product_id)
        cart = _locked_cart(user_id)
        line = cart.lines.filter(product_id=product_id).first()
        wanted = quantity + (line.quantity if line else 0)
        if wanted > MAX_QUANTITY:
            raise ApplicationError(
                f"You can have at most {MAX_QUANTITY} of {product.name} in your cart.", {"product_id": product_id}
            )
        _check_sellable(product, wanted)
        if line is None and cart.lines.count() >= MAX_LINES:
            raise ApplicationError(
                f"A cart holds at most {MAX_LINES} different products: check out or remove one first.",
                {"product_id": product_id},
            )
        if line is None:
            CartLine.objects.create(cart=cart, product_id=product_id, quantity=wanted)
        else:
            line.quantity, line.notice = wanted, ""
            line.save(update_fields=["quantity", "notice", "updated_at"])
        cart.save(update_fields=["updated_at"])
    return cart


def cart_item_set(*, user_id: int, product_id: int, quantity: int) -> Cart:
    """Set a line's quantity; zero removes it."""
    _check_quantity(quantity, minimum=0)
    with transaction.atomic(using=DB):
        cart = _locked_cart(user_id)
        line = _line(cart, product_id)
        if quantity == 0:
            line.delete()
        else:
            _check_sellable(_replica(product_id), quantity)
            line.quantity, line.notice = quantity, ""
            line.save(update_fields=["quantity", "notice", "updated_at"])
        cart.save(update_fields=["updated_at"])
    return cart


def cart_item_remove(*, user_id: int, product_id: int) -> Cart:
    with transaction.atomic(using=DB):
        cart = _locked_cart(user_id)
        _line(cart, product_id).delete()
        cart.save(update_fields=["updated_at"])
    return cart


def cart_notices_clear(*, user_id: int) -> None:
    """The customer has seen the notices on their cart."""
    with transaction.atomic(using=DB):
        CartLine.objects.filter(cart__user_id=user_id).exclude(notice="").update(notice="")


# --- after the checkout ------------------------------------------------------


def checkout_mark_placed(*, order_id: uuid.UUID) -> None:
    """The orders service has the order. The cart is not touched: it emptied itself at checkout, and what the
    customer put in since is theirs."""
    statements.update(Checkout, DB, where={"order_id": order_id, "placed_at__isnull": True},
                      values={"placed_at": timezone.now()})


def checkout_restore(*, order_id: uuid.UUID, user_id: int, reason: str) -> int:
    """Put the lines of an order cancelled for stock or payment back into its customer's cart; how many.

    Each line is merged with what the cart holds now (quantities added, up to ``MAX_QUANTITY``; a product
    that is not there yet only while the cart has fewer than ``MAX_LINES``) and says why it came back.
    Invariant: a checkout is restored at most once, whatever the reason and however often the message
    comes: the guarded update that sets ``restored_at`` is the one that decides, in the same transaction
    as the lines.
    """
    cause = RESTORED_BECAUSE.get(reason)
    if cause is None:
        return 0
    with message_transaction(DB):
        # The cart first, as a checkout locks it: the two never wait on each other the other way round.
        cart = _locked_cart(user_id)
        claimed = Checkout.objects.filter(order_id=order_id, user_id=user_id, restored_at__isnull=True).update(
            restored_at=timezone.now()
        )
        if not claimed:
            return 0
        checkout = Checkout.objects.get(order_id=order_id)
        lines = {line.product_id: line for line in cart.lines.all()}
        why = f"your order #{short(order_id)} was cancelled because {cause}."
        restored = sum(_line_restore(cart, lines, was, why=why) for was in checkout.lines.all())
        cart.save(update_fields=["updated_at"])
    return restored


# --- checkout ---------------------------------------------------------------


def cart_checkout(
    *, user_id: int, idempotency_key: str, payment_method_id: uuid.UUID | str, shipping_address: contracts.Address
) -> Checkout:
    """Turn the cart into a checkout and a ``cart.checked_out`` message; the cart is empty afterwards.

    The lines move into the checkout in the same transaction, so the customer may shop and check out
    again at once; if the order is cancelled for stock or payment they come back (``checkout_restore``).
    """
    idempotency_key = (idempotency_key or "").strip()
    if not idempotency_key or len(idempotency_key) > 100:
        raise ApplicationError("An idempotency key of 1 to 100 characters is required.")
    shipping_address = address_parse(shipping_address)
    payment_method_id = _uuid(payment_method_id)
    # The checkout, its lines and the outbox's row are written together as the transaction's last statement
    # (statements.inserts_held): nothing reads them before the commit.
    with transaction.atomic(using=DB), statements.inserts_held(DB):
        # Locking the cart first makes a concurrent retry with the same key
        # wait here, then find the checkout this one created (and a second
        # checkout under another key find the cart it emptied).
        cart = statements.select_one(Cart, DB, for_update=True, user_id=user_id)
        # A retry gets its checkout back, although the cart is empty by now.
        done = statements.select_one(Checkout, DB, user_id=user_id, idempotency_key=idempotency_key)
        if done is not None:
            return done
        # The cart's lines are taken out as they are read (one statement): they move into the checkout, and a
        # checkout refused below rolls back with them still in the cart.
        lines = _checkout_lines(cart)
        total = sum((line.unit_price * line.quantity for line in lines), Decimal("0.00"))
        # Every line within the limits gives a total within them; a cart filled before the
        # limits existed may not, and is refused here rather than failing the orders service.
        if len(lines) > MAX_LINES or total > MAX_ORDER_TOTAL:
            raise ApplicationError(
                f"An order holds at most {MAX_LINES} products and totals at most {MAX_ORDER_TOTAL}.",
                {"lines": len(lines), "total": str(total)},
            )
        checkout = Checkout(
            id=uuid7(), user_id=user_id, idempotency_key=idempotency_key, order_id=uuid7(), total=total
        )
        statements.create_later(DB, checkout)
        # What a cancelled order gives back (the product's image comes from the replica again then).
        kept = {"product_id", "sku", "name", "unit_price", "quantity"}
        statements.create_later(DB, *(CheckoutLine(checkout=checkout, **line.model_dump(include=kept)) for line in lines))
        statements.update(Cart, DB, where={"pk": cart.pk}, values={"updated_at": timezone.now()})
        OutboxMessage.record(
            contracts.CartCheckedOut(
                checkout_id=checkout.id, order_id=checkout.order_id, user_id=user_id, lines=lines, total=total,
                currency="USD", shipping_address=shipping_address, payment_method_id=payment_method_id,
            ),
            correlation_id=checkout.id,
        )
    return checkout


# --- helpers ----------------------------------------------------------------


def _check_quantity(quantity: int, *, minimum: int) -> None:
    if isinstance(quantity, bool) or not isinstance(quantity, int) or not minimum <= quantity <= MAX_QUANTITY:
        raise ApplicationError(f"The quantity must be a whole number from {minimum} to {MAX_QUANTITY}.")


def _replica(product_id: int) -> ProductReplica:
    product = ProductReplica.objects.filter(pk=product_id).first()
    if product is None:
        raise NotFound("Unknown product", {"product_id": product_id})
    return product


def _check_sellable(product: ProductReplica, quantity: int) -> None:
    extra = {"product_id": product.product_id, "available": product.sellable}
    if not product.is_active:
        raise ApplicationError(f"{product.name} is not available.", extra)
    if product.available == 0:
        raise ApplicationError(f"{product.name} is out of stock.", extra)
    if quantity > product.available:
        raise ApplicationError(f"Only {product.available} left of {product.name}.", extra)


def _locked_cart(user_id: int) -> Cart:
    # Serializes one customer's concurrent changes (PostgreSQL; SQLite writes
    # are serialized anyway).
    cart, _ = Cart.objects.select_for_update().get_or_create(user_id=user_id)
    return cart


def _line(cart: Cart, product_id: int) -> CartLine:
    line = cart.lines.filter(product_id=product_id).first()
    if line is None:
        raise NotFound("This product is not in your cart.", {"product_id": product_id})
    return line


def _checkout_lines(cart: Cart | None) -> list[contracts.CheckoutLine]:
    """The cart's lines as the checkout's, each checked against the replica; they leave the cart (the caller's
    transaction keeps them there if it fails)."""
    lines = statements.delete_returning(CartLine, DB, cart_id=cart.pk) if cart else []
    if not lines:
        raise ApplicationError(EMPTY_CART)
    lines.sort(key=lambda line: (line.added_at, line.id))
    products = {product.pk: product
                for product in statements.select(ProductReplica, DB, pk=tuple({line.product_id for line in lines}))}
    checkout_lines = []
    for line in lines:
        product = products.get(line.product_id)
        if product is None:
            raise ApplicationError("A product in your cart is no longer sold.", {"product_id": line.product_id})
        _check_sellable(product, line.quantity)
        checkout_lines.append(
            contracts.CheckoutLine(
                product_id=product.product_id, sku=product.sku, name=product.name,
                unit_price=product.price, quantity=line.quantity,
                image_url=product.image_url or None, thumbnail_url=product.thumbnail_url or None,
            )
        )
    return checkout_lines


def _uuid(value: uuid.UUID | str) -> uuid.UUID:
    try:
        return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
    except ValueError:
        raise ApplicationError("Unknown payment method.") from None


def _line_restore(cart: Cart, lines: dict[int, CartLine], was: CheckoutLine, *, why: str) -> bool:
    """Add a checked-out line back into ``lines`` (the cart's, by product), with a notice; False if it cannot fit."""
    line = lines.get(was.product_id)
    if line is None and len(lines) >= MAX_LINES:
        log.warning("cart %s is full: product %s of checkout %s not restored",
                    cart.pk, was.product_id, was.checkout_id)
        return False
    wanted = was.quantity + (line.quantity if line else 0)
    notice = f"{was.name} is back in your cart: {why}"
    if wanted > MAX_QUANTITY:
        notice += f" A cart holds at most {MAX_QUANTITY} of it."
    notice = notice[: CartLine._meta.get_field("notice").max_length]
    if line is None:
        lines[was.product_id] = CartLine.objects.create(
            cart=cart, product_id=was.product_id, quantity=min(wanted, MAX_QUANTITY), notice=notice
        )
    else:
        line.quantity, line.notice = min(wanted, MAX_QUANTITY), notice
        line.save(update_fields=["quantity", "notice", "updated_at"])
    return True


def _notify_lines(before: ProductReplica, after: ProductReplica) -> None:
    """Leave a notice on the cart lines of a product whose price or availability changed."""
    if after.price != before.price:
        statements.update(CartLine, DB, where={"product_id": after.product_id},
                          values={"notice": f"The price of {after.name} changed from {before.price} to {after.price}."})
    if after.sellable < before.sellable:
        if not after.is_active:
            notice = f"{after.name} is no longer available."
        elif after.available == 0:
            notice = f"{after.name} is out of stock."
        else:
            notice = f"Only {after.available} left of {after.name}."
        statements.update(CartLine, DB, where={"product_id": after.product_id, "quantity__gt": after.sellable},
                          values={"notice": notice})
